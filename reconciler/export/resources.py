"""MEMORY, CPUS and CPU_QUOTA → resource requests and limits; the other limits → warnings.

MEMORY is a hard limit in our runtime (the cgroup's memory.max) and CPUS/CPU_QUOTA a
quota (the model keeps the smaller of the two, in cores), which is exactly what a
container's `limits` enforce. The `requests` are set to the same amounts: the scheduler
then places the pod where that much is free, as one host had it, and a pod with both
set this way gets the Guaranteed QoS class. Memory is written in the largest binary unit
that divides it (`64Mi`), else in bytes; CPU in millicores (`500m`) or whole cores (`2`),
rounded to the nearest millicore and never below `1m`, Kubernetes' precision.

LIMIT_NOFILE, LIMIT_NPROC, TASKS_MAX and IO_WEIGHT have no setting in a pod: open files
and processes are the node's container runtime's, the pids limit is the kubelet's
(`podPidsLimit`), and there is no I/O weight. Each one set (IO_WEIGHT: other than 100,
the default) is a warning, and left out.
"""

from __future__ import annotations

from typing import Final

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.model.desired import DEFAULT_IO_WEIGHT, DesiredService

_BINARY_UNITS: Final = (("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30),
                        ("Mi", 1 << 20), ("Ki", 1 << 10))  # fmt: skip


def resources(service: DesiredService, findings: Findings) -> kube.ResourceRequirements | None:
    _warn_unmapped_limits(service, findings)
    limits = service.resources
    amounts: dict[str, str] = {}
    if limits.cpus is not None:
        amounts["cpu"] = cpu_quantity(limits.cpus)
    if limits.memory_bytes is not None:
        amounts["memory"] = memory_quantity(limits.memory_bytes)
    if not amounts:
        return None
    return kube.ResourceRequirements(requests=dict(amounts), limits=dict(amounts))


def memory_quantity(size: int) -> str:
    for suffix, unit in _BINARY_UNITS:
        if size % unit == 0:
            return f"{size // unit}{suffix}"
    return str(size)


def cpu_quantity(cores: float) -> str:
    millicores = max(1, round(cores * 1000))
    if millicores % 1000 == 0:
        return str(millicores // 1000)
    return f"{millicores}m"


def _warn_unmapped_limits(service: DesiredService, findings: Findings) -> None:
    limits = service.resources
    unmapped = (
        (Directive.LIMIT_NOFILE, limits.limit_nofile, "open files are the node's runtime's"),
        (Directive.LIMIT_NPROC, limits.limit_nproc, "processes are the node's runtime's"),
        (Directive.TASKS_MAX, limits.tasks_max, "the pids limit is the kubelet's podPidsLimit"),
        (
            Directive.IO_WEIGHT,
            None if limits.io_weight == DEFAULT_IO_WEIGHT else limits.io_weight,
            "Kubernetes has no I/O weight",
        ),
    )
    for directive, value, why in unmapped:
        if value is not None:
            findings.warn(
                service.name,
                directive,
                f"{directive.value} {value} has no pod-level setting ({why}); left out",
            )
