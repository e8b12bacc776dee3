"""MEMORY/CPUS/CPU_QUOTA → requests and limits; the limits a pod cannot set → warnings."""

from __future__ import annotations

import pytest

from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.resources import cpu_quantity, memory_quantity, resources
from reconciler.model.desired import ResourceLimits
from tests.unit.export.mapping import service


def _resources(**limits):
    findings = Findings()
    return resources(service("web", resources=ResourceLimits(**limits)), findings), findings


@pytest.mark.parametrize(
    ("size", "quantity"),
    [
        (64 << 20, "64Mi"),
        (1 << 30, "1Gi"),
        (1536 << 20, "1536Mi"),
        (1000000, "1000000"),
        (2048, "2Ki"),
    ],
)
def test_memory_is_written_in_the_largest_binary_unit_that_divides_it(size, quantity):
    assert memory_quantity(size) == quantity


@pytest.mark.parametrize(
    ("cores", "quantity"),
    [(0.5, "500m"), (2.0, "2"), (1.5, "1500m"), (0.3333, "333m"), (0.0001, "1m"), (0.25, "250m")],
)
def test_cpu_is_written_in_millicores_or_whole_cores(cores, quantity):
    assert cpu_quantity(cores) == quantity


def test_no_limits_means_no_resources_and_nothing_to_say():
    found, findings = _resources()
    assert found is None
    assert not findings.all()


def test_requests_equal_the_limits_as_one_host_reserved_them():
    found, _ = _resources(memory_bytes=64 << 20, cpus=0.5)
    assert found.limits == {"cpu": "500m", "memory": "64Mi"}
    assert found.requests == found.limits


def test_memory_alone_sets_memory_only():
    found, _ = _resources(memory_bytes=1 << 30)
    assert found.limits == {"memory": "1Gi"}


@pytest.mark.parametrize(
    ("limits", "directive"),
    [
        ({"limit_nofile": 1024}, Directive.LIMIT_NOFILE),
        ({"limit_nproc": 64}, Directive.LIMIT_NPROC),
        ({"tasks_max": 100}, Directive.TASKS_MAX),
        ({"io_weight": 500}, Directive.IO_WEIGHT),
    ],
)
def test_a_limit_a_pod_has_no_setting_for_is_a_warning(limits, directive):
    found, findings = _resources(**limits)
    (finding,) = findings.all()
    assert found is None
    assert (finding.severity, finding.directive) == (Severity.WARNING, directive)


def test_the_default_io_weight_is_no_warning():
    _, findings = _resources(io_weight=100)
    assert not findings.all()
