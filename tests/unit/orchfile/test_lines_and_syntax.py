"""Lines, comments, whitespace and the syntax errors of one file (docs/orchfile.md,
"Reading order: four stages", "File-level directives" and "Service directives"), with
the reference's exact messages."""

from __future__ import annotations

import pytest

CONTAINER = "SERVICE web\nFROM nginx\n"


# --- lines ----------------------------------------------------------------------------


def test_comment_and_blank_lines_are_ignored(service):
    text = "# a stack\n\n   \nSERVICE web\n# the image\nFROM nginx\n\n"
    assert service(text)["image"] == "nginx"


def test_an_indented_comment_is_still_a_comment(service):
    assert "workdir" not in service("SERVICE web\n    # WORKDIR /srv\nFROM nginx\n")


def test_indentation_is_allowed(service):
    assert service("  SERVICE web\n\tFROM nginx\n    WORKDIR /srv\n")["workdir"] == "/srv"


def test_a_hash_later_on_a_line_is_data_not_a_comment(service):
    web = service(CONTAINER + "CMD echo # not a comment\nENV COLOR=#ff0000\n")
    assert web["cmd"] == "echo # not a comment"
    assert web["env"] == {"COLOR": "#ff0000"}


def test_crlf_line_endings_are_accepted_and_stripped(service):
    web = service("SERVICE web\r\nFROM nginx\r\nWORKDIR /srv\r\n")
    assert (web["image"], web["workdir"]) == ("nginx", "/srv")


def test_the_value_is_the_rest_of_the_line_trimmed_with_inner_spacing_kept(service):
    web = service(CONTAINER + "CMD    serve  --port  80   \n")
    assert web["cmd"] == "serve  --port  80"


def test_a_tab_separates_the_directive_from_its_value(service):
    assert service("SERVICE web\nFROM\tnginx\n")["image"] == "nginx"


def test_unicode_white_space_separates_the_directive_from_its_value(service):
    assert service("SERVICE web\nFROM\u3000nginx\n")["image"] == "nginx"


def test_an_ascii_unit_separator_is_not_white_space(errors):
    assert errors("SERVICE web\nFROM\x1fnginx\n") == [
        "Orchfile:2: unknown directive 'FROM\x1fnginx'"
    ]


def test_directive_names_are_case_sensitive(errors):
    assert errors("SERVICE web\nfrom nginx\n") == ["Orchfile:2: unknown directive 'from'"]


def test_an_unknown_directive_is_an_error_with_file_and_line(errors):
    assert errors(CONTAINER + "EXPOSE 80\n") == ["Orchfile:3: unknown directive 'EXPOSE'"]


def test_a_service_directive_before_any_service_is_outside_of_a_service_block(errors):
    assert errors("FROM nginx\n" + CONTAINER) == [
        "Orchfile:1: directive 'FROM' outside of SERVICE block"
    ]


def test_an_empty_file_is_an_empty_stack(tree):
    assert tree("") == {"version": "1.0.0-rc", "args": {}, "services": []}


def test_a_file_of_only_comments_is_an_empty_stack(tree):
    assert tree("# nothing yet\n# really\n")["services"] == []


# --- ORCH_VERSION ---------------------------------------------------------------------


def test_orch_version_before_the_services_is_accepted(tree):
    assert tree("ORCH_VERSION 1.0.0-rc\n" + CONTAINER)["version"] == "1.0.0-rc"


def test_arg_lines_may_precede_orch_version(tree):
    assert tree("ARG tag=1\nORCH_VERSION 1.0.0-rc\n" + CONTAINER)["args"] == {"tag": "1"}


def test_orch_version_after_a_service_is_an_error(errors):
    assert errors(CONTAINER + "ORCH_VERSION 1.0.0-rc\n") == [
        "Orchfile:3: ORCH_VERSION must appear before any SERVICE"
    ]


def test_a_second_orch_version_names_the_line_of_the_first(errors):
    text = "ORCH_VERSION 1.0.0-rc\n\nORCH_VERSION 1.0.0-rc\n" + CONTAINER
    assert errors(text) == [
        "Orchfile:3: duplicate ORCH_VERSION directive (first defined at line 1)"
    ]


def test_orch_version_without_a_value_is_an_error(errors):
    assert errors("ORCH_VERSION\n" + CONTAINER) == [
        "Orchfile:1: ORCH_VERSION requires a version value"
    ]


@pytest.mark.parametrize("version", ["1.0.0", "1.0.0-RC", "0.2.0", "1.0.0-rc.1"])
def test_any_other_orch_version_is_unsupported_and_named(errors, version):
    assert errors(f"ORCH_VERSION {version}\n" + CONTAINER) == [
        f"Orchfile:1: unsupported Orchfile version '{version}' (this parser supports 1.0.0-rc)"
    ]


# --- ARG ------------------------------------------------------------------------------


def test_arg_without_a_value_is_an_error(errors):
    assert errors("ARG\n" + CONTAINER) == ["Orchfile:1: ARG requires name=value"]


def test_arg_without_an_equals_sign_is_an_error(errors):
    assert errors("ARG tag\n" + CONTAINER) == [
        "Orchfile:1: invalid ARG format 'tag', expected name=value"
    ]


def test_arg_without_a_name_is_an_error(errors):
    assert errors("ARG =1\n" + CONTAINER) == ["Orchfile:1: ARG name cannot be empty"]


def test_arg_splits_at_the_first_equals_sign(tree):
    assert tree("ARG opts=a=1,b=2\n" + CONTAINER)["args"] == {"opts": "a=1,b=2"}


def test_arg_with_an_empty_value_is_allowed(tree):
    assert tree("ARG suffix=\n" + CONTAINER)["args"] == {"suffix": ""}


def test_an_arg_after_the_services_is_still_collected(service):
    assert service("SERVICE web\nFROM nginx:${tag}\nARG tag=1.27\n")["image"] == "nginx:1.27"


def test_arg_errors_stop_the_file_before_its_other_syntax_errors(errors):
    assert errors("ARG broken\nSERVICE web\nFROM nginx\nEXPOSE 80\n") == [
        "Orchfile:1: invalid ARG format 'broken', expected name=value"
    ]


# --- SERVICE --------------------------------------------------------------------------


def test_service_without_a_name_is_an_error(errors):
    assert "Orchfile:1: SERVICE requires a name" in errors("SERVICE\nFROM nginx\n")


def test_service_takes_the_whole_rest_of_the_line_as_the_name(errors):
    assert errors("SERVICE web app\nFROM nginx\n")[0] == (
        "Orchfile:1: service name 'web app' contains invalid character ' ' "
        "(only lowercase alphanumeric and hyphens allowed)"
    )


@pytest.mark.parametrize("name", ["a", "web", "my-app", "a1", "a-b-c-123", "a" * 63])
def test_valid_service_names_are_accepted(service, name):
    assert service(f"SERVICE {name}\nFROM nginx\n")["name"] == name


def test_a_service_name_of_64_characters_is_too_long(errors):
    name = "a" * 64
    assert errors(f"SERVICE {name}\nFROM nginx\n")[0] == (
        f"Orchfile:1: service name '{name}' exceeds 63 character limit (64)"
    )


@pytest.mark.parametrize("name", ["1web", "-web", "Web"])
def test_a_service_name_must_start_with_a_lowercase_letter(errors, name):
    assert errors(f"SERVICE {name}\nFROM nginx\n")[0] == (
        f"Orchfile:1: service name '{name}' must start with a lowercase letter"
    )


@pytest.mark.parametrize(("name", "char"), [("my_app", "_"), ("myApp", "A"), ("web.1", ".")])
def test_a_service_name_with_another_character_is_rejected(errors, name, char):
    assert errors(f"SERVICE {name}\nFROM nginx\n")[0] == (
        f"Orchfile:1: service name '{name}' contains invalid character '{char}' "
        "(only lowercase alphanumeric and hyphens allowed)"
    )


def test_a_duplicate_service_name_names_the_line_of_the_first(errors):
    text = "SERVICE web\nFROM nginx\nSERVICE web\nFROM httpd\n"
    assert errors(text)[0] == ("Orchfile:3: duplicate service name 'web' (first defined at line 1)")


def test_directives_after_a_rejected_service_line_are_outside_of_a_service_block(errors):
    # The reference opens no block for a rejected SERVICE line.
    assert errors("SERVICE Web\nFROM nginx\n") == [
        "Orchfile:1: service name 'Web' must start with a lowercase letter",
        "Orchfile:2: directive 'FROM' outside of SERVICE block",
    ]


# --- values ---------------------------------------------------------------------------


@pytest.mark.parametrize("directive", ["FROM", "RUN", "WORKDIR", "ENV", "PUBLISH", "REQUIRES"])
def test_a_directive_without_a_value_is_an_error(errors, directive):
    assert errors(f"SERVICE web\n{directive}\n") == [f"Orchfile:2: {directive} requires a value"]


def test_a_second_from_in_one_block_is_a_duplicate(errors):
    assert errors(CONTAINER + "FROM httpd\n") == ["Orchfile:3: duplicate FROM directive"]


def test_a_second_run_in_one_block_is_a_duplicate(errors):
    assert errors("SERVICE job\nRUN a\nRUN b\n") == ["Orchfile:3: duplicate RUN directive"]


def test_env_without_an_equals_sign_is_an_error(errors):
    assert errors(CONTAINER + "ENV DEBUG\n") == [
        "Orchfile:3: invalid ENV format 'DEBUG', expected KEY=value"
    ]


def test_env_without_a_key_is_an_error(errors):
    assert errors(CONTAINER + "ENV =1\n") == ["Orchfile:3: ENV key cannot be empty"]


def test_publish_with_a_single_part_is_an_error(errors):
    assert errors(CONTAINER + "PUBLISH 8080\n")[0].startswith(
        "Orchfile:3: invalid PUBLISH format '8080'"
    )


def test_volume_without_a_colon_is_an_error(errors):
    assert errors(CONTAINER + "VOLUME data\n")[0].startswith(
        "Orchfile:3: invalid VOLUME format 'data'"
    )


# --- CLEAR ----------------------------------------------------------------------------


def test_clear_outside_of_a_service_block_is_an_error(errors):
    assert errors("CLEAR ENV\n" + CONTAINER) == ["Orchfile:1: CLEAR outside of SERVICE block"]


def test_clear_without_a_target_is_an_error(errors):
    assert errors(CONTAINER + "CLEAR\n") == ["Orchfile:3: CLEAR requires a target directive name"]


@pytest.mark.parametrize("target", ["FROM", "RUN", "CMD", "CPUS", "RESTART", "STDERR"])
def test_clear_of_a_scalar_directive_is_an_error(errors, target):
    assert errors(CONTAINER + f"CLEAR {target}\n") == [
        f"Orchfile:3: CLEAR cannot target scalar directive '{target}' "
        "(scalars override by last-wins)"
    ]


@pytest.mark.parametrize("target", ["EXPOSE", "env", "SERVICE"])
def test_clear_of_an_unknown_directive_is_an_error(errors, target):
    assert errors(CONTAINER + f"CLEAR {target}\n") == [
        f"Orchfile:3: CLEAR targets unknown directive '{target}'"
    ]


# --- reporting ------------------------------------------------------------------------


def test_every_syntax_error_of_a_file_is_reported_in_line_order(errors):
    text = "SERVICE web\nFROM nginx\nEXPOSE 80\nENV BROKEN\nFROM httpd\n"
    assert errors(text) == [
        "Orchfile:3: unknown directive 'EXPOSE'",
        "Orchfile:4: invalid ENV format 'BROKEN', expected KEY=value",
        "Orchfile:5: duplicate FROM directive",
    ]


def test_a_syntax_diagnostic_carries_the_file_and_line_as_a_location(diagnostics):
    (diagnostic,) = diagnostics(CONTAINER + "\n\nEXPOSE 80\n")
    assert (diagnostic.location.file, diagnostic.location.line) == ("Orchfile", 5)
    assert diagnostic.message == "unknown directive 'EXPOSE'"
