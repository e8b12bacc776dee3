"""An in-memory driver: the `Driver` protocol without a runtime, for the controllers' tests.

Why it exists: the planner, restart policy and engine are specified by what they do to a
runtime, and a real one is slow, needs root and cannot be told "crash now" or "pretend
ten minutes passed". This fake keeps units (records with labels), their tasks (phase,
pid, exit code, exit time) and a tiny image store in dictionaries, and behaves as the
protocol's contract says the real drivers do:

- `observe` rebuilds everything from its tables; unreachable gives `Unreachable`;
- `create` adopts a unit of ours with the same config hash, refuses (`Conflict`) one
  with another hash and anything not ours; it needs the image (pulls it like the real
  driver would);
- `start` replaces a stopped task and keeps a running one; `stop` and `remove` are
  idempotent; a running task they end reports an exit, as containerd does;
- `check` answers with scripted exit codes; `annotate` sets or removes labels;
- `events` is an async iterator fed by what happens here, starting with `Resynced`.

Test controls say what a runtime would do behind the reconciler's back (`crash`,
`delete_container`, `delete_task`, `add_foreign`, `set_reachable`...) and every mutating
call is recorded with its arguments in `calls`. Time comes only from the injected clock,
so a task scripted to exit "after 30 s" exits when the test's virtual clock says so.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path

from reconciler.clock import Clock, SystemClock
from reconciler.errors import (
    Conflict,
    FailedPrecondition,
    NotFound,
    ReconcilerError,
    RuntimeUnavailable,
    ServiceConfigError,
)
from reconciler.model import labels
from reconciler.model.desired import DesiredService, ServiceMode, image_text
from reconciler.model.events import Resynced, RuntimeEvent, UnitDeleted, UnitExited
from reconciler.model.fingerprint import Fingerprint
from reconciler.model.inputs import ImageMissing, ServiceInputs
from reconciler.model.observed import (
    Observation,
    Observed,
    TaskPhase,
    Unreachable,
)
from reconciler.model.secret import Secret

from .fake_units import (
    FIRST_PID,
    MUTATIONS,
    SIGKILL_EXIT,
    SIGTERM_EXIT,
    Call,
    FakeImages,
    FakeTask,
    FakeUnit,
    ScriptedRun,
    observed_unit,
)


class FakeDriver:
    def __init__(
        self,
        *,
        project: str,
        mode: ServiceMode = ServiceMode.CONTAINER,
        clock: Clock | None = None,
        namespace: str = "orch",
        images: Mapping[str, str] | None = None,
    ) -> None:
        self._project = project
        self._mode = mode
        self._clock = clock or SystemClock()
        self.namespace = namespace
        self.units: dict[str, FakeUnit] = {}
        self.headless: dict[str, FakeTask] = {}
        self.images = FakeImages(registry=dict(images or {}), local=dict(images or {}))
        self.env_files: dict[Path, dict[str, str]] = {}
        self.calls: list[Call] = []
        self.checks: list[Call] = []
        self._reachable: str | None = None
        self._input_errors: dict[str, ReconcilerError] = {}
        # What a real driver's call can raise: our errors, and an OSError the host gave.
        self._always_failures: dict[tuple[str, str], ReconcilerError | OSError] = {}
        self._failures: dict[tuple[str, str], ReconcilerError | OSError] = {}
        self._runs: dict[str, ScriptedRun] = {}
        self._check_codes: dict[str, list[int | None]] = {}
        self._pids = itertools.count(FIRST_PID)
        self._subscribers: list[asyncio.Queue[RuntimeEvent]] = []

    # -- the protocol --------------------------------------------------------------------

    @property
    def mode(self) -> ServiceMode:
        return self._mode

    def unit_id(self, service: str) -> str:
        return labels.container_id(self._project, service)

    async def observe(self, project: str | None) -> Observation:
        if self._reachable is not None:
            return Unreachable(
                namespace=self.namespace, reason=self._reachable, observed_at=self._clock.now()
            )
        self._settle()
        units = tuple(
            observed_unit(unit, self._mode)
            for unit in self.units.values()
            if unit.ours and (project is None or unit.labels.get(labels.PROJECT) == project)
        )
        prefix = f"{project}-" if project is not None else ""
        return Observed(
            namespace=self.namespace,
            project=project,
            observed_at=self._clock.now(),
            units=units,
            headless_tasks=tuple(sorted(t for t in self.headless if t.startswith(prefix))),
        )

    async def inputs(
        self, service: DesiredService, *, fetch: bool, look_up: bool = False
    ) -> ServiceInputs | ImageMissing:
        self._require_reachable()
        if (error := self._input_errors.get(service.name)) is not None:
            raise error
        env_files = [self._env_file(service, path) for path in service.env_files]
        reference = image_text(service.image)
        if reference is None:
            return ServiceInputs(image_digest=None, env_files=env_files)
        digest = self.images.look(service, reference, fetch=fetch, look_up=look_up)
        if isinstance(digest, ImageMissing):
            return digest
        return ServiceInputs(image_digest=digest, env_files=env_files)

    async def create(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        unit_id = self.unit_id(service.name)
        self._record("create", unit_id, service=service.name, config_hash=fingerprint.config_hash)
        existing = self.units.get(unit_id)
        if existing is not None:
            if not existing.ours:
                raise Conflict(f"unit '{unit_id}' exists and is not the reconciler's")
            if existing.labels.get(labels.CONFIG_HASH) == fingerprint.config_hash:
                return
            raise Conflict(f"unit '{unit_id}' exists with another configuration")
        reference = image_text(service.image)
        digest = "" if reference is None else self.images.present_or_pull(service, reference)
        self.units[unit_id] = FakeUnit(
            id=unit_id,
            labels={
                labels.CONFIG_PARTS: fingerprint.parts_label(),
                **labels.container_labels(
                    project=self._project,
                    service=service.name,
                    config_hash=fingerprint.config_hash,
                    image_digest=digest,
                    stop_signal="SIGTERM",
                ),
            },
            image=reference or "",
            created_at=self._clock.now(),
        )

    async def start(self, service: DesiredService) -> None:
        unit_id = self.unit_id(service.name)
        self._record("start", unit_id, service=service.name)
        unit = self._ours(unit_id)
        if unit is None:
            raise NotFound(f"unit '{unit_id}' does not exist")
        if unit.task is not None and unit.task.phase is TaskPhase.RUNNING:
            return
        now = self._clock.now()
        task = FakeTask(phase=TaskPhase.RUNNING, pid=next(self._pids), started_at=now)
        if (run := self._runs.get(service.name)) is not None:
            task.exit_due = (now + run.after, run.code)
        unit.task = task

    async def reload(self, service: DesiredService, fingerprint: Fingerprint) -> None:
        """A host service's RELOAD: the unit takes on the new fingerprint."""
        unit_id = self.unit_id(service.name)
        self._record("reload", unit_id, service=service.name)
        unit = self._ours(unit_id)
        if unit is None:
            raise NotFound(f"unit '{unit_id}' does not exist")
        unit.labels[labels.CONFIG_HASH] = fingerprint.config_hash
        unit.labels[labels.CONFIG_PARTS] = fingerprint.parts_label()

    async def stop(self, unit_id: str, *, grace: timedelta) -> None:
        self._record("stop", unit_id, grace=grace)
        unit = self._ours(unit_id)
        if unit is not None:
            self._end_task(unit)

    async def remove(self, unit_id: str, *, grace: timedelta) -> None:
        self._record("remove", unit_id, grace=grace)
        unit = self._ours(unit_id)
        if unit is None:
            return
        self._end_task(unit)
        del self.units[unit_id]
        self._emit(UnitDeleted(unit_id=unit_id))

    async def check(self, unit_id: str, command: str, *, limit: timedelta) -> int | None:
        self._require_reachable()
        self._settle()
        self.checks.append(Call(method="check", unit_id=unit_id, args={"command": command}))
        unit = self._ours(unit_id)
        if unit is None or unit.task is None:
            raise NotFound(f"unit '{unit_id}' has no task")
        if unit.task.phase is not TaskPhase.RUNNING:
            raise FailedPrecondition(f"task of '{unit_id}' is not running")
        codes = self._check_codes.get(unit_id)
        if not codes:
            return 0
        return codes.pop(0) if len(codes) > 1 else codes[0]

    async def release_project(self) -> None:
        self._record("release_project", "")

    async def tidy(self, observed: Observed) -> None:
        self._record("tidy", "")

    def network_namespace(self, unit_id: str) -> Path | None:
        return None

    async def annotate(self, unit_id: str, changes: Mapping[str, str | None]) -> None:
        self._record("annotate", unit_id, labels=dict(changes))
        unit = self._ours(unit_id)
        if unit is None:
            return
        for key, value in changes.items():
            if value is None:
                unit.labels.pop(key, None)
            else:
                unit.labels[key] = value

    async def events(self) -> AsyncIterator[RuntimeEvent]:
        queue: asyncio.Queue[RuntimeEvent] = asyncio.Queue()
        self._subscribers.append(queue)
        try:
            yield Resynced()
            while True:
                yield await queue.get()
        finally:
            self._subscribers.remove(queue)

    # -- test controls: what happens behind the reconciler's back -------------------------

    def crash(
        self, service: str, code: int = 1, *, at: datetime | None = None, oom: bool = False
    ) -> None:
        """The service's running task exits with `code` (now, or at `at`); with `oom`,
        the kernel killed it for memory (code 137, as containerd reports it)."""
        unit = self._unit_of(service)
        task = unit.task
        if task is None or task.phase is not TaskPhase.RUNNING:
            raise AssertionError(f"{service} has no running task to crash")
        task.oom_killed = oom
        self._exit(unit, task, SIGKILL_EXIT if oom else code, at or self._clock.now())

    def run_then_exit(self, service: str, code: int, *, after: timedelta = timedelta(0)) -> None:
        """Every later start of `service` exits with `code` once `after` has passed."""
        self._runs[service] = ScriptedRun(code=code, after=after)

    def keep_running(self, service: str) -> None:
        self._runs.pop(service, None)

    def delete_task(self, service: str) -> None:
        unit = self._unit_of(service)
        unit.task = None

    def delete_container(self, service: str, *, keep_task: bool = False) -> None:
        """The record goes; with `keep_task` its live task stays behind, headless."""
        unit = self._unit_of(service)
        del self.units[unit.id]
        if keep_task and unit.task is not None:
            self.headless[unit.id] = unit.task
        self._emit(UnitDeleted(unit_id=unit.id))

    def add_foreign(self, unit_id: str, unit_labels: Mapping[str, str] | None = None) -> None:
        """A unit someone else made: no `orch.managed-by` label."""
        self.units[unit_id] = FakeUnit(
            id=unit_id,
            labels=dict(unit_labels or {}),
            image="",
            created_at=self._clock.now(),
            task=FakeTask(
                phase=TaskPhase.RUNNING, pid=next(self._pids), started_at=self._clock.now()
            ),
        )

    def add_unit(
        self,
        service: str,
        *,
        project: str | None = None,
        config_hash: str = "0" * 16,
        running: bool = True,
        extra_labels: Mapping[str, str] | None = None,
    ) -> str:
        """A unit of ours that exists already (left by an earlier reconciler)."""
        owner = project or self._project
        unit_id = labels.container_id(owner, service)
        now = self._clock.now()
        self.units[unit_id] = FakeUnit(
            id=unit_id,
            labels={
                **labels.ours(),
                labels.PROJECT: owner,
                labels.SERVICE: service,
                labels.CONFIG_HASH: config_hash,
                **(extra_labels or {}),
            },
            image="",
            created_at=now,
            task=FakeTask(phase=TaskPhase.RUNNING, pid=next(self._pids), started_at=now)
            if running
            else None,
        )
        return unit_id

    def set_reachable(self, reachable: bool, *, reason: str = "connection refused") -> None:
        """An unreachable runtime: observe says so, every other call raises."""
        was_down = self._reachable is not None
        self._reachable = None if reachable else reason
        if reachable and was_down:
            self._emit(Resynced())

    def fail_inputs(self, service: str, error: ReconcilerError | None) -> None:
        """`inputs` for `service` raises `error` (None: stops doing so)."""
        if error is None:
            self._input_errors.pop(service, None)
        else:
            self._input_errors[service] = error

    def fail_always(self, method: str, unit_id: str, error: ReconcilerError | OSError) -> None:
        """Every later `method` call on `unit_id` raises `error` after being counted."""
        self._always_failures[(method, unit_id)] = error

    def fail_next(self, method: str, unit_id: str, error: ReconcilerError | OSError) -> None:
        """The next `method` call on `unit_id` raises `error` after being counted."""
        self._failures[(method, unit_id)] = error

    def publish_image(self, reference: str, digest: str) -> None:
        """The registry now resolves `reference` to `digest`; a pull fetches it."""
        self.images.registry[reference] = digest

    def forget_image(self, reference: str) -> None:
        """The image is no longer present locally."""
        self.images.local.pop(reference, None)

    def set_env_file(self, path: Path, content: Mapping[str, str]) -> None:
        self.env_files[path] = dict(content)

    def script_check(self, service: str, *codes: int | None) -> None:
        """Health checks of `service` answer `codes` in turn, then the last one forever."""
        self._check_codes[self.unit_id(service)] = list(codes)

    @property
    def mutations(self) -> list[Call]:
        return [c for c in self.calls if c.method in MUTATIONS]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def reset_calls(self) -> None:
        self.calls.clear()
        self.checks.clear()

    def task_of(self, service: str) -> FakeTask | None:
        self._settle()
        unit = self.units.get(self.unit_id(service))
        return unit.task if unit is not None else None

    # -- inside --------------------------------------------------------------------------

    def _record(self, method: str, unit_id: str, **args: object) -> None:
        self.calls.append(Call(method=method, unit_id=unit_id, args=args))
        self._require_reachable()
        self._settle()
        if (error := self._failures.pop((method, unit_id), None)) is not None:
            raise error
        if (error := self._always_failures.get((method, unit_id))) is not None:
            raise error

    def _require_reachable(self) -> None:
        if self._reachable is not None:
            raise RuntimeUnavailable(f"runtime unreachable: {self._reachable}")

    def _ours(self, unit_id: str) -> FakeUnit | None:
        unit = self.units.get(unit_id)
        if unit is not None and not unit.ours:
            raise Conflict(f"unit '{unit_id}' is not the reconciler's; it is left alone")
        return unit

    def _unit_of(self, service: str) -> FakeUnit:
        unit = self.units.get(self.unit_id(service))
        if unit is None:
            raise AssertionError(f"{service} has no unit")
        return unit

    def _settle(self) -> None:
        """Scripted exits whose time has come happen now, in time order."""
        now = self._clock.now()
        due = sorted(
            (unit.task.exit_due, unit.id)
            for unit in self.units.values()
            if unit.task is not None and unit.task.exit_due is not None
            if unit.task.exit_due[0] <= now
        )
        for (when, code), unit_id in due:
            unit = self.units[unit_id]
            assert unit.task is not None
            self._exit(unit, unit.task, code, when)

    def _exit(self, unit: FakeUnit, task: FakeTask, code: int, at: datetime) -> None:
        task.phase, task.exit_code, task.exited_at, task.exit_due = (
            TaskPhase.STOPPED,
            code,
            at,
            None,
        )
        self._emit(UnitExited(unit_id=unit.id, exit_code=code, exited_at=at))

    def _end_task(self, unit: FakeUnit) -> None:
        task = unit.task
        if task is not None and task.phase is TaskPhase.RUNNING:
            self._exit(unit, task, SIGTERM_EXIT, self._clock.now())
        unit.task = None

    def _emit(self, event: RuntimeEvent) -> None:
        if self._reachable is not None:
            return
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _env_file(self, service: DesiredService, path: Path) -> dict[str, Secret]:
        content = self.env_files.get(path)
        if content is None:
            raise ServiceConfigError(
                f"service '{service.name}': ENV_FILE {path}: No such file or directory"
            )
        return {key: Secret(value) for key, value in content.items()}
