"""`reconciler run` in this process: the engine, the runner, the watcher, the control
server and, for the embedded containerd, its supervisor, wired together.

Why apart from `direct`: only `run` needs the control server, the file watcher and the
supervisor; `status`, `plan`, `apply` and `down` without a `run` never load them. The
metrics (and prometheus-client) are loaded only when asked for.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator

from reconciler.app.control.reach import project_lock
from reconciler.app.control.server import ControlServer
from reconciler.app.control.socket import control_socket
from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import Engine
from reconciler.app.fingerprint_key import fingerprint_key
from reconciler.app.journal import Journal
from reconciler.app.loading import ProjectOptions, load_desired, source_identity
from reconciler.app.log_keeping import keep_logs, state_limits
from reconciler.app.metrics.address import ListenAddress
from reconciler.app.project import open_runtime
from reconciler.app.project_data import forget_kept
from reconciler.app.results import DownResult
from reconciler.app.runner import RunListener, Runner
from reconciler.app.state_dir import make_project_dirs
from reconciler.app.supervise import DaemonSupervisor
from reconciler.app.systemd.notify import Notifier, take_supervision
from reconciler.app.systemd.readiness import Readiness
from reconciler.app.watcher import FileWatcher
from reconciler.clock import SystemClock

log = logging.getLogger("reconciler")


async def run(
    options: ProjectOptions, *, metrics: ListenAddress | None = None
) -> DownResult | None:
    """`reconciler run`: converge and keep converging until a signal (None) or `down`
    (its result); with `metrics`, serve Prometheus metrics there meanwhile. Under
    systemd (`NOTIFY_SOCKET`), say when ready, what is seen, and ping its watchdog."""
    systemd = take_supervision(os.environ, pid=os.getpid())  # before anything is started
    desired = load_desired(options)
    clock = SystemClock()
    journal = Journal()
    limits = options.settings.log_limits
    listeners: list[RunListener] = []
    background: list[Callable[[], Awaitable[None]]] = []
    if systemd.socket is not None:
        readiness = Readiness(Notifier(systemd.socket).send, clock=clock, watchdog=systemd.watchdog)
        listeners.append(readiness)
        background.append(readiness.watchdog)
    with project_lock(options, "run"), contextlib.ExitStack() as watched:
        if metrics is not None:  # an address that cannot be bound ends run before anything
            listeners.append(watched.enter_context(_serve_metrics(journal, metrics)))
        make_project_dirs(desired, options.settings)
        state_limits(desired, limits)
        forget_kept(desired.paths)  # the project is up again: what a `down` kept is in use
        async with open_runtime(desired, options.settings, clock=clock, supervised=True) as rt:
            engine = Engine(
                desired=desired,
                drivers=rt.drivers,
                clock=clock,
                journal=journal,
                fingerprint_key=fingerprint_key(options.settings.state_dir),
            )
            source = DesiredSource(
                load=lambda: load_desired(options),
                identity=source_identity(options),
                initial=desired,
                clock=clock,
                journal=journal,
            )
            daemon = rt.containerd.daemon if rt.containerd is not None else None
            supervisor = (
                DaemonSupervisor(daemon, clock=clock, on_restart=engine.wake.set)
                if daemon is not None
                else None
            )
            runner = Runner(
                engine,
                source,
                watch=lambda paths, on_saved: FileWatcher(paths, on_saved, clock=clock),
                background=[
                    *background,
                    *([supervisor.run] if supervisor else []),
                    lambda: keep_logs(lambda: engine.desired, limits, clock),
                ],
                listeners=listeners,
            )
            server = ControlServer(
                runner,
                control_socket(options.settings.state_dir, desired.namespace, desired.project),
                state_dir=options.settings.state_dir,
            )
            await server.start()
            try:
                if daemon is not None:
                    await daemon.ensure_running()
                return await runner.run()
            finally:
                await engine.close()
                journal.close()
                await server.stop()


@contextlib.contextmanager
def _serve_metrics(journal: Journal, address: ListenAddress) -> Iterator[RunListener]:
    """The metrics served on `address`, fed by `journal`, for the block; the listener
    that gives them each pass."""
    from reconciler.app.metrics.collector import RunMetrics
    from reconciler.app.metrics.server import serving

    metrics = RunMetrics()
    with serving(metrics.registry, address) as bound, journal.listen(metrics.record):
        reach = "" if bound.loopback else " (not loopback: other hosts can read them)"
        log.info("metrics on %s%s", bound.url, reach)
        yield metrics
