"""The protocol every driver implements; the controllers know drivers only through it.

One driver per `ServiceMode`: containers (containerd) and host processes. A *unit* is
what a driver keeps for one service: a container record, or a host process's record.
Its id is `<project>-<service>`. Every unit carries the labels of `reconciler.model.labels`
(project, service, config hash, bookkeeping), which is all the state there is.

Contract (the shared contract tests hold every driver to it):

- `observe` lists the project's units and their tasks/processes from scratch; a runtime
  that cannot be asked gives `Unreachable`, never an empty `Observed`.
- `inputs` gathers what the config hash covers beyond the Orchfile: the image digest
  (importing or pulling only when `fetch` is true; otherwise what is present, or
  `ImageMissing`; with `look_up`, a present image whose registry tag now names another
  one is `ImageMissing(moved=True)`: what `plan` must know of a pull) and the ENV_FILE
  contents. Errors are `ReconcilerError`s naming the service (a missing env file, an
  image that cannot be pulled).
- `create` makes the unit (not started) labelled with the fingerprint; it adopts a unit
  of ours that already has that fingerprint and refuses (`Conflict`) anything not ours.
- `start` starts the unit's process, replacing a stopped one; a running one is kept.
- `stop` ends the process (stop signal or STOP, TIMEOUT_STOP, then SIGKILL to all of
  it) and clears it, keeping the unit; `remove` also deletes the unit and what it owns.
  Both are idempotent and tolerate what is already gone.
- `reload` runs the service's RELOAD against its running process and takes on the new
  fingerprint; only host services have one (containers raise `ServiceConfigError`).
- `check` runs a health-check command in the unit's context; the exit code, or None on
  timeout. `annotate` sets (value) or removes (None) bookkeeping labels.
- `tidy` (every pass of a writer) and `release_project` (`down`) clear what belongs to
  the project but to no unit; `network_namespace` names where a loopback probe goes.
- `events` yields runtime events until cancelled, surviving runtime restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from reconciler.model.desired import DesiredService, ServiceMode
from reconciler.model.events import RuntimeEvent
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing, ServiceInputs
from reconciler.model.observed import Observation, Observed


class Driver(Protocol):
    @property
    def mode(self) -> ServiceMode: ...

    async def observe(self, project: str | None) -> Observation: ...

    async def inputs(
        self, service: DesiredService, *, fetch: bool, look_up: bool = False
    ) -> ServiceInputs | ImageMissing: ...

    async def create(self, service: DesiredService, fingerprint: Fingerprint) -> None: ...

    async def start(self, service: DesiredService) -> None: ...

    async def reload(self, service: DesiredService, fingerprint: Fingerprint) -> None: ...

    async def stop(self, unit_id: str, *, grace: timedelta) -> None: ...

    async def remove(self, unit_id: str, *, grace: timedelta) -> None: ...

    async def check(self, unit_id: str, command: str, *, limit: timedelta) -> int | None: ...

    async def annotate(self, unit_id: str, labels: Mapping[str, str | None]) -> None: ...

    async def release_project(self) -> None:
        """Delete what the project holds beyond its units: the leases of work a killed
        reconciler left in flight, its network. Only `down` calls it, when no object of
        the project is wanted any more."""
        ...

    async def tidy(self, observed: Observed) -> None:
        """Finish what an interrupted create or remove left that no unit holds (a
        network attachment without its container); the writer calls it every pass."""
        ...

    def network_namespace(self, unit_id: str) -> Path | None:
        """The unit's own network namespace, when it has one (None: the host's); a probe
        of a loopback address is made from inside it."""
        ...

    def events(self) -> AsyncIterator[RuntimeEvent]: ...
