"""Each service directive: the value it keeps and the JSON field it fills, and the
values the resolve stage rejects (docs/orchfile.md, "Service directives")."""

from __future__ import annotations

import pytest

from reconciler.model.secret import Secret

CONTAINER = "SERVICE s\nFROM img\n"
HOST = "SERVICE s\nRUN ./serve\n"
ALWAYS_PRESENT = ("oneshot", "disabled", "recreate", "restart", "timeouts", "resources", "logging")


def _at(tree, path):
    for key in path.split("."):
        tree = tree[key]
    return tree


# --- modes ----------------------------------------------------------------------------


def test_from_makes_a_container_service_with_that_image(service):
    web = service("SERVICE s\nFROM registry.local:5000/web:1.2\n")
    assert (web["mode"], web["image"]) == ("container", "registry.local:5000/web:1.2")


def test_from_keeps_a_local_path_as_written(service):
    assert service("SERVICE s\nFROM ./images/web.tar\n")["image"] == "./images/web.tar"


def test_run_makes_a_host_service_with_that_command(service):
    job = service("SERVICE s\nRUN /usr/bin/python3 -m http.server 8000\n")
    assert (job["mode"], job["run_command"]) == ("host", "/usr/bin/python3 -m http.server 8000")


def test_a_container_service_has_no_run_command_and_a_host_service_no_image(service):
    assert "run_command" not in service(CONTAINER)
    assert "image" not in service(HOST)


# --- string directives ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "directive", "path"),
    [
        (CONTAINER, "ENTRYPOINT", "entrypoint"),
        (CONTAINER, "CMD", "cmd"),
        (HOST, "USER", "user"),
        (HOST, "STOP", "stop_command"),
        (HOST, "RELOAD", "reload_command"),
        (CONTAINER, "WORKDIR", "workdir"),
        (HOST, "WORKDIR", "workdir"),
        (CONTAINER, "HEALTHCHECK", "healthcheck"),
        (CONTAINER, "READINESS_TIMEOUT", "readiness_timeout"),
        (CONTAINER, "RESTART_DELAY", "restart.delay"),
        (CONTAINER, "START_LIMIT_INTERVAL", "restart.start_limit_interval"),
        (CONTAINER, "TIMEOUT_START", "timeouts.start"),
        (CONTAINER, "TIMEOUT_STOP", "timeouts.stop"),
        (CONTAINER, "MEMORY", "resources.memory"),
        (CONTAINER, "CPU_QUOTA", "resources.cpu_quota"),
        (CONTAINER, "STDOUT", "logging.stdout"),
        (CONTAINER, "STDERR", "logging.stderr"),
    ],
)
def test_a_string_directive_keeps_its_value_as_written(service, base, directive, path):
    value = "some value: 90s, 512M, 150% & more"
    assert _at(service(base + f"{directive} {value}\n"), path) == value


@pytest.mark.parametrize(
    ("directive", "value"),
    [
        ("READINESS_TIMEOUT", "2m"),
        ("RESTART_DELAY", "1500ms"),
        ("TIMEOUT_STOP", "90s"),
        ("MEMORY", "4G"),
        ("CPU_QUOTA", "150%"),
    ],
)
def test_durations_sizes_and_percentages_stay_strings(service, directive, value):
    web = service(CONTAINER + f"{directive} {value}\n")
    assert value in str(web)


def test_healthcheck_may_be_a_url(service):
    url = "http://localhost:8080/healthz"
    assert service(CONTAINER + f"HEALTHCHECK {url}\n")["healthcheck"] == url


def test_a_repeated_scalar_takes_the_last_value(service):
    web = service(CONTAINER + "WORKDIR /a\nCMD one\nWORKDIR /b\nCMD two\n")
    assert (web["workdir"], web["cmd"]) == ("/b", "two")


# --- ENV ------------------------------------------------------------------------------


def test_env_fills_the_env_object(service):
    web = service(CONTAINER + "ENV A=1\nENV B=two words\n")
    assert web["env"] == {"A": "1", "B": "two words"}


def test_env_splits_at_the_first_equals_sign(service):
    assert service(CONTAINER + "ENV DSN=host=db user=x\n")["env"] == {"DSN": "host=db user=x"}


def test_env_with_an_empty_value_is_kept(service):
    assert service(CONTAINER + "ENV EMPTY=\n")["env"] == {"EMPTY": ""}


def test_a_repeated_env_key_takes_the_last_value_within_a_file(service):
    assert service(CONTAINER + "ENV A=1\nENV A=2\n")["env"] == {"A": "2"}


def test_env_values_are_secrets_in_the_document(load):
    (web,) = load(CONTAINER + "ENV TOKEN=hunter2\n").services
    assert isinstance(web.env["TOKEN"], Secret)
    assert web.env["TOKEN"].reveal() == "hunter2"


# --- list directives ------------------------------------------------------------------


def test_env_file_is_repeatable_and_kept_in_order(service):
    web = service(CONTAINER + "ENV_FILE ./b.env\nENV_FILE /etc/a.env\n")
    assert web["env_files"] == ["./b.env", "/etc/a.env"]


def test_env_file_takes_the_whole_rest_of_the_line(service):
    assert service(CONTAINER + "ENV_FILE ./my file.env\n")["env_files"] == ["./my file.env"]


def test_requires_takes_several_names_per_line_and_several_lines(load_three):
    assert load_three("REQUIRES a b\nREQUIRES c\n")["requires"] == ["a", "b", "c"]


def test_after_takes_several_names_per_line_and_several_lines(load_three):
    assert load_three("AFTER a  b\nAFTER c\n")["after"] == ["a", "b", "c"]


def test_repeated_requires_entries_within_a_file_are_kept_as_written(load_three):
    assert load_three("REQUIRES a b\nREQUIRES a\n")["requires"] == ["a", "b", "a"]


def test_after_may_name_a_service_that_does_not_exist(service):
    assert service(CONTAINER + "AFTER elsewhere\n")["after"] == ["elsewhere"]


@pytest.fixture
def load_three(tree):
    """The JSON of service `s`, with services a, b and c defined before it."""

    def load(lines):
        stack = "".join(f"SERVICE {n}\nRUN true\n" for n in "abc") + CONTAINER + lines
        return tree(stack)["services"][3]

    return load


# --- PUBLISH --------------------------------------------------------------------------


def test_publish_host_and_container_ports_are_integers(service):
    assert service(CONTAINER + "PUBLISH 8080:80\n")["publish"] == [{"host": 8080, "container": 80}]


def test_publish_with_an_address_keeps_it(service):
    assert service(CONTAINER + "PUBLISH 127.0.0.1:8080:80\n")["publish"] == [
        {"address": "127.0.0.1", "host": 8080, "container": 80}
    ]


def test_publish_takes_the_last_two_parts_as_ports_and_the_rest_as_address(service):
    assert service(CONTAINER + "PUBLISH ::1:8080:80\n")["publish"] == [
        {"address": "::1", "host": 8080, "container": 80}
    ]


def test_publish_accepts_the_whole_port_range(service):
    assert service(CONTAINER + "PUBLISH 0:65535\n")["publish"] == [{"host": 0, "container": 65535}]


def test_publish_accepts_a_leading_plus_like_rust_does(service):
    assert service(CONTAINER + "PUBLISH +8080:+80\n")["publish"] == [
        {"host": 8080, "container": 80}
    ]


def test_repeated_publish_entries_within_a_file_are_kept_as_written(service):
    assert service(CONTAINER + "PUBLISH 80:80\nPUBLISH 81:80\n")["publish"] == [
        {"host": 80, "container": 80},
        {"host": 81, "container": 80},
    ]


@pytest.mark.parametrize("port", ["65536", "-1", "http", "8o", "80.0", "1_000", "٨٠", ""])
def test_an_invalid_host_port_is_a_service_error(errors, port):
    assert errors(CONTAINER + f"PUBLISH {port}:80\n") == [
        f"Orchfile:3: service 's': invalid host port '{port}' in PUBLISH"
    ]


@pytest.mark.parametrize("port", ["65536", "-1", "x"])
def test_an_invalid_container_port_is_a_service_error(errors, port):
    assert errors(CONTAINER + f"PUBLISH 8080:{port}\n") == [
        f"Orchfile:3: service 's': invalid container port '{port}' in PUBLISH"
    ]


# --- VOLUME ---------------------------------------------------------------------------


def test_a_volume_source_without_a_path_prefix_is_a_named_volume(service):
    assert service(CONTAINER + "VOLUME pgdata:/var/lib/postgresql\n")["volumes"] == [
        {"source": "pgdata", "destination": "/var/lib/postgresql", "is_named": True}
    ]


@pytest.mark.parametrize("source", ["/srv/data", "./data", "../data", "${ORCH_DATA}/db"])
def test_a_volume_source_that_is_a_path_or_a_variable_is_not_named(service, source):
    (volume,) = service(CONTAINER + f"VOLUME {source}:/data\n")["volumes"]
    assert volume == {"source": source, "destination": "/data", "is_named": False}


def test_volume_splits_at_the_first_colon_only(service):
    (volume,) = service(CONTAINER + "VOLUME data:/data:ro\n")["volumes"]
    assert (volume["source"], volume["destination"]) == ("data", "/data:ro")


# --- booleans and enums ---------------------------------------------------------------


@pytest.mark.parametrize("directive", ["ONESHOT", "DISABLED"])
@pytest.mark.parametrize(("text", "value"), [("true", True), ("false", False)])
def test_a_boolean_directive_takes_true_or_false(service, directive, text, value):
    assert service(CONTAINER + f"{directive} {text}\n")[directive.lower()] is value


@pytest.mark.parametrize("directive", ["ONESHOT", "DISABLED"])
@pytest.mark.parametrize("text", ["yes", "True", "1", "on"])
def test_a_boolean_directive_rejects_anything_else(errors, directive, text):
    assert errors(CONTAINER + f"{directive} {text}\n") == [
        f"Orchfile:3: service 's': {directive} expects 'true' or 'false', got '{text}'"
    ]


@pytest.mark.parametrize("base", [CONTAINER, HOST])
@pytest.mark.parametrize("policy", ["always", "never"])
def test_recreate_takes_always_or_never_on_either_mode(service, base, policy):
    assert service(base + f"RECREATE {policy}\n")["recreate"] == policy


def test_an_invalid_recreate_value_is_a_service_error(errors):
    assert errors(CONTAINER + "RECREATE sometimes\n") == [
        "Orchfile:3: service 's': invalid RECREATE value 'sometimes', expected 'always' or 'never'"
    ]


@pytest.mark.parametrize(
    ("text", "policy"), [("no", "no"), ("always", "always"), ("on-failure", "on_failure")]
)
def test_restart_policy_is_printed_as_the_reference_spells_it(service, text, policy):
    assert service(CONTAINER + f"RESTART {text}\n")["restart"] == {"policy": policy}


@pytest.mark.parametrize("text", ["maybe", "on_failure", "unless-stopped", "No"])
def test_an_invalid_restart_value_is_a_service_error(errors, text):
    assert errors(CONTAINER + f"RESTART {text}\n") == [
        f"Orchfile:3: service 's': invalid RESTART value '{text}', "
        "expected 'no', 'always', or 'on-failure'"
    ]


# --- numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directive", "path", "text", "value"),
    [
        ("START_LIMIT_BURST", "restart.start_limit_burst", "3", 3),
        ("START_LIMIT_BURST", "restart.start_limit_burst", "4294967295", 4294967295),
        ("LIMIT_NOFILE", "resources.limit_nofile", "65536", 65536),
        ("LIMIT_NOFILE", "resources.limit_nofile", "18446744073709551615", 2**64 - 1),
        ("LIMIT_NPROC", "resources.limit_nproc", "+512", 512),
        ("TASKS_MAX", "resources.tasks_max", "0", 0),
        ("TASKS_MAX", "resources.tasks_max", "007", 7),
        ("IO_WEIGHT", "resources.io_weight", "10", 10),
        ("IO_WEIGHT", "resources.io_weight", "1000", 1000),
    ],
)
def test_an_integer_directive_is_printed_as_an_integer(service, directive, path, text, value):
    assert _at(service(CONTAINER + f"{directive} {text}\n"), path) == value


@pytest.mark.parametrize(
    ("directive", "text"),
    [
        ("START_LIMIT_BURST", "abc"),
        ("START_LIMIT_BURST", "-1"),
        ("START_LIMIT_BURST", "1.5"),
        ("START_LIMIT_BURST", "4294967296"),
        ("START_LIMIT_BURST", "5_000"),
        ("START_LIMIT_BURST", "٣"),
        ("LIMIT_NOFILE", "18446744073709551616"),
        ("LIMIT_NPROC", "1e3"),
        ("TASKS_MAX", "0x10"),
        ("IO_WEIGHT", "heavy"),
        ("IO_WEIGHT", "4294967296"),
    ],
)
def test_an_integer_directive_accepts_only_rust_unsigned_syntax(errors, directive, text):
    assert errors(CONTAINER + f"{directive} {text}\n") == [
        f"Orchfile:3: service 's': {directive} must be a number, got '{text}'"
    ]


@pytest.mark.parametrize("weight", [0, 9, 1001, 5000])
def test_io_weight_outside_10_to_1000_is_an_error(errors, weight):
    assert errors(CONTAINER + f"IO_WEIGHT {weight}\n") == [
        f"Orchfile:3: service 's': IO_WEIGHT must be 10-1000, got {weight}"
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("2", 2.0), ("0.5", 0.5), (".5", 0.5), ("1.", 1.0), ("1e3", 1000.0), ("+1.5E1", 15.0)],
)
def test_cpus_accepts_rust_float_syntax(service, text, value):
    assert service(CONTAINER + f"CPUS {text}\n")["resources"]["cpus"] == value


@pytest.mark.parametrize("text", ["inf", "-infinity", "NaN"])
def test_cpus_that_is_not_finite_is_accepted_and_printed_as_null(service, text):
    assert service(CONTAINER + f"CPUS {text}\n")["resources"] == {"cpus": None}


@pytest.mark.parametrize("text", ["two", "1_0", "0x10", "1e", "e3", "1.5.2", "½"])
def test_cpus_rejects_what_rust_does_not_parse(errors, text):
    assert errors(CONTAINER + f"CPUS {text}\n") == [
        f"Orchfile:3: service 's': CPUS must be a number, got '{text}'"
    ]


# --- defaults -------------------------------------------------------------------------


def test_a_minimal_service_prints_only_the_fields_that_are_always_there(service):
    assert service(CONTAINER) == {
        "name": "s",
        "mode": "container",
        "image": "img",
        "oneshot": False,
        "disabled": False,
        "recreate": "never",
        "restart": {"policy": "no"},
        "timeouts": {},
        "resources": {},
        "logging": {},
    }


def test_the_reconcilers_defaults_are_not_written_into_the_json(service):
    web = service(HOST)
    assert set(web) == {"name", "mode", "run_command", *ALWAYS_PRESENT}
    assert web["restart"] == {"policy": "no"}
    assert web["resources"] == {}
