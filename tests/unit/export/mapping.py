"""Small helpers for the mapping modules' unit tests: services without an Orchfile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.export.findings import Finding, Findings, Severity
from reconciler.export.labels import Labelling
from reconciler.model.desired import DesiredService, ProjectName
from tests.support import desired

LABELLING = Labelling(project=ProjectName("shop"), namespace=None)


def service(name: str, **fields: Any) -> DesiredService:
    """`tests.support.desired.service`, its logs where `desired.stack`'s state dir keeps
    them by default (so only a test that sets STDOUT or STDERR has them set)."""
    logs = {"stdout": Path(f"/state/logs/{name}.log"), "stderr": Path(f"/state/logs/{name}.err")}
    return desired.service(name, **{**logs, **fields})


def messages(findings: Findings, severity: Severity | None = None) -> list[str]:
    return [f.describe() for f in findings.all() if severity is None or f.severity is severity]


def only(findings: Findings) -> Finding:
    (finding,) = findings.all()
    return finding
