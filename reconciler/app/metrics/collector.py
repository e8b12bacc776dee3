"""`run`'s metrics: what happened, counted from the journal, and where the project
stands, read from the last pass when Prometheus scrapes.

Why both sources: a counter must see every happening exactly once (an action, an exit,
a restart), and the journal already says each one, typed and in order; as a listener
this sees every entry, none lost to a full queue. A gauge says what *is* (services
running, leaks, whether containerd answers), and the last pass already knows it: reading
that when scraped costs nothing between scrapes and can never disagree with `status`,
which reads the same pass.

Labels stay bounded: verbs, outcomes, drift kinds, states, leak classes, runtimes and
journal kinds are enums. Only restarts and exits are per service, and an exit's one
other label is its code (0-255) or `oom`. Everything is on a private registry, so
nothing registered process-wide by a library ends up in `run`'s answer.

Thread-safety: scrapes run on the HTTP server's thread. The counters lock; the last pass
is one immutable `PassDone` swapped whole, read once per scrape.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Iterator
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from reconciler import __version__
from reconciler.app.runner import PassDone
from reconciler.app.status import leaks_of
from reconciler.model.desired import ServiceMode
from reconciler.model.journal import ENTRY_TYPES, ActionFinished, Entry, TaskExited, kind_of
from reconciler.model.status import Drift, ServiceState, Verb

# A pass observes, plans and dispatches; its work runs in the background. Most take
# milliseconds; one that waits on a slow runtime takes seconds.
PASS_BUCKETS: Final = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
OUTCOMES: Final = ("succeeded", "failed", "retrying")
RUNTIME_NAMES: Final = {ServiceMode.CONTAINER: "containerd", ServiceMode.HOST: "host"}
LEAK_CLASSES: Final = ("tasks", "containers", "snapshots", "leases")


class RunMetrics:
    """Every metric `run` serves. `record` is its journal listener; `pass_done` and
    `stopping` make it a `RunListener`."""

    def __init__(self) -> None:
        # A `_created` twin of every series doubles each scrape for what only OpenMetrics
        # readers use. Process-wide, but `run` is prometheus-client's only user here.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped in the library
        self.registry = CollectorRegistry()
        registry = self.registry
        build = Gauge(
            "reconciler_build_info",
            "Always 1; the reconciler's version and Python's as labels",
            ["version", "python"],
            registry=registry,
        )
        build.labels(version=__version__, python=platform.python_version()).set(1)
        self._passes = Histogram(
            "reconciler_pass_duration_seconds",
            "How long each pass took (observe, plan, dispatch); its count is the passes",
            buckets=PASS_BUCKETS,
            registry=registry,
        )
        self._actions = Counter(
            "reconciler_actions",
            "Actions ended, by verb and outcome (retrying: failed for a reason that passes)",
            ["verb", "outcome"],
            registry=registry,
        )
        self._restarts = Counter(
            "reconciler_service_restarts",
            "Restarts done by the restart policy, per service",
            ["service"],
            registry=registry,
        )
        self._exits = Counter(
            "reconciler_service_exits",
            "Exits of a service's main process: its code, or oom when it was oom-killed",
            ["service", "exit"],
            registry=registry,
        )
        self._drift = Counter(
            "reconciler_drift_detected",
            "Services found drifted from the files, by kind, each time a drift appears",
            ["kind"],
            registry=registry,
        )
        self._entries = Counter(
            "reconciler_journal_entries",
            "Entries of `run`'s journal (what `reconciler events` shows), by kind",
            ["kind"],
            registry=registry,
        )
        for verb in Verb:
            if verb is not Verb.RECORD:  # labels only, never an action of its own
                for outcome in OUTCOMES:
                    self._actions.labels(verb=verb.value, outcome=outcome)
        for drift in Drift:
            self._drift.labels(kind=drift.value)
        for kind in ENTRY_TYPES:  # each at 0 from the start, so no first one goes unseen
            self._entries.labels(kind=kind_of(kind))
        self._standing = _Standing()
        registry.register(self._standing)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self._drifted: dict[str, Drift] = {}
        self._known_services: set[str] = set()

    # -- the journal ---------------------------------------------------------------------

    def record(self, entry: Entry) -> None:
        self._entries.labels(kind=kind_of(entry)).inc()
        match entry:
            case ActionFinished(verb=verb, error=None):
                self._actions.labels(verb=verb.value, outcome="succeeded").inc()
                if verb is Verb.RESTART:
                    self._restarts.labels(service=entry.service).inc()
            case ActionFinished(verb=verb, retrying=retrying):
                outcome = "retrying" if retrying else "failed"
                self._actions.labels(verb=verb.value, outcome=outcome).inc()
            case TaskExited(service=service, oom_killed=oom, exit_code=code):
                self._exits.labels(service=service, exit="oom" if oom else str(code)).inc()

    # -- the runner ----------------------------------------------------------------------

    def pass_done(self, done: PassDone) -> None:
        self._passes.observe(done.duration.total_seconds())
        for service in done.desired.services:
            if service.name not in self._known_services:
                self._known_services.add(service.name)
                self._restarts.labels(service=service.name)  # at 0 from the start
        self._count_drift(done)
        self._standing.latest = done

    def stopping(self) -> None:
        """Nothing to say: the last scrape before `run` ends sees what it saw."""

    def _count_drift(self, done: PassDone) -> None:
        """A drift is counted when it appears, not on every pass that still sees it (its
        repair may take several). A pass that could not reach a runtime saw nothing."""
        if done.result.observed.unreachable:
            return
        now = {s.name: s.drift for s in done.result.plan.statuses if s.drift is not None}
        for name, drift in now.items():
            if self._drifted.get(name) is not drift:
                self._drift.labels(kind=drift.value).inc()
        self._drifted = now


class _Standing(Collector):
    """The gauges, from the last pass, at scrape time."""

    def __init__(self) -> None:
        self.latest: PassDone | None = None

    def collect(self) -> Iterable[Metric]:
        latest = self.latest
        return () if latest is None else standing(latest)


def standing(done: PassDone) -> Iterator[Metric]:
    """Where the project stood after the pass `done`: services, convergence, leaks,
    runtimes, and when that was."""
    statuses = done.result.plan.statuses
    desired = sum(1 for s in done.desired.services if not s.disabled)
    yield GaugeMetricFamily(
        "reconciler_services_desired",
        "Services the files declare, disabled ones excepted",
        value=desired,
    )
    running = sum(1 for s in statuses if s.state is ServiceState.RUNNING)
    yield GaugeMetricFamily(
        "reconciler_services_running", "Services whose main process runs", value=running
    )
    by_state = GaugeMetricFamily(
        "reconciler_services", "Services by state, as `status` shows them", labels=["state"]
    )
    for state in ServiceState:
        by_state.add_metric([state.value], sum(1 for s in statuses if s.state is state))
    yield by_state
    yield GaugeMetricFamily(
        "reconciler_converged",
        "1 when the last pass found every service where it should be",
        value=1 if done.result.plan.converged else 0,
    )
    yield GaugeMetricFamily(
        "reconciler_save_rejected",
        "1 while the last save of the files is not in force (invalid, or held)",
        value=0 if done.rejected is None else 1,
    )
    leaks = leaks_of(done.desired, done.result.observed)
    leaked = GaugeMetricFamily(
        "reconciler_leaks",
        "containerd objects of the project no service accounts for, by class",
        labels=["class"],
    )
    for name in LEAK_CLASSES:
        leaked.add_metric([name], len(getattr(leaks, name)))
    yield leaked
    reachable = GaugeMetricFamily(
        "reconciler_runtime_reachable",
        "1 when the runtime answered the last pass (containerd, host)",
        labels=["runtime"],
    )
    for reach in done.runtimes:
        reachable.add_metric([RUNTIME_NAMES[reach.mode]], 1 if reach.reachable else 0)
    yield reachable
    yield GaugeMetricFamily(
        "reconciler_last_pass_timestamp_seconds",
        "When the last pass ended (Unix time): a stale value means `run` is stuck",
        value=done.at.timestamp(),
    )
