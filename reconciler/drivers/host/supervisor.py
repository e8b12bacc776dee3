"""The supervisor: one small process per running host service, which outlives the reconciler.

    python -m reconciler.drivers.host.supervisor RECORD_PATH

Why a supervisor rather than the reconciler as the parent: only a process's parent can
learn its exit code, and a reconciler may be restarted or SIGKILLed at any moment while
its services run on. The cgroup alone would tell *that* the service ended, never with
which code. So the reconciler double-forks this supervisor (it is nobody's child and
nobody needs to reap it), which:

1. reads the unit's record (argv, environment, user, limits: no secret on a command
   line), holds the unit's lock (inherited from the driver) for its whole life, and
   makes itself a child subreaper, so descendants that daemonize stay its descendants;
2. spawns the service in its own session and process group, joined to the unit's
   cgroups, with its rlimits, then switched to its user, stdout/stderr appended to the
   service's files; records the run (its own and the service's pid + start time) and
   tells the driver over a pipe that the start succeeded (or why it failed);
3. waits, keeping the service's two log files within the project's limits meanwhile
   (`reconciler.logfiles`: rotated in place, so the service's descriptors stay good;
   looked at every half second, sooner when they grow fast; the limits re-read when
   `run` or `apply` change them); when the service's main process exits, kills
   whatever of it is left (the cgroup, and every descendant it still parents) so a
   service's end is the end of all of it, as with a container's PID 1; then records
   the exit code (128+N for a signal, as containerd reports it) and exits.

It runs no Python of the service and nothing but the service's argv: it stays small and
single-threaded (fork is safe). The supervisor itself sits in its own session, apart from
the service's process group, so the stop signal the driver sends the group spares it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from reconciler.drivers.host import cgroups, procfs
from reconciler.drivers.host.record import (
    RECORD_SUFFIX,
    RUN_SUFFIX,
    LaunchSpec,
    RunState,
    read_record,
    write_run,
)
from reconciler.logfiles import layout
from reconciler.logfiles.keeper import PERIOD, LogKeeper
from reconciler.logfiles.policy import PolicyReader
from reconciler.statedir import umask

PR_SET_CHILD_SUBREAPER: Final = 36
EXIT_CANNOT_START: Final = 127
KILL_POLL: Final = 0.02
KILL_ROUNDS: Final = 500
IGNORED_SIGNALS: Final = (signal.SIGHUP, signal.SIGINT, signal.SIGPIPE)


def run_path_for(record_path: Path) -> Path:
    return record_path.with_name(record_path.name.removesuffix(RECORD_SUFFIX) + RUN_SUFFIX)


def exit_code_of(wait_status: int) -> int:
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


def _become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


def _prepare_child(launch: LaunchSpec, cgroup_paths: tuple[str, ...]) -> None:
    """In the forked child, before exec: cgroups (while still root), rlimits, then user."""
    for ignored in IGNORED_SIGNALS:
        signal.signal(ignored, signal.SIG_DFL)
    for path in cgroup_paths:
        Path(path, "cgroup.procs").write_text(str(os.getpid()))
    for limit, value in (
        (resource.RLIMIT_NOFILE, launch.limit_nofile),
        (resource.RLIMIT_NPROC, launch.limit_nproc),
    ):
        if value is not None:
            resource.setrlimit(limit, (value, value))
    if launch.user is not None:
        os.setgroups(list(launch.user.groups))
        os.setgid(launch.user.gid)
        os.setuid(launch.user.uid)


def _open_log(path: str) -> int:
    """The service's output file, appended to; made 0600 (in 0700 folders) if missing."""
    layout.make_directory(Path(path).parent)
    # Never through a link: one planted at a log under the state dir would have root
    # append to any file (the directories above were checked by the command).
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    return os.open(path, flags, layout.FILE_MODE)


def _report(message: dict[str, object]) -> None:
    """Tell the driver how the start went, then stop talking on that pipe."""
    with contextlib.suppress(OSError):
        os.write(1, (json.dumps(message) + "\n").encode())
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)


def _kill_leftovers(me: int, cgroup_paths: list[Path]) -> None:
    """SIGKILL everything of the service still alive, and reap what we parent."""
    for _ in range(KILL_ROUNDS):
        left = cgroups.members(cgroup_paths) | set(procfs.descendants(me))
        if not left:
            return
        cgroups.kill_pass(cgroup_paths)
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap_all()
        time.sleep(KILL_POLL)


def _reap_all() -> None:
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def supervise(record_path: Path, *, service_umask: int) -> int:
    record = read_record(record_path)
    if record is None:
        _report({"error": f"no unit record {record_path}"})
        return 1
    launch = record.launch
    run_path = run_path_for(record_path)
    me = procfs.identify(os.getpid())
    if me is None:
        _report({"error": "cannot read the supervisor's own /proc entry"})
        return 1
    _become_subreaper()
    started_at = datetime.now(UTC)
    try:
        out, err = _open_log(launch.stdout), _open_log(launch.stderr)
    except OSError as error:
        _report({"error": f"cannot open the log {error.filename}: {error.strerror}"})
        return 1
    try:
        child = subprocess.Popen(
            launch.argv,
            env={name: value.reveal() for name, value in launch.env.items()},
            cwd=launch.workdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
            close_fds=True,
            umask=service_umask,
            preexec_fn=lambda: _prepare_child(launch, record.cgroups),  # noqa: PLW1509
        )
    except (OSError, subprocess.SubprocessError) as error:
        reason = f"cannot start {launch.argv[0]!r}: {getattr(error, 'strerror', None) or error}"
        os.write(err, f"reconciler: {reason}\n".encode())
        write_run(
            run_path,
            RunState(
                supervisor=me,
                process=None,
                started_at=started_at,
                exit_code=EXIT_CANNOT_START,
                exited_at=datetime.now(UTC),
                error=reason,
            ),
        )
        _report({"error": reason})
        return 0
    finally:
        os.close(out)
        os.close(err)
    process = procfs.identify(child.pid)
    run = RunState(
        supervisor=me,
        process=process or procfs.ProcessIdentity(pid=child.pid, start_time=0),
        started_at=started_at,
    )
    write_run(run_path, run)
    _report({"pid": child.pid})
    status = _wait_for(child.pid, _log_keeping(launch))
    child.returncode = status
    _kill_leftovers(me.pid, [Path(p) for p in record.cgroups])
    write_run(
        run_path,
        RunState(
            supervisor=run.supervisor,
            process=run.process,
            started_at=run.started_at,
            exit_code=status,
            exited_at=datetime.now(UTC),
        ),
    )
    return 0


def _log_keeping(launch: LaunchSpec) -> Callable[[], float]:
    """One round of keeping the service's logs; the seconds until the next is due. Never
    raises: the service's supervision matters more than its logs."""
    policy = PolicyReader(Path(launch.log_policy) if launch.log_policy else None)
    keeper = LogKeeper(policy.current)
    paths = list(dict.fromkeys([Path(launch.stdout), Path(launch.stderr)]))

    def keep() -> float:
        try:
            return keeper.round(paths)
        except Exception:
            return PERIOD

    return keep


def _wait_for(main: int, keep: Callable[[], float]) -> int:
    """Reap children (adopted orphans too) until `main` exits; its exit code. Between
    looks, `keep` the logs; the main process's exit wakes the wait at once (a pidfd),
    an orphan's is reaped at the next look."""
    try:
        exited: int | None = os.pidfd_open(main)
    except OSError:
        exited = None  # a kernel before 5.3: look every round instead
    try:
        while True:
            status = _reap_until(main)
            if status is not None:
                return status
            delay = keep()
            if exited is not None:
                select.select([exited], [], [], delay)
            else:
                time.sleep(delay)
    finally:
        if exited is not None:
            os.close(exited)


def _reap_until(main: int) -> int | None:
    """Reap what has exited; `main`'s exit code if it is among them."""
    while True:
        try:
            pid, wait_status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return None
        if pid == 0:
            return None
        if pid == main:
            return exit_code_of(wait_status)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m reconciler.drivers.host.supervisor RECORD_PATH", file=sys.stderr)
        return 2
    for ignored in IGNORED_SIGNALS:
        signal.signal(ignored, signal.SIG_IGN)
    # Started with the service's umask (`statedir.umask`): the service gets it back, the
    # run files and logs made here are the state dir owner's alone.
    service_umask = os.umask(umask.PRIVATE)
    # Detach: the driver reaps this first process at once; the supervisor is its child,
    # in a session of its own, and becomes nobody's child to wait for.
    if os.getsid(0) != os.getpid():
        os.setsid()
    if os.fork() > 0:
        os._exit(0)
    return supervise(Path(argv[1]), service_umask=service_umask)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
