"""ARGs and `${name}` expansion (docs/orchfile.md, "ARG" and "Built-in variables"): where
overrides come from, which values are expanded, and the reference's quirks."""

from __future__ import annotations

import pytest

STACK = "ARG tag=1.0\nSERVICE web\nFROM nginx:${tag}\n"


# --- where the value comes from -------------------------------------------------------


def test_the_arg_default_is_used_without_overrides(service):
    assert service(STACK)["image"] == "nginx:1.0"


def test_an_environment_override_beats_the_default(service):
    assert service(STACK, environ={"ORCH_ARG_tag": "2.0"})["image"] == "nginx:2.0"


def test_a_cli_override_beats_the_environment_and_the_default(service):
    web = service(STACK, args={"tag": "3.0"}, environ={"ORCH_ARG_tag": "2.0"})
    assert web["image"] == "nginx:3.0"


def test_the_environment_variable_name_is_case_sensitive(service):
    assert service(STACK, environ={"ORCH_ARG_TAG": "2.0"})["image"] == "nginx:1.0"


def test_an_override_may_set_an_empty_value(service):
    assert service(STACK, args={"tag": ""})["image"] == "nginx:"


def test_args_are_printed_after_overrides(tree):
    assert tree(STACK, args={"tag": "3.0"})["args"] == {"tag": "3.0"}


def test_overrides_of_undeclared_names_are_ignored(tree):
    stack = tree(
        "SERVICE web\nFROM nginx:${tag}\n",
        args={"tag": "3.0"},
        environ={"ORCH_ARG_tag": "2.0"},
    )
    assert stack["args"] == {}
    assert stack["services"][0]["image"] == "nginx:${tag}"


def test_the_last_file_that_defines_an_arg_gives_its_default(service):
    assert service(STACK, "ARG tag=9.9\n")["image"] == "nginx:9.9"


def test_an_overlay_that_does_not_define_an_arg_keeps_the_bases_default(service):
    assert service(STACK, "ARG other=x\n")["image"] == "nginx:1.0"


def test_the_last_definition_of_an_arg_in_one_file_wins(service):
    assert service("ARG tag=1\nARG tag=2\nSERVICE web\nFROM nginx:${tag}\n")["image"] == "nginx:2"


# --- where it is expanded -------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "path", "expected"),
    [
        ("CMD serve --port ${v}", "cmd", "serve --port 42"),
        ("WORKDIR /srv/${v}", "workdir", "/srv/42"),
        ("ENV PORT=${v}", "env", {"PORT": "42"}),
        ("ENV K${v}=x", "env", {"K42": "x"}),
        ("ENV_FILE ./${v}.env", "env_files", ["./42.env"]),
        ("PUBLISH ${v}:${v}", "publish", [{"host": 42, "container": 42}]),
        (
            "PUBLISH 10.0.0.${v}:80:80",
            "publish",
            [{"address": "10.0.0.42", "host": 80, "container": 80}],
        ),
        (
            "VOLUME vol${v}:/data/${v}",
            "volumes",
            [{"source": "vol42", "destination": "/data/42", "is_named": True}],
        ),
        ("HEALTHCHECK http://localhost:${v}/", "healthcheck", "http://localhost:42/"),
        ("TIMEOUT_STOP ${v}s", "timeouts", {"stop": "42s"}),
        ("START_LIMIT_BURST ${v}", "restart", {"policy": "no", "start_limit_burst": 42}),
        ("CPUS ${v}", "resources", {"cpus": 42.0}),
        ("IO_WEIGHT ${v}", "resources", {"io_weight": 42}),
        ("STDOUT /var/log/${v}.log", "logging", {"stdout": "/var/log/42.log"}),
    ],
)
def test_args_are_expanded_in_every_value(service, line, path, expected):
    assert service(f"ARG v=42\nSERVICE web\nFROM img\n{line}\n")[path] == expected


def test_args_are_expanded_in_run_and_host_directives(service):
    job = service("ARG u=app\nSERVICE job\nRUN ./job --as ${u}\nUSER ${u}\nSTOP stop ${u}\n")
    assert (job["run_command"], job["user"], job["stop_command"]) == (
        "./job --as app",
        "app",
        "stop app",
    )


def test_args_are_expanded_in_requires_names(tree):
    text = "ARG dep=db\nSERVICE db\nFROM pg\nSERVICE web\nFROM nginx\nREQUIRES ${dep}\n"
    assert tree(text)["services"][1]["requires"] == ["db"]


def test_args_are_expanded_in_booleans_and_enums_before_they_are_parsed(service):
    text = "ARG b=true\nARG r=on-failure\nSERVICE web\nFROM img\nONESHOT ${b}\nRESTART ${r}\n"
    web = service(text)
    assert (web["oneshot"], web["restart"]["policy"]) == (True, "on_failure")


def test_a_value_error_shows_the_expanded_value(errors):
    text = "ARG b=yes\nSERVICE web\nFROM img\nONESHOT ${b}\n"
    assert errors(text) == [
        "Orchfile:4: service 'web': ONESHOT expects 'true' or 'false', got 'yes'"
    ]


def test_an_override_can_make_a_valid_number_invalid(errors):
    text = "ARG n=5\nSERVICE web\nFROM img\nSTART_LIMIT_BURST ${n}\n"
    assert errors(text, args={"n": "five"}) == [
        "Orchfile:4: service 'web': START_LIMIT_BURST must be a number, got 'five'"
    ]


def test_a_missing_requires_target_is_named_after_expansion(errors):
    text = "ARG dep=ghost\nSERVICE web\nFROM nginx\nREQUIRES ${dep}\n"
    assert errors(text) == [
        "Orchfile:4: service 'web': REQUIRES references unknown service 'ghost'"
    ]


def test_expansion_happens_after_the_merge_with_the_overlays_args(service):
    assert service("SERVICE web\nFROM nginx:${tag}\n", "ARG tag=from-overlay\n")["image"] == (
        "nginx:from-overlay"
    )


# --- how it expands -------------------------------------------------------------------


def test_expansion_is_not_recursive(service):
    text = "ARG a=${b}\nARG b=deep\nSERVICE web\nFROM img\nCMD ${a}\n"
    assert service(text)["cmd"] == "${b}"


def test_arg_defaults_are_printed_unexpanded(tree):
    assert tree("ARG a=${b}\nARG b=deep\n")["args"] == {"a": "${b}", "b": "deep"}


def test_an_unknown_name_is_kept_as_written(service):
    web = service("SERVICE web\nFROM img\nSTDOUT ${ORCH_STATE_DIR}/logs/${SERVICE_NAME}.log\n")
    assert web["logging"]["stdout"] == "${ORCH_STATE_DIR}/logs/${SERVICE_NAME}.log"


def test_a_name_without_braces_is_never_expanded(service):
    assert service("ARG v=42\nSERVICE web\nFROM img\nCMD echo $v ${v}\n")["cmd"] == "echo $v 42"


def test_every_occurrence_in_a_value_is_expanded(service):
    assert service("ARG v=x\nSERVICE web\nFROM img\nCMD ${v}-${v}${v}\n")["cmd"] == "x-xx"


def test_an_unterminated_unknown_reference_is_closed_when_kept(service):
    assert service("SERVICE web\nFROM img\nCMD echo ${oops\n")["cmd"] == "echo ${oops}"


def test_an_unterminated_reference_to_an_arg_runs_to_the_end_and_is_expanded(service):
    assert service("ARG v=42\nSERVICE web\nFROM img\nCMD port=${v\n")["cmd"] == "port=42"


def test_an_empty_reference_is_kept(service):
    assert service("SERVICE web\nFROM img\nCMD a${}b\n")["cmd"] == "a${}b"


def test_a_dollar_before_a_reference_is_kept(service):
    assert service("ARG v=1\nSERVICE web\nFROM img\nCMD $${v}\n")["cmd"] == "$1"
