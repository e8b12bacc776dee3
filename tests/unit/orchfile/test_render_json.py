"""The JSON document as `orch parse` prints it (docs/orchfile.md, "The JSON form"): exact text,
field order, omissions, number formats."""

from __future__ import annotations

import pytest

from reconciler.orchfile.render import to_json

STACK = """\
ORCH_VERSION 1.0.0-rc
ARG tag=1.27

SERVICE db
FROM postgres:16
VOLUME pgdata:/var/lib/postgresql/data
ENV POSTGRES_PASSWORD=pw

SERVICE web
FROM nginx:${tag}
PUBLISH 127.0.0.1:8080:80
REQUIRES db
HEALTHCHECK http://localhost:8080/
RESTART on-failure
RESTART_DELAY 2s
CPUS 2

SERVICE migrate
RUN ./migrate.sh
USER app
ONESHOT true
AFTER db
"""

EXPECTED = """\
{
  "version": "1.0.0-rc",
  "args": {
    "tag": "1.27"
  },
  "services": [
    {
      "name": "db",
      "mode": "container",
      "image": "postgres:16",
      "volumes": [
        {
          "source": "pgdata",
          "destination": "/var/lib/postgresql/data",
          "is_named": true
        }
      ],
      "env": {
        "POSTGRES_PASSWORD": "pw"
      },
      "oneshot": false,
      "disabled": false,
      "recreate": "never",
      "restart": {
        "policy": "no"
      },
      "timeouts": {},
      "resources": {},
      "logging": {}
    },
    {
      "name": "web",
      "mode": "container",
      "image": "nginx:1.27",
      "publish": [
        {
          "address": "127.0.0.1",
          "host": 8080,
          "container": 80
        }
      ],
      "requires": [
        "db"
      ],
      "healthcheck": "http://localhost:8080/",
      "oneshot": false,
      "disabled": false,
      "recreate": "never",
      "restart": {
        "policy": "on_failure",
        "delay": "2s"
      },
      "timeouts": {},
      "resources": {
        "cpus": 2.0
      },
      "logging": {}
    },
    {
      "name": "migrate",
      "mode": "host",
      "run_command": "./migrate.sh",
      "user": "app",
      "after": [
        "db"
      ],
      "oneshot": true,
      "disabled": false,
      "recreate": "never",
      "restart": {
        "policy": "no"
      },
      "timeouts": {},
      "resources": {},
      "logging": {}
    }
  ]
}"""

CONTAINER_ORDER = [
    "name",
    "mode",
    "image",
    "entrypoint",
    "cmd",
    "publish",
    "volumes",
    "workdir",
    "env",
    "env_files",
    "requires",
    "after",
    "healthcheck",
    "readiness_timeout",
    "oneshot",
    "disabled",
    "recreate",
    "restart",
    "timeouts",
    "resources",
    "logging",
]

FULL_CONTAINER = """\
SERVICE dep
RUN true
SERVICE web
STDERR /e
STDOUT /o
IO_WEIGHT 100
TASKS_MAX 64
LIMIT_NPROC 32
LIMIT_NOFILE 1024
CPU_QUOTA 50%
CPUS 0.5
MEMORY 512M
TIMEOUT_STOP 5s
TIMEOUT_START 30s
START_LIMIT_INTERVAL 10s
START_LIMIT_BURST 3
RESTART_DELAY 1s
RESTART always
RECREATE always
DISABLED false
ONESHOT false
READINESS_TIMEOUT 60s
HEALTHCHECK true
AFTER dep
REQUIRES dep
ENV_FILE web.env
ENV A=1
WORKDIR /srv
VOLUME d:/d
PUBLISH 80:80
CMD serve
ENTRYPOINT /init
FROM nginx
"""


def test_a_small_stack_renders_to_the_exact_reference_text(load):
    assert to_json(load(STACK)) == EXPECTED


def test_an_empty_stack_renders_empty_args_and_services(load):
    assert to_json(load("")) == '{\n  "version": "1.0.0-rc",\n  "args": {},\n  "services": []\n}'


def test_container_fields_come_in_the_reference_order_whatever_the_file_order(tree):
    assert list(tree(FULL_CONTAINER)["services"][1]) == CONTAINER_ORDER


def test_host_fields_come_in_the_reference_order(tree):
    text = "SERVICE job\nRELOAD r\nSTOP s\nUSER u\nWORKDIR /w\nRUN ./job\n"
    assert list(tree(text)["services"][0]) == [
        "name",
        "mode",
        "run_command",
        "user",
        "stop_command",
        "reload_command",
        "workdir",
        *CONTAINER_ORDER[CONTAINER_ORDER.index("oneshot") :],
    ]


def test_nested_objects_come_in_the_reference_order(tree):
    web = tree(FULL_CONTAINER)["services"][1]
    assert list(web["restart"]) == ["policy", "delay", "start_limit_burst", "start_limit_interval"]
    assert list(web["timeouts"]) == ["start", "stop"]
    assert list(web["resources"]) == [
        "memory",
        "cpus",
        "cpu_quota",
        "limit_nofile",
        "limit_nproc",
        "tasks_max",
        "io_weight",
    ]
    assert list(web["logging"]) == ["stdout", "stderr"]
    assert list(web["volumes"][0]) == ["source", "destination", "is_named"]


def test_a_publish_entry_without_an_address_omits_it(tree):
    (web,) = tree("SERVICE web\nFROM nginx\nPUBLISH 80:80\n")["services"]
    assert list(web["publish"][0]) == ["host", "container"]


def test_a_publish_entry_with_an_address_prints_it_first(tree):
    (web,) = tree("SERVICE web\nFROM nginx\nPUBLISH 0.0.0.0:80:80\n")["services"]
    assert list(web["publish"][0]) == ["address", "host", "container"]


def test_cpus_is_always_printed_as_a_float(load):
    assert '"cpus": 2.0' in to_json(load("SERVICE web\nFROM nginx\nCPUS 2\n"))


def test_a_large_cpus_is_printed_in_full(load):
    assert '"cpus": 1000.0' in to_json(load("SERVICE web\nFROM nginx\nCPUS 1e3\n"))


def test_a_non_finite_cpus_is_printed_as_null(load):
    assert '"cpus": null' in to_json(load("SERVICE web\nFROM nginx\nCPUS inf\n"))


def test_booleans_and_integers_are_json_literals(load):
    text = to_json(load("SERVICE web\nFROM nginx\nONESHOT true\nLIMIT_NOFILE 1024\n"))
    assert '"oneshot": true' in text
    assert '"limit_nofile": 1024' in text


def test_non_ascii_text_is_printed_as_utf_8_not_escaped(load):
    assert '"GREETING": "grüß dich ☃"' in to_json(
        load("SERVICE web\nFROM nginx\nENV GREETING=grüß dich ☃\n")
    )


def test_quotes_and_backslashes_are_escaped(load):
    text = to_json(load('SERVICE web\nFROM nginx\nCMD echo "a\\b"\n'))
    assert '"cmd": "echo \\"a\\\\b\\""' in text


def test_env_values_are_revealed_in_the_rendered_json(load):
    assert '"TOKEN": "hunter2"' in to_json(load("SERVICE web\nFROM nginx\nENV TOKEN=hunter2\n"))


def test_the_json_has_no_trailing_newline_of_its_own(load):
    assert to_json(load("SERVICE web\nFROM nginx\n")).endswith("\n  ]\n}")


@pytest.mark.parametrize(
    ("value", "printed"),
    [
        (2.0, "2.0"),
        (0.5, "0.5"),
        (0.0001, "0.0001"),
        (5e-05, "0.00005"),
        (1e-06, "1e-6"),
        (1.5e-07, "1.5e-7"),
        (1e15, "1000000000000000.0"),
        (1e16, "1e16"),
        (1.5e16, "1.5e16"),
        (float("inf"), "null"),
    ],
)
def test_a_float_is_printed_as_serde_json_prints_it(value, printed):
    from reconciler.orchfile.render import _float

    assert _float(value) == printed
