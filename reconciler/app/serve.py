"""`reconciler run` in this process: the engine, the runner, the watcher, the control
server and, for the embedded containerd, its supervisor, wired together.

Why apart from `direct`: only `run` needs the control server, the file watcher and the
supervisor; `status`, `plan`, `apply` and `down` without a `run` never load them.
"""

from __future__ import annotations

from reconciler.app.control.reach import project_lock
from reconciler.app.control.server import ControlServer
from reconciler.app.control.socket import control_socket
from reconciler.app.desired_source import DesiredSource
from reconciler.app.engine import Engine
from reconciler.app.journal import Journal
from reconciler.app.loading import ProjectOptions, load_desired, source_identity
from reconciler.app.project import open_runtime
from reconciler.app.results import DownResult
from reconciler.app.runner import Runner
from reconciler.app.state_dir import make_project_dirs
from reconciler.app.supervise import DaemonSupervisor
from reconciler.app.watcher import FileWatcher
from reconciler.clock import SystemClock


async def run(options: ProjectOptions) -> DownResult | None:
    """`reconciler run`: converge and keep converging until a signal (None) or `down`
    (its result)."""
    desired = load_desired(options)
    clock = SystemClock()
    journal = Journal()
    with project_lock(options, "run"):
        make_project_dirs(desired, options.settings)
        async with open_runtime(desired, options.settings, clock=clock, supervised=True) as rt:
            engine = Engine(desired=desired, drivers=rt.drivers, clock=clock, journal=journal)
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
                background=[supervisor.run] if supervisor is not None else [],
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
