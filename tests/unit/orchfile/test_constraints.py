"""The constraints C1 to C4 and the stages errors are reported in (docs/orchfile.md, "Reading
order: four stages" and "REQUIRES, AFTER"): syntax; then values and C1-C3; then cycles; then
REQUIRES naming a service that does not exist."""

from __future__ import annotations

import pytest

# --- C1: exactly one of FROM and RUN --------------------------------------------------


def test_a_service_with_both_from_and_run_names_both_lines_c1(errors):
    assert errors("SERVICE web\nFROM nginx\nRUN nginx -g daemon\n") == [
        "Orchfile:3: service 'web': cannot specify both FROM (Orchfile:2) and RUN (Orchfile:3) (C1)"
    ]


def test_a_service_with_neither_from_nor_run_is_an_error_at_its_service_line_c1(errors):
    assert errors("SERVICE ok\nRUN true\n\nSERVICE web\nWORKDIR /srv\n") == [
        "Orchfile:4: service 'web': must specify either FROM or RUN (C1)"
    ]


# --- C2 and C3: directives of the other mode ------------------------------------------


@pytest.mark.parametrize(
    "line", ["ENTRYPOINT /bin/sh", "CMD -c true", "PUBLISH 8080:80", "VOLUME data:/data"]
)
def test_a_container_only_directive_on_a_host_service_is_an_error_c2(errors, line):
    directive = line.split()[0]
    assert errors(f"SERVICE job\nRUN ./job\n{line}\n") == [
        f"Orchfile:3: service 'job': {directive} is only valid with FROM (container mode), "
        "found at Orchfile:3 (C2)"
    ]


@pytest.mark.parametrize("line", ["USER www-data", "STOP kill -TERM 1", "RELOAD kill -HUP 1"])
def test_a_host_only_directive_on_a_container_service_is_an_error_c3(errors, line):
    directive = line.split()[0]
    assert errors(f"SERVICE web\nFROM nginx\n{line}\n") == [
        f"Orchfile:3: service 'web': {directive} is only valid with RUN (host mode), "
        "found at Orchfile:3 (C3)"
    ]


def test_each_use_of_a_wrong_mode_directive_is_reported(errors):
    text = "SERVICE web\nFROM nginx\nUSER a\nUSER b\nSTOP x\n"
    assert [e.split(": ", 1)[0] for e in errors(text)] == [
        "Orchfile:3",
        "Orchfile:4",
        "Orchfile:5",
    ]


def test_a_wrong_mode_directive_with_an_invalid_value_is_still_reported_c2(errors):
    assert errors("SERVICE job\nRUN ./job\nPUBLISH 99999:80\n") == [
        "Orchfile:3: service 'job': invalid host port '99999' in PUBLISH",
        "Orchfile:3: service 'job': PUBLISH is only valid with FROM (container mode), "
        "found at Orchfile:3 (C2)",
    ]


@pytest.mark.parametrize(
    "line", ["WORKDIR /srv", "ENV A=1", "ENV_FILE a.env", "HEALTHCHECK true", "RECREATE always"]
)
def test_common_directives_are_valid_on_a_host_service(service, line):
    assert service(f"SERVICE job\nRUN ./job\n{line}\n")["mode"] == "host"


# --- C4: dependencies -----------------------------------------------------------------


def test_requires_naming_a_missing_service_is_an_error_naming_it(errors):
    assert errors("SERVICE web\nFROM nginx\nREQUIRES db cache\nSERVICE db\nFROM pg\n") == [
        "Orchfile:3: service 'web': REQUIRES references unknown service 'cache'"
    ]


def test_requires_may_name_a_service_defined_later_in_the_file(tree):
    stack = tree("SERVICE web\nFROM nginx\nREQUIRES db\nSERVICE db\nFROM pg\n")
    assert [s["name"] for s in stack["services"]] == ["web", "db"]


def test_after_may_name_a_service_that_does_not_exist(service):
    assert service("SERVICE web\nFROM nginx\nAFTER ghost\n")["after"] == ["ghost"]


def test_a_requires_cycle_is_an_error_naming_the_cycle(errors):
    text = "SERVICE a\nRUN x\nREQUIRES b\nSERVICE b\nRUN y\nREQUIRES a\n"
    (error,) = errors(text)
    assert "dependency cycle detected: a -> b -> a" in error


def test_an_after_cycle_is_an_error(errors):
    text = "SERVICE a\nRUN x\nAFTER b\nSERVICE b\nRUN y\nAFTER a\n"
    (error,) = errors(text)
    assert "dependency cycle detected: a -> b -> a" in error


def test_a_cycle_through_requires_and_after_together_is_an_error(errors):
    text = "SERVICE a\nRUN x\nREQUIRES b\nSERVICE b\nRUN y\nAFTER c\nSERVICE c\nRUN z\nAFTER a\n"
    (error,) = errors(text)
    assert "dependency cycle detected: a -> b -> c -> a" in error


def test_a_service_that_requires_itself_is_a_cycle(errors):
    (error,) = errors("SERVICE a\nRUN x\nREQUIRES a\n")
    assert "dependency cycle detected: a -> a" in error


def test_a_cycle_error_names_the_file_and_line_of_an_edge(diagnostics):
    text = "SERVICE a\nRUN x\nREQUIRES b\nSERVICE b\nRUN y\nREQUIRES a\n"
    (diagnostic,) = diagnostics(text)
    assert diagnostic.location.file == "Orchfile"
    assert diagnostic.location.line in (3, 6)


def test_a_diamond_is_not_a_cycle(tree):
    text = (
        "SERVICE a\nRUN x\nREQUIRES b c\n"
        "SERVICE b\nRUN x\nREQUIRES d\n"
        "SERVICE c\nRUN x\nAFTER d\n"
        "SERVICE d\nRUN x\n"
    )
    assert len(tree(text)["services"]) == 4


def test_an_after_edge_to_a_missing_service_closes_no_cycle(tree):
    text = "SERVICE a\nRUN x\nAFTER ghost\nSERVICE b\nRUN y\nAFTER a ghost\n"
    assert len(tree(text)["services"]) == 2


# --- stages ---------------------------------------------------------------------------


def test_syntax_errors_hide_every_later_stage(errors):
    text = "SERVICE web\nFROM nginx\nRUN x\nONESHOT yes\nREQUIRES ghost\nEXPOSE 80\n"
    assert errors(text) == ["Orchfile:6: unknown directive 'EXPOSE'"]


def test_value_and_mode_errors_of_every_service_are_reported_together(errors):
    text = (
        "SERVICE web\nFROM nginx\nONESHOT yes\nUSER root\n"
        "SERVICE job\nRUN ./job\nRESTART maybe\nCMD x\n"
        "SERVICE bare\nWORKDIR /\n"
    )
    assert errors(text) == [
        "Orchfile:3: service 'web': ONESHOT expects 'true' or 'false', got 'yes'",
        "Orchfile:4: service 'web': USER is only valid with RUN (host mode), "
        "found at Orchfile:4 (C3)",
        "Orchfile:7: service 'job': invalid RESTART value 'maybe', "
        "expected 'no', 'always', or 'on-failure'",
        "Orchfile:8: service 'job': CMD is only valid with FROM (container mode), "
        "found at Orchfile:8 (C2)",
        "Orchfile:9: service 'bare': must specify either FROM or RUN (C1)",
    ]


def test_value_errors_hide_cycles_and_missing_requires(errors):
    text = "SERVICE a\nRUN x\nREQUIRES b ghost\nCPUS lots\nSERVICE b\nRUN y\nREQUIRES a\n"
    assert errors(text) == ["Orchfile:4: service 'a': CPUS must be a number, got 'lots'"]


def test_a_c1_error_hides_cycles(errors):
    text = "SERVICE a\nREQUIRES b\nSERVICE b\nRUN y\nREQUIRES a\n"
    assert errors(text) == ["Orchfile:1: service 'a': must specify either FROM or RUN (C1)"]


def test_cycles_hide_missing_requires(errors):
    text = "SERVICE a\nRUN x\nREQUIRES b ghost\nSERVICE b\nRUN y\nREQUIRES a\n"
    (error,) = errors(text)
    assert "dependency cycle detected" in error


def test_a_syntax_error_in_an_overlay_hides_the_bases_value_errors(errors):
    base = "SERVICE web\nFROM nginx\nONESHOT yes\n"
    assert errors(base, "SERVICE web\nEXPOSE 80\n") == ["overlay1:2: unknown directive 'EXPOSE'"]


def test_a_cycle_is_reported_under_the_service_it_closes_on_at_the_closing_line(errors):
    text = "SERVICE a\nRUN x\nREQUIRES b\nSERVICE b\nRUN y\nREQUIRES a\n"
    assert errors(text) == [
        "Orchfile:6: service 'a': dependency cycle detected: a -> b -> a",
    ]
