"""The desired state `run` keeps in force, reloaded on saves, and what it refuses.

Why this exists: a save is trusted only as far as it deserves. A save that does not parse
is reported (once per distinct error) and the last good state stays in force. A save
whose files changed again while they were read is not applied: the watcher fires again
for the newer content. A save that would remove every service of a running project (an
emptied file, a file with no SERVICE) is held: reported once, and applied only when the
user confirms with `reconciler apply` (or tears down with `reconciler down`), because
the cost of guessing wrong is the whole stack.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from reconciler.app.journal import Journal
from reconciler.app.loading import SourceIdentity
from reconciler.clock import Clock
from reconciler.errors import ControlError, InvalidOrchfile
from reconciler.model.desired import DesiredStack
from reconciler.model.journal import DesiredLoaded, SaveHeld, SaveRejected
from reconciler.model.log_limits import DEFAULT_LOG_LIMITS
from reconciler.model.observed import Observed
from reconciler.model.status import Load, RejectedSave

Loader = Callable[[], DesiredStack]
_Stamp = tuple[tuple[str, int, int, int], ...]


class DesiredSource:
    def __init__(
        self,
        *,
        load: Loader,
        identity: SourceIdentity,
        initial: DesiredStack,
        clock: Clock,
        journal: Journal,
    ) -> None:
        self._load = load
        self.identity = identity
        self._clock = clock
        self._journal = journal
        self.current = initial
        self.last_load = Load(at=clock.now(), digest=files_digest(initial.files))
        self.rejected: RejectedSave | None = None
        self._held_digest: str | None = None

    @property
    def watched(self) -> set[Path]:
        paths = set(self.current.files)
        for service in self.current.services:
            paths.update(service.env_files)
        return paths

    def reload(self, *, observed: Observed | None) -> bool:
        """Load a save; True when a new desired state is now in force."""
        before = _stamp(self.current.files)
        try:
            desired = self._load()
        except InvalidOrchfile as invalid:
            if _stamp(self.current.files) != before:
                return False  # rewritten while we read it: the newer save comes next
            self._reject(str(invalid.diagnostics[0]) if invalid.diagnostics else str(invalid))
            return False
        if _stamp(desired.files) != before:
            return False
        if observed is not None and (removed := removes_everything(desired, observed)):
            self._hold(desired, removed)
            return False
        return self._adopt(desired)

    def confirm(self, identity: SourceIdentity) -> bool:
        """`apply` with these files confirms their content, even one that removes every
        service; raises `InvalidOrchfile` for files that do not parse, and
        `ControlError` for other files than the ones this `run` watches."""
        if identity.network is not self.identity.network:
            raise ControlError(
                f"this `reconciler run` puts containers on --network "
                f"{self.identity.network.value}; apply was given --network "
                f"{identity.network.value}: stop `run` and start it with the mode you want"
            )
        stated = identity.log_limits
        if stated is not None and stated != (self.identity.log_limits or DEFAULT_LOG_LIMITS):
            in_force = self.identity.log_limits or DEFAULT_LOG_LIMITS
            raise ControlError(
                f"this `reconciler run` keeps logs at {in_force.describe()} per stream; apply "
                f"was given {stated.describe()}: stop `run` and start it with the limits you "
                "want"
            )
        if replace(identity, log_limits=None) != replace(self.identity, log_limits=None):
            raise ControlError(
                f"this `reconciler run` watches {' '.join(self.identity.files)}"
                f"{_args_text(self.identity.args)}; apply was given "
                f"{' '.join(identity.files)}{_args_text(identity.args)}: edit those files, or"
                " stop `run` first"
            )
        try:
            desired = self._load()
        except InvalidOrchfile as invalid:
            self._reject(str(invalid.diagnostics[0]) if invalid.diagnostics else str(invalid))
            raise
        return self._adopt(desired)

    def _adopt(self, desired: DesiredStack) -> bool:
        repaired = self.rejected is not None and not self.rejected.held
        self.rejected = None
        self._held_digest = None
        digest = files_digest(desired.files)
        changed = desired != self.current or digest != self.last_load.digest
        self.current = desired
        self.last_load = Load(at=self._clock.now(), digest=digest)
        if changed or repaired:
            self._journal.publish(
                DesiredLoaded(
                    at=self.last_load.at,
                    digest=digest,
                    services=len(desired.services),
                    repaired=repaired,
                )
            )
        return changed

    def _reject(self, error: str) -> None:
        if self.rejected is not None and self.rejected.error == error:
            return
        self._held_digest = None
        self.rejected = RejectedSave(at=self._clock.now(), error=error)
        self._journal.publish(SaveRejected(at=self.rejected.at, error=error))

    def _hold(self, desired: DesiredStack, removed: Sequence[str]) -> None:
        digest = files_digest(desired.files)
        if self._held_digest == digest:
            return
        self._held_digest = digest
        entry = SaveHeld(at=self._clock.now(), files=self.identity.files, services=tuple(removed))
        self.rejected = RejectedSave(at=entry.at, error=entry.line(), held=True)
        self._journal.publish(entry)


def removes_everything(desired: DesiredStack, observed: Observed) -> list[str]:
    """The services of a running project that `desired` would all remove; empty when it
    keeps at least one of them (or nothing runs)."""
    running = sorted({u.service for u in observed.units if u.project == desired.project})
    kept = {s.name for s in desired.services if not s.disabled}
    if not running or kept.intersection(running):
        return []
    return running


def files_digest(paths: Sequence[Path]) -> str:
    """A short digest of what the files hold now (missing files hash as empty)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:
            digest.update(b"\0missing")
    return digest.hexdigest()[:16]


def _stamp(paths: Sequence[Path]) -> _Stamp:
    stamps = []
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError:
            stamps.append((str(path), -1, -1, -1))
            continue
        stamps.append((str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(stamps)


def _args_text(args: Mapping[str, str]) -> str:
    return "".join(f" --arg {name}=…" for name in sorted(args))
