"""The YAML form of the model (docs/orchfile.md, "The YAML form"): printed by `render -o
yaml`, read as input alone or mixed with Orch files, converting without loss."""

from __future__ import annotations

import json

import pytest

from reconciler.orchfile.loader import SourceFile
from reconciler.orchfile.render import to_json
from reconciler.orchfile.yaml_form import to_yaml

RICH = """\
ARG tag=1.27
ARG port=8080
SERVICE db
FROM postgres:16
VOLUME pgdata:/var/lib/postgresql/data
VOLUME ./init:/docker-entrypoint-initdb.d
ENV POSTGRES_PASSWORD=pw: with # and 'quotes'
ENV EMPTY=
ENV NUMBERISH=0123
ENV BOOLISH=yes
HEALTHCHECK pg_isready
READINESS_TIMEOUT 30s
SERVICE web
FROM nginx:${tag}
ENTRYPOINT /docker-entrypoint.sh
CMD nginx -g 'daemon off;'
PUBLISH 127.0.0.1:${port}:80
PUBLISH ::1:8443:443
PUBLISH 9000:9000
REQUIRES db
AFTER cache
ENV_FILE ./web.env
WORKDIR /usr/share/nginx
RESTART on-failure
RESTART_DELAY 2s
START_LIMIT_BURST 3
START_LIMIT_INTERVAL 1m
TIMEOUT_START 20s
TIMEOUT_STOP 5s
MEMORY 512M
CPUS 1.5
CPU_QUOTA 150%
LIMIT_NOFILE 65536
LIMIT_NPROC 512
TASKS_MAX 128
IO_WEIGHT 500
STDOUT ${ORCH_STATE_DIR}/web.out
STDERR /var/log/web.err
RECREATE always
DISABLED false
SERVICE migrate
RUN ./migrate.sh --url "postgres://db:5432/app"
USER app
STOP kill -TERM $MAINPID
RELOAD kill -HUP $MAINPID
ONESHOT true
REQUIRES db
CPUS inf
"""


def _json(load, *texts):
    return to_json(load(*texts))


def test_orch_to_yaml_to_json_equals_orch_to_json(load):
    yaml_text = to_yaml(load(RICH))
    assert _json(load, SourceFile(name="stack.yaml", text=yaml_text)) == _json(load, RICH)


def test_the_yaml_form_is_the_json_tree_marked_as_already_expanded(load):
    from ruamel.yaml import YAML

    yaml_tree = YAML(typ="safe").load(to_yaml(load("SERVICE web\nFROM nginx\nCPUS 2\n")))
    assert yaml_tree.pop("expanded") is True
    assert yaml_tree == json.loads(_json(load, "SERVICE web\nFROM nginx\nCPUS 2\n"))


def test_a_hand_written_yaml_file_expands_its_args(load):
    text = "args:\n  tag: '2'\nservices:\n  web:\n    image: nginx:${tag}\n"
    rendered = json.loads(_json(load, SourceFile(name="stack.yaml", text=text)))
    assert rendered["services"][0]["image"] == "nginx:2"


def test_a_yaml_file_is_recognised_by_its_content_whatever_its_name(load):
    yaml_text = to_yaml(load(RICH))
    assert _json(load, yaml_text) == _json(load, RICH)


def test_a_yaml_file_may_start_with_a_document_marker(service):
    text = "---\nservices:\n  - name: web\n    image: nginx\n"
    assert service(text)["image"] == "nginx"


def test_yaml_services_may_be_a_mapping_from_name_to_body(tree):
    text = "services:\n  web:\n    image: nginx\n    requires: [db]\n  db:\n    image: pg\n"
    assert [(s["name"], s["image"]) for s in tree(text)["services"]] == [
        ("web", "nginx"),
        ("db", "pg"),
    ]


def test_yaml_args_are_declared_and_can_be_overridden(service):
    text = "args:\n  tag: '1'\nservices:\n  web:\n    image: nginx:${tag}\n"
    assert service(text, args={"tag": "2"})["image"] == "nginx:2"


def test_yaml_publish_and_volumes_may_use_the_orch_spelling(service):
    text = (
        "services:\n  web:\n    image: nginx\n"
        "    publish: ['::1:80:80']\n    volumes: ['d:/d:ro']\n"
    )
    web = service(text)
    assert web["publish"] == [{"address": "::1", "host": 80, "container": 80}]
    assert web["volumes"] == [{"source": "d", "destination": "/d:ro", "is_named": True}]


def test_yaml_restart_policy_takes_the_json_spelling(service):
    text = "services:\n  web:\n    image: nginx\n    restart:\n      policy: on_failure\n"
    assert service(text)["restart"] == {"policy": "on_failure"}


# --- mixed with Orch text -------------------------------------------------------------


def test_a_yaml_overlay_merges_over_an_orch_base(service):
    base = "SERVICE web\nFROM nginx:1\nENV A=1\nENV B=1\nPUBLISH 8080:80\n"
    overlay = SourceFile(
        name="dev.yaml",
        text="services:\n  web:\n    image: nginx:2\n    env:\n      B: '2'\n"
        "    publish:\n      - host: 9090\n        container: 80\n",
    )
    web = service(base, overlay)
    assert (web["image"], web["env"], web["publish"]) == (
        "nginx:2",
        {"A": "1", "B": "2"},
        [{"host": 9090, "container": 80}],
    )


def test_an_orch_overlay_merges_over_a_yaml_base(service):
    base = SourceFile(name="base.yml", text="services:\n  - name: web\n    image: nginx:1\n")
    assert service(base, "SERVICE web\nFROM nginx:2\n")["image"] == "nginx:2"


def test_yaml_clear_empties_the_bases_lists(service):
    base = "SERVICE web\nFROM nginx\nENV A=1\nPUBLISH 80:80\nENV_FILE a.env\n"
    overlay = "services:\n  web:\n    clear: [ENV, PUBLISH]\n    env:\n      C: '3'\n"
    web = service(base, overlay)
    assert (web["env"], "publish" in web, web["env_files"]) == ({"C": "3"}, False, ["a.env"])


def test_a_yaml_overlay_may_switch_a_host_service_to_a_container(service):
    base = "SERVICE job\nRUN ./job\nUSER app\n"
    job = service(base, "services:\n  job:\n    image: jobimg\n")
    assert (job["mode"], "user" in job, "run_command" in job) == ("container", False, False)


def test_a_yaml_overlay_adds_new_services_after_the_bases(tree):
    stack = tree("SERVICE web\nFROM nginx\n", "services:\n  - name: cache\n    image: redis\n")
    assert [s["name"] for s in stack["services"]] == ["web", "cache"]


# --- errors ---------------------------------------------------------------------------


def test_invalid_yaml_syntax_is_an_error_with_file_and_line(diagnostics):
    text = "services:\n  web:\n    image: [nginx\n    cmd: x\n"
    (diagnostic,) = diagnostics(SourceFile(name="bad.yaml", text=text))
    assert diagnostic.location.file == "bad.yaml"
    assert diagnostic.location.line >= 3
    assert diagnostic.message.startswith("invalid YAML")


def test_an_unknown_service_field_is_an_error_at_its_line(errors):
    text = "services:\n  web:\n    image: nginx\n    ports: [80]\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:4: service 'web': unknown field 'ports'"
    ]


def test_an_unknown_top_level_key_is_an_error_at_its_line(errors):
    text = "services: {}\nnetworks: {}\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:2: unknown top-level key 'networks'"
    ]


def test_a_yaml_file_without_services_is_an_error(errors):
    assert errors(SourceFile(name="s.yaml", text="args: {}\n")) == [
        "s.yaml:1: a YAML Orchfile needs a 'services:' key"
    ]


def test_an_invalid_yaml_service_name_is_an_error_at_its_line(errors):
    text = "services:\n  web:\n    image: nginx\n  Bad_Name:\n    image: x\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:4: service name 'Bad_Name' must start with a lowercase letter"
    ]


def test_an_unsupported_yaml_version_is_an_error(errors):
    text = "version: 2.0.0\nservices: {}\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:1: unsupported Orchfile version '2.0.0' (this parser supports 1.0.0-rc)"
    ]


def test_an_invalid_port_in_yaml_is_a_service_error_at_its_line(errors):
    text = "services:\n  web:\n    image: nginx\n    publish:\n      - 99999:80\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:5: service 'web': invalid host port '99999' in PUBLISH"
    ]


def test_a_container_field_on_a_yaml_host_service_is_c2_at_its_line(errors):
    text = "services:\n  job:\n    run_command: ./job\n    cmd: x\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:4: service 'job': CMD is only valid with FROM (container mode), "
        "found at s.yaml:4 (C2)"
    ]


def test_an_unknown_clear_target_in_yaml_is_an_error(errors):
    text = "services:\n  web:\n    image: nginx\n    clear: [WORKDIR]\n"
    assert errors(SourceFile(name="s.yaml", text=text)) == [
        "s.yaml:4: CLEAR targets unknown directive 'WORKDIR'"
    ]


def test_errors_of_a_yaml_overlay_name_the_yaml_file(errors):
    overlay = SourceFile(name="dev.yaml", text="services:\n  web:\n    oneshot: often\n")
    assert errors("SERVICE web\nFROM nginx\n", overlay) == [
        "dev.yaml:3: service 'web': ONESHOT expects 'true' or 'false', got 'often'"
    ]


# --- without loss ---------------------------------------------------------------------


def test_an_arg_whose_value_names_another_arg_survives_the_yaml_round_trip(load):
    text = "ARG a=${b}\nARG b=deep\nSERVICE web\nFROM img\nCMD ${a}\nENV X=${a}\n"
    yaml_text = to_yaml(load(text))
    assert _json(load, SourceFile(name="s.yaml", text=yaml_text)) == _json(load, text)


@pytest.mark.parametrize("separator", ["\x85", "\u2028", "\u2029"])
def test_a_unicode_line_separator_inside_a_value_survives_the_yaml_round_trip(load, separator):
    text = f"SERVICE web\nFROM img\nCMD echo a{separator}b\n"
    yaml_text = to_yaml(load(text))
    assert _json(load, SourceFile(name="s.yaml", text=yaml_text)) == _json(load, text)
