"""What the commands that change a project end with, whichever process did the work.

Why this exists: `apply`, `restart` and `down` are done by the `reconciler run` holding
the project, or by the command itself; both paths, and the control API between them,
return these same values. They live apart from the engine so that a command talking to
`run` never loads the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.model.status import StatusReport


@dataclass(frozen=True, kw_only=True)
class DownResult:
    """`down`: what failed, what is left, or why nothing could be asked; and the named
    volumes it kept (without `--volumes`) or removed (with it)."""

    failures: tuple[str, ...]
    left: tuple[str, ...]
    unreachable: str | None = None
    kept_volumes: tuple[str, ...] = ()
    removed_volumes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """How an `apply` or `restart` through `run` ended, and the status at that moment."""

    report: StatusReport
    converged: bool
    timed_out: bool = False


@dataclass(frozen=True, kw_only=True)
class ApplyResult:
    """How `apply` (or `restart`) ended: the status then, and whether it succeeded."""

    report: StatusReport
    ok: bool
    timed_out: bool = False
