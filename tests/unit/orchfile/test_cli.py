"""`reconciler render` and `reconciler validate`, run in process (docs/cli.md,
"Commands", "Exit codes"): output, `FILE:LINE: message` errors on stderr, exit codes 0 and 1."""

from __future__ import annotations

import json

import pytest

from reconciler.cli import main

WEB = "ARG tag=1\nSERVICE web\nFROM nginx:${tag}\nENV TOKEN=hunter2\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder as the working directory, with a helper to write files in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ORCH_ARG_tag", raising=False)

    def write(name, text):
        (tmp_path / name).write_text(text, encoding="utf-8")
        return name

    return write


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- render ---------------------------------------------------------------------------


def test_render_prints_the_json_and_a_newline_and_exits_0(project, capsys):
    project("Orchfile", WEB)
    code, out, err = _run(capsys, "render")
    assert (code, err) == (0, "")
    assert out.endswith("}\n")
    assert json.loads(out)["services"][0]["image"] == "nginx:1"


def test_render_json_is_the_default_output(project, capsys):
    project("Orchfile", WEB)
    assert _run(capsys, "render")[1] == _run(capsys, "render", "-o", "json")[1]


def test_render_prints_env_values_as_the_user_wrote_them(project, capsys):
    project("Orchfile", WEB)
    assert json.loads(_run(capsys, "render")[1])["services"][0]["env"] == {"TOKEN": "hunter2"}


def test_render_yaml_prints_a_yaml_file_that_renders_to_the_same_json(project, capsys):
    project("Orchfile", WEB)
    code, yaml_text, _ = _run(capsys, "render", "--output", "yaml")
    project("stack.yaml", yaml_text)
    assert code == 0
    assert _run(capsys, "render", "stack.yaml")[1] == _run(capsys, "render")[1]


def test_render_reads_the_orchfile_of_the_working_directory_by_default(project, capsys):
    project("Orchfile", WEB)
    assert _run(capsys, "render")[0] == 0


def test_render_takes_files_as_positional_arguments_merged_left_to_right(project, capsys):
    project("base.orch", WEB)
    project("dev.orch", "SERVICE web\nFROM nginx:dev\n")
    code, out, _ = _run(capsys, "render", "base.orch", "dev.orch")
    assert (code, json.loads(out)["services"][0]["image"]) == (0, "nginx:dev")


def test_render_takes_files_with_repeated_f_merged_left_to_right(project, capsys):
    project("base.orch", WEB)
    project("dev.orch", "SERVICE web\nFROM nginx:dev\n")
    code, out, _ = _run(capsys, "render", "-f", "base.orch", "--file", "dev.orch")
    assert (code, json.loads(out)["services"][0]["image"]) == (0, "nginx:dev")


def test_render_files_given_explicitly_replace_the_default(project, capsys):
    project("Orchfile", "this is not an Orchfile\n")
    project("other.orch", WEB)
    assert _run(capsys, "render", "-f", "other.orch")[0] == 0


def test_render_arg_overrides_an_arg(project, capsys):
    project("Orchfile", WEB)
    code, out, _ = _run(capsys, "render", "--arg", "tag=2")
    assert (code, json.loads(out)["args"]) == (0, {"tag": "2"})


def test_render_arg_beats_the_environment(project, capsys, monkeypatch):
    project("Orchfile", WEB)
    monkeypatch.setenv("ORCH_ARG_tag", "env")
    out = _run(capsys, "render", "--arg", "tag=cli")[1]
    assert json.loads(out)["services"][0]["image"] == "nginx:cli"


def test_render_takes_an_arg_from_the_environment(project, capsys, monkeypatch):
    project("Orchfile", WEB)
    monkeypatch.setenv("ORCH_ARG_tag", "env")
    assert json.loads(_run(capsys, "render")[1])["services"][0]["image"] == "nginx:env"


def test_render_arg_is_repeatable(project, capsys):
    project("Orchfile", "ARG a=1\nARG b=1\n" + WEB)
    out = _run(capsys, "render", "--arg", "a=x", "--arg", "b=y")[1]
    assert json.loads(out)["args"] == {"a": "x", "b": "y", "tag": "1"}


def test_render_arg_without_an_equals_sign_is_a_one_line_error(project, capsys):
    project("Orchfile", WEB)
    code, out, err = _run(capsys, "render", "--arg", "tag")
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1
    assert "--arg" in err
    assert "Traceback" not in err


def test_render_of_an_invalid_file_prints_nothing_on_stdout_and_exits_1(project, capsys):
    project("Orchfile", "SERVICE web\nFORM nginx\n")
    code, out, err = _run(capsys, "render")
    assert (code, out, err) == (1, "", "Orchfile:2: unknown directive 'FORM'\n")


# --- validate -------------------------------------------------------------------------


def test_validate_of_a_valid_file_prints_nothing_and_exits_0(project, capsys):
    project("Orchfile", WEB)
    assert _run(capsys, "validate") == (0, "", "")


def test_validate_prints_each_error_on_its_own_line_and_exits_1(project, capsys):
    project("Orchfile", "SERVICE web\nFROM nginx\nEXPOSE 80\nENV BROKEN\n")
    code, out, err = _run(capsys, "validate")
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "Orchfile:3: unknown directive 'EXPOSE'",
        "Orchfile:4: invalid ENV format 'BROKEN', expected KEY=value",
    ]


def test_validate_names_the_file_as_the_user_gave_it(project, capsys, tmp_path):
    (tmp_path / "stacks").mkdir()
    project("stacks/dev.orch", "SERVICE web\nRUN ./web\nPUBLISH 80:80\n")
    err = _run(capsys, "validate", "stacks/dev.orch")[2]
    assert err == (
        "stacks/dev.orch:3: service 'web': PUBLISH is only valid with FROM (container mode), "
        "found at stacks/dev.orch:3 (C2)\n"
    )


def test_validate_names_the_overlay_an_error_is_in(project, capsys):
    project("Orchfile", WEB)
    project("dev.orch", "SERVICE web\nONESHOT often\n")
    err = _run(capsys, "validate", "-f", "Orchfile", "-f", "dev.orch")[2]
    assert err == "dev.orch:2: service 'web': ONESHOT expects 'true' or 'false', got 'often'\n"


def test_validate_accepts_a_yaml_file(project, capsys):
    project("stack.yaml", "services:\n  web:\n    image: nginx\n")
    assert _run(capsys, "validate", "stack.yaml") == (0, "", "")


def test_validate_reports_a_yaml_error_with_its_line(project, capsys):
    project("stack.yaml", "services:\n  web:\n    image: nginx\n    ports: [80]\n")
    assert _run(capsys, "validate", "stack.yaml") == (
        1,
        "",
        "stack.yaml:4: service 'web': unknown field 'ports'\n",
    )


def test_validate_without_an_orchfile_in_the_working_directory_exits_1(project, capsys):
    code, out, err = _run(capsys, "validate")
    assert (code, out) == (1, "")
    assert err.startswith("Orchfile")
    assert len(err.splitlines()) == 1


def test_validate_of_a_missing_file_names_it(project, capsys):
    code, _, err = _run(capsys, "validate", "nope.orch")
    assert code == 1
    assert err.startswith("nope.orch")


def test_validate_of_a_directory_is_a_one_line_error(project, capsys, tmp_path):
    (tmp_path / "folder").mkdir()
    code, _, err = _run(capsys, "validate", "folder")
    assert (code, len(err.splitlines())) == (1, 1)
    assert err.startswith("folder")


def test_validate_of_a_file_that_is_not_utf_8_is_a_one_line_error(project, capsys, tmp_path):
    (tmp_path / "Orchfile").write_bytes(b"SERVICE web\nFROM \xff\n")
    code, _, err = _run(capsys, "validate")
    assert (code, len(err.splitlines())) == (1, 1)
    assert err.startswith("Orchfile")


def test_validate_never_prints_a_traceback_for_a_bad_file(project, capsys):
    project("Orchfile", "\x00\x01 garbage\nSERVICE\nCLEAR\n${\n")
    code, _, err = _run(capsys, "validate")
    assert code == 1
    assert "Traceback" not in err


def test_validate_never_prints_an_env_value(project, capsys):
    project("Orchfile", "SERVICE web\nFROM nginx\nENV TOKEN=hunter2\nONESHOT yes\nUSER x\n")
    code, out, err = _run(capsys, "validate")
    assert code == 1
    assert "hunter2" not in out + err
