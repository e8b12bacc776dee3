"""Directives a pod has no place for: a warning each when set, silence at the defaults."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.notes import unmapped_directives
from reconciler.model.desired import CommandCheck, HttpCheck, ProjectPaths
from tests.unit.export.mapping import service

PATHS = ProjectPaths(project_dir=Path("/project"), state_dir=Path("/state"))


def _directives(**fields):
    findings = Findings()
    unmapped_directives(service("web", **fields), PATHS, findings)
    assert all(f.severity is Severity.WARNING for f in findings.all())
    return [f.directive for f in findings.all()]


def test_a_service_at_its_defaults_has_nothing_unmapped():
    assert _directives() == []


def test_recreate_always_is_a_warning():
    assert _directives(recreate_always=True) == [Directive.RECREATE]


def test_timeout_start_other_than_the_default_is_a_warning():
    assert _directives(timeout_start=timedelta(seconds=30)) == [Directive.TIMEOUT_START]


def test_log_files_other_than_the_defaults_are_warnings():
    assert _directives(stdout=Path("/var/log/a"), stderr=Path("/var/log/b")) == [
        Directive.STDOUT,
        Directive.STDERR,
    ]


@pytest.mark.parametrize(
    ("fields", "directive"),
    [
        ({"cmd": ("curl", "http://host.orch.internal:9000/")}, Directive.CMD),
        ({"entrypoint": ("ping", "host.orch.internal")}, Directive.ENTRYPOINT),
        ({"healthcheck": HttpCheck(url="http://host.orch.internal/")}, Directive.HEALTHCHECK),
        (
            {"healthcheck": CommandCheck(command="nc -z host.orch.internal 1")},
            Directive.HEALTHCHECK,
        ),
    ],
)
def test_naming_the_bridge_networks_host_is_a_warning(fields, directive):
    assert _directives(**fields) == [directive]
