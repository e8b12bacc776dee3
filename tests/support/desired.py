"""Desired services and stacks for controller tests, without an Orchfile.

Defaults are the Orch spec's (the model's own); a test names only what it is about.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler.model.desired import (
    DesiredService,
    DesiredStack,
    ProjectName,
    ProjectPaths,
    RegistryImage,
    Restart,
    RestartSpec,
    ServiceMode,
    ServiceName,
)
from reconciler.model.secret import Secret

PROJECT: Final = "demo"
IMAGE: Final = "registry.test/app:1"


def service(name: str, **fields: Any) -> DesiredService:
    values: dict[str, Any] = {
        "name": ServiceName(name),
        "mode": ServiceMode.CONTAINER,
        "image": RegistryImage(reference=IMAGE),
        "stdout": Path(f"/state/logs/{name}.log"),
        "stderr": Path(f"/state/logs/{name}.log"),
    }
    if "env" in fields:
        fields["env"] = env(fields["env"])
    for key in ("requires", "after"):
        if key in fields:
            fields[key] = tuple(ServiceName(n) for n in fields[key])
    values.update(fields)
    return DesiredService(**values)


def env(values: Mapping[str, str]) -> MappingProxyType[str, Secret]:
    return MappingProxyType({k: Secret(v) for k, v in values.items()})


def restart(
    policy: Restart,
    *,
    delay: float = 1,
    burst: int = 5,
    interval: float = 10,
) -> RestartSpec:
    return RestartSpec(
        policy=policy,
        delay=timedelta(seconds=delay),
        start_limit_burst=burst,
        start_limit_interval=timedelta(seconds=interval),
    )


def stack(*services: DesiredService, project: str = PROJECT) -> DesiredStack:
    return DesiredStack(
        project=ProjectName(project),
        namespace="orch",
        files=(Path("/project/Orchfile"),),
        paths=ProjectPaths(project_dir=Path("/project"), state_dir=Path("/state")),
        services=services,
    )
