"""The same stack run by the reconciler, a `ctr` loop, docker-compose and podman-compose.

    .venv/bin/python hack/bench-peers [--sizes 20,100] [--rounds 3] [--skip PEER]...
                                      [--idle-seconds 10] [--json FILE] [--install]

Everything lives under one scratch directory: a private containerd (the reconciler and
the `ctr` loop share it, each cycle in a fresh namespace), a private dockerd (its own
data root, exec root, socket and pidfile; no iptables, no bridge) and podman's own
storage and containers.conf (cgroupfs, file events). All are stopped by their pid at the
end, even on failure. The image is the busybox test image built by tests/support, loaded
into every system beforehand: nothing is pulled while a row is timed.

The stack: N services `s0..s{N-1}`, each `sh -c 'trap "exit 0" TERM; sleep 1000 & wait'`
(its PID 1 exits on SIGTERM, so a graceful stop costs no grace period anywhere) with
`ENV BENCH_VALUE=v0`, all in the host's network namespace, like with like: the
reconciler runs with `--network host` (RECONCILER_NETWORK) and compose files say
`network_mode: host`. One cycle per system and size:

  converge  from nothing (image present, no container)
  noop      the same command again, nothing changed (main pids checked unchanged)
  change    BENCH_VALUE of one service (s{N/2}) becomes v1; checked from outside in
            /proc/PID/environ of every service's main process: only that one has a new
            pid, and it has the new value
  status    reconciler status -o json | docker-compose ps | podman-compose ps |
            ctr c ls + ctr t ls
  idle      CPU (% of one core over --idle-seconds) and memory (RSS and PSS summed from
            /proc/PID/smaps_rollup) of everything the system keeps running: containerd +
            shims (+ `reconciler run` holding the project, for the reconciler); dockerd +
            its containerd + shims; podman's conmon processes. The services' own
            processes are not counted (the same everywhere).
  teardown  reconciler down | docker-compose down | podman-compose down |
            ctr task kill -s KILL + task rm + c rm per container

What each peer's commands are:

  reconciler      `reconciler apply` (converge, noop, change), `status -o json`, `down`;
                  the CLI as a subprocess each time, its start-up included
  ctr             a shell-script-like loop: `ctr c ls` + `ctr t ls`, then `ctr run -d`
                  per missing container; the change is told which container changed
                  (kill -s KILL, task rm, c rm, run -d): a loop has no diff of its own
  docker-compose  1.29 (Debian) against the private dockerd: `up -d`, `ps`, `down`, with
                  COMPOSE_PARALLEL_LIMIT=max(64, 2N): at its default of 64 it deadlocks
                  from 64 services on (each service's task holds a slot while it waits
                  for a nested one; docker/compose#5864, #7486)
  podman-compose  1.0.3 (Debian): `up -d`, `ps`, `down`; it has no change detection,
                  so the change is `up -d --force-recreate s{N/2}` (told which), and
                  its no-op `up -d` runs `podman run` again for every service (each
                  fails on the name in use and is followed by `podman start`). It needs
                  `--podman-path` pointing at a wrapper that drops the `--net` and
                  `--network-alias` it adds next to `network_mode: host`.

Rounds are interleaved (round r: every size, every system, the systems' order rotated
by r) and each row reports the median and the minimum over the rounds. Python runs with
PYTHONDONTWRITEBYTECODE unset for every command (users do not set it); the reconciler's
bytecode is cached under the scratch dir (PYTHONPYCACHEPREFIX) after one warm-up, as an
installed package has it; the compose tools use the bytecode Debian compiled for them.

A peer that cannot be set up (a missing package, a daemon that does not start) is
reported as skipped with the reason; `--install` installs the missing Debian packages
with apt-get first. Exit status: 0 when every cycle ran and every check held, 1 when a
cycle failed or a check did not hold (all reported), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.support.containerd import PrivateContainerd, run_ctr  # noqa: E402
from tests.support.leaks import purge  # noqa: E402
from tests.support.oci_image import (  # noqa: E402
    ImageSpec,
    build_image,
    write_archive,
    write_layout,
)
from tests.support.processes import (  # noqa: E402
    command_line,
    is_running,
    parents,
    spawn_daemon,
    stat_fields,
    terminate,
)

PEERS = ("reconciler", "ctr", "docker-compose", "podman-compose")
SECTIONS = ("converge", "noop", "change", "status", "teardown", "idle")
SCRIPT = 'trap "exit 0" TERM; sleep 1000 & wait'
COMMAND = ("sh", "-c", SCRIPT)
IMAGE = "bench:1"
KEY = "BENCH_VALUE"
CLK_TCK = os.sysconf("SC_CLK_TCK")
DEBIAN_PACKAGES = {
    "ctr": ("containerd",),
    "docker-compose": ("docker.io", "docker-compose", "skopeo"),
    "podman-compose": ("podman", "podman-compose", "skopeo"),
}
DOCKER = "/usr/bin/docker"  # Debian's client: /usr/local/bin/docker may be another one
DOCKERD = "/usr/sbin/dockerd"
PODMAN = "/usr/bin/podman"


class PeerUnavailable(Exception):
    """This system cannot be set up here; the message says why."""


class CheckFailed(Exception):
    """What a system did is not what the row claims (reported, not timed)."""


# -- processes and /proc -----------------------------------------------------------------


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(extra)
    return env


def run(
    argv: list[str], env: dict[str, str], *, ok: tuple[int, ...] = (0,), timeout: float = 600
) -> tuple[float, str]:
    """Run one command; its wall time (process start included) and stdout."""
    started = time.perf_counter()
    done = subprocess.run(
        argv, env=env, capture_output=True, text=True, check=False, timeout=timeout
    )
    elapsed = time.perf_counter() - started
    if done.returncode not in ok:
        tail = (done.stderr or done.stdout)[-1500:]
        raise RuntimeError(f"{' '.join(argv[:6])} ... exited {done.returncode}:\n{tail}")
    return elapsed, done.stdout


def processes() -> Iterator[tuple[int, int, list[str]]]:
    """(pid, ppid, argv) of every process."""
    for pid, ppid in parents().items():
        argv = command_line(pid)
        if argv:
            yield pid, ppid, argv


def shims(address: str, namespace: str | None = None) -> list[int]:
    """containerd-shim-runc-v2 processes serving the daemon at ``address``."""
    found = []
    for pid, _, argv in processes():
        if not argv[0].endswith("containerd-shim-runc-v2") or "-address" not in argv:
            continue
        if argv[argv.index("-address") + 1] != address:
            continue
        if namespace is not None and ("-namespace" not in argv or namespace not in argv):
            continue
        found.append(pid)
    return found


def cpu_ticks(pid: int) -> int | None:
    fields = stat_fields(pid)
    return None if fields is None else int(fields[11]) + int(fields[12])  # utime + stime


def memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in kB from /proc/PID/smaps_rollup."""
    rss = pss = 0
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0, 0
    for line in text.splitlines():
        if line.startswith("Rss:"):
            rss = int(line.split()[1])
        elif line.startswith("Pss:"):
            pss = int(line.split()[1])
    return rss, pss


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def measure_idle(groups: dict[str, list[int]], seconds: float) -> dict[str, float]:
    """CPU % of one core over ``seconds`` and RSS/PSS (MB) at its end, per group and summed."""
    before = {pid: cpu_ticks(pid) for pids in groups.values() for pid in pids}
    started = time.perf_counter()
    time.sleep(seconds)
    window = time.perf_counter() - started
    result: dict[str, float] = {"window_s": round(window, 1)}
    total_cpu = 0.0
    total_rss = total_pss = 0
    count = 0
    for name, pids in groups.items():
        ticks = 0
        rss = pss = 0
        for pid in pids:
            start, end = before.get(pid), cpu_ticks(pid)
            if start is None or end is None:
                continue
            ticks += end - start
            one_rss, one_pss = memory_kb(pid)
            rss += one_rss
            pss += one_pss
            count += 1
        cpu = ticks / CLK_TCK / window * 100
        result[f"{name}_cpu_percent"] = round(cpu, 2)
        result[f"{name}_rss_mb"] = round(rss / 1024, 1)
        result[f"{name}_pss_mb"] = round(pss / 1024, 1)
        total_cpu += cpu
        total_rss += rss
        total_pss += pss
    result["cpu_percent"] = round(total_cpu, 2)
    result["rss_mb"] = round(total_rss / 1024, 1)
    result["pss_mb"] = round(total_pss / 1024, 1)
    result["processes"] = count
    return result


def stop_child(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM a child we started (by its pid), SIGKILL after 10 s, and reap it."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not after {timeout:g} s")
        time.sleep(0.2)


# -- the stack as each system reads it ----------------------------------------------------


def value_of(index: int, changed: int | None) -> str:
    return "v1" if index == changed else "v0"


def orchfile(count: int, changed: int | None = None) -> str:
    lines = ["ORCH_VERSION 1.0.0-rc"]
    for i in range(count):
        lines += [
            f"SERVICE s{i}",
            "  FROM ./img",
            f"  CMD sh -c '{SCRIPT}'",
            f"  ENV {KEY}={value_of(i, changed)}",
            "  TIMEOUT_STOP 1s",
        ]
    return "\n".join(lines) + "\n"


def compose_file(count: int, changed: int | None = None) -> str:
    lines = ['version: "2.4"', "services:"]
    command = json.dumps(list(COMMAND))
    for i in range(count):
        lines += [
            f"  s{i}:",
            f"    image: {IMAGE}",
            f"    command: {command}",
            "    network_mode: host",
            "    stop_grace_period: 1s",
            "    environment:",
            f"      {KEY}: {value_of(i, changed)}",
        ]
    return "\n".join(lines) + "\n"


# -- the peers -----------------------------------------------------------------------------


@dataclass
class Shared:
    """What every peer may use: the scratch dir, the image in its three forms."""

    base: Path
    layout: Path  # OCI layout (the Orchfile's FROM ./img)
    archive: Path  # OCI archive (ctr images import)
    reference: str  # docker.io/library/bench:1
    containerd: PrivateContainerd | None = None
    docker_archive: Path | None = None

    def docker_archive_file(self) -> Path:
        """The image as a docker-archive (what `docker load` and `podman load` read)."""
        if self.docker_archive is None:
            if shutil.which("skopeo") is None:
                raise PeerUnavailable("skopeo is not installed (apt-get install skopeo)")
            target = self.base / "image-docker.tar"
            run(
                ["skopeo", "copy", f"oci:{self.layout}", f"docker-archive:{target}:{IMAGE}"],
                clean_env(),
            )
            self.docker_archive = target
        return self.docker_archive

    def start_containerd(self) -> PrivateContainerd:
        if self.containerd is None:
            if shutil.which("containerd") is None or shutil.which("ctr") is None:
                raise PeerUnavailable("containerd is not installed (apt-get install containerd)")
            daemon = PrivateContainerd(directory=self.base / "ctd", debug_log=False)
            daemon.start()
            self.containerd = daemon
        return self.containerd


class Peer:
    """One system; a cycle is converge, noop, change, status, idle, teardown, in order."""

    name = ""
    label = ""

    def __init__(self, shared: Shared) -> None:
        self.shared = shared
        self.count = 0

    def setup(self) -> None:
        """Start what this system needs once (raise PeerUnavailable when it cannot)."""

    def close(self) -> None:
        """Stop what setup() started (by pid)."""

    def begin(self, count: int) -> None:
        """A fresh, empty project of ``count`` services (not timed)."""
        self.count = count

    def converge(self) -> float:
        raise NotImplementedError

    def noop(self) -> float:
        raise NotImplementedError

    def change(self, index: int) -> float:
        raise NotImplementedError

    def status(self) -> float:
        raise NotImplementedError

    def teardown(self) -> float:
        raise NotImplementedError

    def pids(self) -> dict[str, int]:
        """Service name -> the host pid of its main process, for the running services."""
        raise NotImplementedError

    @contextmanager
    def idle(self) -> Iterator[dict[str, list[int]]]:
        """The processes this system keeps running for the converged stack, by group."""
        raise NotImplementedError
        yield {}

    def leftovers(self) -> str:
        """What teardown left ('' when nothing)."""
        raise NotImplementedError

    def cleanup(self) -> None:
        """After a failed cycle: remove whatever the project still has (best effort)."""


class ContainerdPeer(Peer):
    """Shared by the reconciler and the ctr loop: a fresh namespace per cycle."""

    side = ""

    def __init__(self, shared: Shared) -> None:
        super().__init__(shared)
        self.namespace = ""

    @property
    def daemon(self) -> PrivateContainerd:
        assert self.shared.containerd is not None
        return self.shared.containerd

    def setup(self) -> None:
        self.shared.start_containerd()

    def ctr(self, *args: str) -> str:
        return run_ctr(self.daemon.socket, *args, namespace=self.namespace, timeout=120)

    def ctr_ok(self, *args: str) -> bool:
        argv = ["ctr", "--address", str(self.daemon.socket), "--namespace", self.namespace]
        return subprocess.run([*argv, *args], capture_output=True, check=False).returncode == 0

    def begin(self, count: int) -> None:
        super().begin(count)
        self.namespace = f"bp-{self.side}-{secrets.token_hex(3)}"
        self.ctr("images", "import", str(self.shared.archive))

    def tasks(self) -> dict[str, tuple[int, str]]:
        """container id -> (pid, status)."""
        rows = [line.split() for line in self.ctr("tasks", "ls").splitlines()[1:]]
        return {row[0]: (int(row[1]), row[2]) for row in rows if len(row) >= 3}

    def container_pids(self, prefix: str) -> dict[str, int]:
        return {
            cid.removeprefix(prefix): pid
            for cid, (pid, status) in self.tasks().items()
            if status == "RUNNING"
        }

    def leftovers(self) -> str:
        """What teardown left; then the namespace (and its image) goes."""
        tasks = self.ctr("tasks", "ls", "-q").split()
        containers = self.ctr("containers", "ls", "-q").split()
        self.end_namespace()
        return f"{len(tasks)} tasks, {len(containers)} containers" if tasks or containers else ""

    def end_namespace(self) -> None:
        if self.namespace:
            purge(self.ctr, self.namespace)
            self.namespace = ""

    def containerd_group(self) -> dict[str, list[int]]:
        pid = self.daemon.pid()
        assert pid is not None
        return {
            "containerd": [pid],
            "shims": shims(str(self.daemon.socket), self.namespace),
        }


class Reconciler(ContainerdPeer):
    name = "reconciler"
    label = "reconciler"
    side = "ours"
    project = "bench"

    def setup(self) -> None:
        super().setup()
        self.app = self.shared.base / "app"
        self.app.mkdir(exist_ok=True)
        if not (self.app / "img").exists():
            shutil.copytree(self.shared.layout, self.app / "img")
        self.command = reconciler_command()
        self.env = clean_env(PYTHONPYCACHEPREFIX=str(self.shared.base / "pycache"))
        run([*self.command, "--version"], self.env)  # warm-up: compile once, as pip would

    def begin(self, count: int) -> None:
        super().begin(count)
        self.file = self.app / f"{self.namespace}.orch"
        self.file.write_text(orchfile(count))
        self.env = {
            **self.env,
            "CONTAINERD_ADDRESS": str(self.daemon.socket),
            "RECONCILER_NAMESPACE": self.namespace,
            "RECONCILER_STATE_DIR": str(self.shared.base / "state"),
            "RECONCILER_NETWORK": "host",
        }

    def argv(self, *args: str) -> list[str]:
        return [*self.command, *args, "-f", str(self.file), "--project", self.project]

    def cli(self, *args: str, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
        return run(self.argv(*args), self.env, ok=ok)

    def converge(self) -> float:
        return self.cli("apply")[0]

    def noop(self) -> float:
        return self.cli("apply")[0]

    def change(self, index: int) -> float:
        scratch = self.file.with_suffix(".tmp")
        scratch.write_text(orchfile(self.count, changed=index))
        os.replace(scratch, self.file)
        return self.cli("apply")[0]

    def status(self) -> float:
        elapsed, out = self.cli("status", "-o", "json", ok=(0, 3))
        if '"converged": true' not in out:
            raise CheckFailed("status -o json does not say converged")
        return elapsed

    def teardown(self) -> float:
        return self.cli("down")[0]

    def pids(self) -> dict[str, int]:
        return self.container_pids(f"{self.project}-")

    @contextmanager
    def idle(self) -> Iterator[dict[str, list[int]]]:
        log = (self.shared.base / f"{self.namespace}.run.log").open("ab")
        with log:
            runner = subprocess.Popen(
                self.argv("run"), env=self.env, stdout=log, stderr=log, stdin=subprocess.DEVNULL
            )
        try:

            def converged() -> bool:
                if runner.poll() is not None:
                    raise RuntimeError(f"reconciler run exited {runner.returncode}")
                _, out = self.cli("status", "-o", "json", ok=(0, 1, 3))
                report = json.loads(out) if out.strip().startswith("{") else {}
                held = report.get("reconciler") or {}
                return report.get("converged") is True and (held.get("passes") or 0) >= 1

            wait_for(converged, "reconciler run says converged")
            yield {**self.containerd_group(), "run": [runner.pid]}
        finally:
            stop_child(runner)

    def cleanup(self) -> None:
        with suppress(Exception):
            self.cli("down", ok=(0, 1))
        with suppress(Exception):
            self.end_namespace()


class CtrLoop(ContainerdPeer):
    name = "ctr"
    label = "`ctr` loop"
    side = "ctr"

    def existing(self) -> tuple[set[str], dict[str, tuple[int, str]]]:
        """What a converging script looks at first: containers and tasks."""
        return set(self.ctr("containers", "ls", "-q").split()), self.tasks()

    def run_one(self, index: int, changed: int | None = None) -> None:
        self.ctr(
            "run",
            "-d",
            "--env",
            f"{KEY}={value_of(index, changed)}",
            self.shared.reference,
            f"s{index}",
            *COMMAND,
        )

    def remove_one(self, name: str) -> None:
        self.ctr("task", "kill", "-s", "KILL", name)
        # `ctr task rm` refuses a task that has not exited yet: retry, as a script would.
        wait_for(lambda: self.ctr_ok("task", "rm", name), f"ctr task rm {name}", timeout=30)
        self.ctr("containers", "rm", name)

    def converge(self) -> float:
        started = time.perf_counter()
        containers, _ = self.existing()
        for i in range(self.count):
            if f"s{i}" not in containers:
                self.run_one(i)
        return time.perf_counter() - started

    def noop(self) -> float:
        return self.converge()

    def change(self, index: int) -> float:
        started = time.perf_counter()
        self.remove_one(f"s{index}")
        self.run_one(index, changed=index)
        return time.perf_counter() - started

    def status(self) -> float:
        started = time.perf_counter()
        self.existing()
        return time.perf_counter() - started

    def teardown(self) -> float:
        started = time.perf_counter()
        containers, _ = self.existing()
        for name in sorted(containers):
            self.remove_one(name)
        return time.perf_counter() - started

    def pids(self) -> dict[str, int]:
        return self.container_pids("")

    @contextmanager
    def idle(self) -> Iterator[dict[str, list[int]]]:
        yield self.containerd_group()

    def cleanup(self) -> None:
        with suppress(Exception):
            self.end_namespace()


class Compose(Peer):
    """docker-compose and podman-compose: one project directory per cycle."""

    tool = ""
    project_label = "com.docker.compose.project"

    def __init__(self, shared: Shared) -> None:
        super().__init__(shared)
        self.project = ""
        self.directory = shared.base / self.name
        self.env: dict[str, str] = clean_env()

    def compose_argv(self) -> list[str]:
        raise NotImplementedError

    def client(self) -> list[str]:
        """The container client (docker or podman) with what points it at our daemon."""
        raise NotImplementedError

    def compose(self, *args: str) -> float:
        argv = [*self.compose_argv(), "-p", self.project, "-f", str(self.file), *args]
        return run(argv, self.env)[0]

    def begin(self, count: int) -> None:
        super().begin(count)
        self.project = f"bp{secrets.token_hex(3)}"
        project_dir = self.directory / self.project
        project_dir.mkdir(parents=True)
        self.file = project_dir / "docker-compose.yml"
        self.file.write_text(compose_file(count))

    def converge(self) -> float:
        return self.compose("up", "-d")

    def noop(self) -> float:
        return self.compose("up", "-d")

    def change(self, index: int) -> float:
        self.file.write_text(compose_file(self.count, changed=index))
        return self.compose("up", "-d")

    def status(self) -> float:
        return self.compose("ps")

    def teardown(self) -> float:
        return self.compose("down")

    def containers(self, *, every: bool = False) -> list[str]:
        argv = [*self.client(), "ps", "-q", "--filter", f"label={self.project_label}"]
        argv[-1] += f"={self.project}"
        if every:
            argv.append("-a")
        return run(argv, self.env)[1].split()

    def pids(self) -> dict[str, int]:
        ids = self.containers()
        if not ids:
            return {}
        template = '{{index .Config.Labels "com.docker.compose.service"}} {{.State.Pid}}'
        out = run([*self.client(), "inspect", "-f", template, *ids], self.env)[1]
        rows = [line.split() for line in out.splitlines() if line.strip()]
        return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1] != "0"}

    def leftovers(self) -> str:
        found = self.containers(every=True)
        return f"{len(found)} containers" if found else ""

    def cleanup(self) -> None:
        with suppress(Exception):
            ids = self.containers(every=True)
            if ids:
                run([*self.client(), "rm", "-f", *ids], self.env)


class DockerCompose(Compose):
    name = "docker-compose"
    label = "docker-compose"

    def setup(self) -> None:
        for binary in (DOCKERD, DOCKER, shutil.which("docker-compose")):
            if binary is None or not Path(binary).exists():
                raise PeerUnavailable(
                    f"{binary or 'docker-compose'} is missing "
                    "(apt-get install docker.io docker-compose)"
                )
        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket = self.directory / "docker.sock"
        self.exec_root = self.directory / "exec"
        self.pidfile = self.directory / "dockerd.pid"
        config = self.directory / "daemon.json"
        config.write_text("{}\n")
        self.env = clean_env(DOCKER_HOST=f"unix://{self.socket}")
        self.dockerd_pid = spawn_daemon(
            [
                DOCKERD,
                "--config-file",
                str(config),
                "--data-root",
                str(self.directory / "root"),
                "--exec-root",
                str(self.exec_root),
                "-H",
                f"unix://{self.socket}",
                "--pidfile",
                str(self.pidfile),
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                "--bridge=none",
            ],
            log_path=self.directory / "dockerd.log",
            pid_path=self.directory / "dockerd.spawned.pid",
        )

        def answers() -> bool:
            if not is_running(self.dockerd_pid):
                tail = (self.directory / "dockerd.log").read_text(errors="replace")[-1500:]
                raise PeerUnavailable(f"dockerd exited during start-up:\n{tail}")
            probe = subprocess.run(
                [DOCKER, "info"], env=self.env, capture_output=True, check=False, timeout=30
            )
            return probe.returncode == 0

        try:
            wait_for(answers, "dockerd answers", timeout=60)
        except RuntimeError as error:
            raise PeerUnavailable(str(error)) from None
        run([DOCKER, "load", "-i", str(self.shared.docker_archive_file())], self.env)
        run(["docker-compose", "version"], self.env)  # warm-up

    def close(self) -> None:
        pid = getattr(self, "dockerd_pid", None)
        if pid is None:
            return
        with suppress(Exception):
            ids = run([DOCKER, "ps", "-aq"], self.env, timeout=60)[1].split()
            if ids:
                run([DOCKER, "rm", "-f", *ids], self.env, timeout=120)
        terminate(pid, grace=30)  # it stops its own containerd

    def compose_argv(self) -> list[str]:
        return ["docker-compose"]

    def begin(self, count: int) -> None:
        super().begin(count)
        # 1.29 deadlocks once the services reach COMPOSE_PARALLEL_LIMIT (64 by default):
        # each service's task holds a slot while it waits for a nested one (compose#5864).
        self.env["COMPOSE_PARALLEL_LIMIT"] = str(max(64, 2 * count))

    def client(self) -> list[str]:
        return [DOCKER]

    @contextmanager
    def idle(self) -> Iterator[dict[str, list[int]]]:
        children = [
            pid
            for pid, ppid, argv in processes()
            if ppid == self.dockerd_pid and Path(argv[0]).name == "containerd"
        ]
        address = str(self.exec_root / "containerd" / "containerd.sock")
        yield {"dockerd": [self.dockerd_pid], "containerd": children, "shims": shims(address)}


class PodmanCompose(Compose):
    name = "podman-compose"
    label = "podman-compose"
    project_label = "io.podman.compose.project"

    def setup(self) -> None:
        for binary in (PODMAN, shutil.which("podman-compose"), shutil.which("conmon")):
            if binary is None or not Path(binary).exists():
                raise PeerUnavailable(
                    f"{binary or 'podman-compose or conmon'} is missing "
                    "(apt-get install podman podman-compose)"
                )
        d = self.directory
        for sub in ("root", "run", "tmp", "cni", "volumes"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        (d / "storage.conf").write_text(
            f'[storage]\ndriver = "overlay"\ngraphroot = "{d}/root"\nrunroot = "{d}/run"\n'
        )
        (d / "containers.conf").write_text(
            "[containers]\n"
            'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n'
            "[engine]\n"
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'events_logfile_path = "{d}/events.log"\n'
            f'tmp_dir = "{d}/tmp"\n'
            f'volume_path = "{d}/volumes"\n'
            "[network]\n"
            f'network_config_dir = "{d}/cni"\n'
        )
        # podman-compose 1.0.3 adds `--net PROJECT_default --network-alias NAME` next to
        # `--network host`, which podman refuses: drop those two flags on the way.
        self.wrapper = d / "podman"
        self.wrapper.write_text(
            "#!/bin/bash\n"
            "args=()\n"
            "while (($#)); do\n"
            "  case $1 in\n"
            "    --net|--network-alias) shift; (($#)) && shift ;;\n"
            '    *) args+=("$1"); shift ;;\n'
            "  esac\n"
            "done\n"
            f'exec {PODMAN} "${{args[@]}}"\n'
        )
        self.wrapper.chmod(0o755)
        self.env = clean_env(
            CONTAINERS_STORAGE_CONF=str(d / "storage.conf"),
            CONTAINERS_CONF=str(d / "containers.conf"),
        )
        try:
            run([PODMAN, "load", "-i", str(self.shared.docker_archive_file())], self.env)
        except RuntimeError as error:
            raise PeerUnavailable(f"podman load failed: {error}") from None
        run(["podman-compose", "version"], self.env, ok=(0, 1))  # warm-up

    def close(self) -> None:
        if not hasattr(self, "wrapper"):
            return
        with suppress(Exception):
            run([PODMAN, "rm", "-af", "-t", "0"], self.env, timeout=300)
        with suppress(Exception):
            run([PODMAN, "unmount", "-a"], self.env, timeout=60)

    def compose_argv(self) -> list[str]:
        return ["podman-compose", "--podman-path", str(self.wrapper)]

    def client(self) -> list[str]:
        return [PODMAN]

    def change(self, index: int) -> float:
        # No change detection in 1.0.3 (a plain `up -d` keeps the old container): name it.
        self.file.write_text(compose_file(self.count, changed=index))
        return self.compose("up", "-d", "--force-recreate", f"s{index}")

    @contextmanager
    def idle(self) -> Iterator[dict[str, list[int]]]:
        root = str(self.directory / "root")
        conmons = [
            pid
            for pid, _, argv in processes()
            if Path(argv[0]).name == "conmon" and any(root in arg for arg in argv)
        ]
        yield {"conmon": conmons}


def reconciler_command() -> list[str]:
    """This Python's `reconciler` script, else the repository's venv's, else `-m`."""
    for script in (Path(sys.executable).parent / "reconciler", REPO / ".venv/bin/reconciler"):
        if script.exists():
            return [str(script)]
    return [sys.executable, "-m", "reconciler"]


PEER_CLASSES: dict[str, type[Peer]] = {
    "reconciler": Reconciler,
    "ctr": CtrLoop,
    "docker-compose": DockerCompose,
    "podman-compose": PodmanCompose,
}


# -- one cycle -----------------------------------------------------------------------------


@dataclass
class Results:
    """values[peer][size][row] = one number per round; checks and errors as text."""

    values: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    checks: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(self, peer: str, size: int, row: str, value: float) -> None:
        rows = self.values.setdefault(peer, {}).setdefault(str(size), {})
        rows.setdefault(row, []).append(value)

    def note(self, peer: str, size: int, text: str) -> None:
        notes = self.checks.setdefault(peer, {}).setdefault(str(size), [])
        if text not in notes:
            notes.append(text)


def cycle(peer: Peer, size: int, options: argparse.Namespace, results: Results) -> None:
    skip = set(options.skip)
    peer.begin(size)
    changed = size // 2
    try:
        elapsed = peer.converge()
        before = peer.pids()
        if len(before) != size:
            raise CheckFailed(f"converge: {len(before)} of {size} services running")
        results.add(peer.name, size, "converge", elapsed)

        elapsed = peer.noop()
        after = peer.pids()
        moved = sorted(name for name in before if after.get(name) != before[name])
        if moved:
            results.note(peer.name, size, f"noop: {len(moved)} services got a new process")
        results.add(peer.name, size, "noop", elapsed)

        elapsed = peer.change(changed)
        results.add(peer.name, size, "change", elapsed)
        verify_change(peer, size, before, changed, results)

        results.add(peer.name, size, "status", peer.status())

        if "idle" not in skip:
            with peer.idle() as groups:
                time.sleep(options.settle)
                idle = measure_idle(groups, options.idle_seconds)
            for key in ("cpu_percent", "rss_mb", "pss_mb"):
                results.add(peer.name, size, f"idle_{key}", idle[key])
            for key, value in idle.items():
                if key not in ("cpu_percent", "rss_mb", "pss_mb", "window_s"):
                    results.add(peer.name, size, f"idle_part_{key}", value)
            if len(peer.pids()) != size:
                raise CheckFailed("services stopped while idle was measured")

        elapsed = peer.teardown()
        left = peer.leftovers()
        if left:
            raise CheckFailed(f"teardown left {left}")
        results.add(peer.name, size, "teardown", elapsed)
    except Exception:
        peer.cleanup()
        raise


def verify_change(
    peer: Peer, size: int, before: dict[str, int], changed: int, results: Results
) -> None:
    """From /proc: only s{changed} has a new main process, and it has the new value."""
    target = f"s{changed}"
    after = peer.pids()
    if len(after) != size:
        raise CheckFailed(f"change: {len(after)} of {size} services running")
    recreated = sorted(name for name in after if after[name] != before.get(name))
    values = {name: environ(pid).get(KEY) for name, pid in after.items()}
    wrong = sorted(
        name for name, value in values.items() if value != ("v1" if name == target else "v0")
    )
    if recreated == [target] and not wrong:
        results.note(peer.name, size, f"change: only {target} recreated, {KEY}=v1 in its environ")
        return
    text = (
        f"change: {len(recreated)} recreated ({', '.join(recreated[:5])}), "
        f"wrong value in {wrong[:5]}"
    )
    results.note(peer.name, size, text)
    raise CheckFailed(text)


# -- the report ----------------------------------------------------------------------------

ROWS = (
    ("converge", "converge from nothing", "s"),
    ("noop", "no-op re-converge", "s"),
    ("change", "change one ENV (1 service recreated)", "s"),
    ("status", "status listing", "s"),
    ("teardown", "teardown", "s"),
    ("idle_cpu_percent", "idle CPU, % of a core", "%"),
    ("idle_pss_mb", "idle memory PSS", "MB"),
    ("idle_rss_mb", "idle memory RSS", "MB"),
)


def summarize(values: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "runs": len(values),
    }


def cell(summary: dict[str, float] | None, unit: str) -> str:
    if summary is None:
        return "–"
    if unit == "s":
        return f"{summary['median']:.2f} s ({summary['min']:.2f})"
    if unit == "%":
        return f"{summary['median']:.2f} % ({summary['min']:.2f})"
    return f"{summary['median']:.0f} MB ({summary['min']:.0f})"


def ratio_cell(ours: float | None, others: dict[str, float], labels: dict[str, str]) -> str:
    """The best of ``others`` over ours (above 1: the reconciler is better), and who."""
    if ours is None or not others:
        return "–"
    best = min(others, key=lambda name: others[name])
    if ours <= 0:
        return f"∞ ({labels[best]})" if others[best] > 0 else f"= ({labels[best]})"
    return f"{others[best] / ours:.2f}× ({labels[best]})"


def table(summary: dict[str, dict[str, dict[str, dict[str, float]]]], peers: list[str]) -> str:
    labels = {name: PEER_CLASSES[name].label for name in peers}
    head = [
        "N",
        "measurement",
        *(labels[name] for name in peers),
        "best peer ÷ reconciler",
        "best compose ÷ reconciler",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    sizes = sorted({int(size) for rows in summary.values() for size in rows})
    for size in sizes:
        for row, title, unit in ROWS:
            cells = []
            found: dict[str, float] = {}
            for name in peers:
                one = summary.get(name, {}).get(str(size), {}).get(row)
                cells.append(cell(one, unit))
                if one is not None:
                    found[name] = one["median"]
            if not found:
                continue
            ours = found.get("reconciler")
            others = {name: value for name, value in found.items() if name != "reconciler"}
            composes = {name: value for name, value in others.items() if "compose" in name}
            ratios = [ratio_cell(ours, others, labels), ratio_cell(ours, composes, labels)]
            lines.append("| " + " | ".join([str(size), title, *cells, *ratios]) + " |")
    return "\n".join(lines)


def breakdown(summary: dict[str, dict[str, dict[str, dict[str, float]]]]) -> list[str]:
    """Idle memory by part (PSS, median), e.g. containerd / shims / run."""
    lines = []
    for peer, sizes in summary.items():
        for size, rows in sizes.items():
            parts = [
                f"{row.removeprefix('idle_part_').removesuffix('_pss_mb')} {value['median']:.0f} MB"
                for row, value in rows.items()
                if row.startswith("idle_part_") and row.endswith("_pss_mb")
            ]
            count = rows.get("idle_part_processes")
            if parts:
                processes = f" ({count['median']:.0f} processes)" if count else ""
                lines.append(f"- {peer} N={size}: idle PSS {', '.join(parts)}{processes}")
    return lines


def render(report: dict[str, Any]) -> str:
    summary = report["summary"]
    options = report["options"]
    names = [name for name in PEERS if name in summary]
    out = [
        f"hack/bench-peers: {report['machine']['cores']} cores, {options['rounds']} rounds, "
        f"cells median (min); idle window {options['idle_seconds']:g} s; host networking "
        "everywhere; PYTHONDONTWRITEBYTECODE unset; docker-compose with "
        "COMPOSE_PARALLEL_LIMIT=max(64, 2N)",
        "",
    ]
    if names:
        out.append(table(summary, names))
    for name, sizes_checked in report["checks"].items():
        for checked, notes in sizes_checked.items():
            out += [f"- {name} N={checked}: {text}" for text in notes]
    out += breakdown(summary)
    out += [f"- skipped {name}: {reason}" for name, reason in report["skipped"].items()]
    out += [f"- FAILED {text.splitlines()[0]}" for text in report["errors"]]
    return "\n".join(out)


def summary_of(results: Results) -> dict[str, dict[str, dict[str, dict[str, float]]]]:
    return {
        peer: {
            size: {row: summarize(values) for row, values in rows.items()}
            for size, rows in sizes.items()
        }
        for peer, sizes in results.values.items()
    }


def versions() -> dict[str, str]:
    found: dict[str, str] = {}
    for name, argv in (
        ("containerd", ["containerd", "--version"]),
        ("runc", ["runc", "--version"]),
        ("dockerd", [DOCKERD, "--version"]),
        ("docker-compose", ["docker-compose", "version", "--short"]),
        ("podman", [PODMAN, "--version"]),
        ("podman-compose", ["dpkg-query", "-W", "-f", "${Version}", "podman-compose"]),
        ("reconciler", [*reconciler_command(), "--version"]),
    ):
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, check=False, timeout=30, env=clean_env()
            )
        except OSError:
            continue
        if done.returncode == 0 and done.stdout.strip():
            found[name] = done.stdout.strip().splitlines()[0]
    return found


# -- main ----------------------------------------------------------------------------------


def install(peers: list[str]) -> None:
    wanted = sorted({package for peer in peers for package in DEBIAN_PACKAGES.get(peer, ())})
    missing = [
        package
        for package in wanted
        if "install ok installed"
        not in subprocess.run(
            ["dpkg-query", "-W", "-f", "${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    ]
    if not missing:
        return
    print(f"... apt-get install {' '.join(missing)}", file=sys.stderr, flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)


def umount_under(base: Path) -> None:
    """Lazily unmount whatever a daemon left mounted under the scratch dir."""
    mounts = []
    for line in Path("/proc/self/mounts").read_text().splitlines():
        point = line.split()[1].replace("\\040", " ")
        if point == str(base) or point.startswith(f"{base}/"):
            mounts.append(point)
    for point in sorted(mounts, key=len, reverse=True):
        subprocess.run(["umount", "-l", point], capture_output=True, check=False)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hack/bench-peers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--sizes", default="20,100", help="service counts (default 20,100)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument(
        "--skip", action="append", default=[], choices=[*PEERS, "idle"], help="a peer, or idle"
    )
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="idle window")
    parser.add_argument("--settle", type=float, default=3.0, help="wait before the window")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument(
        "--install", action="store_true", help="apt-get install missing peers first"
    )
    parser.add_argument(
        "--table-from",
        type=Path,
        metavar="FILE",
        help="print the table of a --json file, run nothing",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if options.table_from:
        print(render(json.loads(options.table_from.read_text())))
        return 0
    try:
        sizes = [int(size) for size in options.sizes.split(",") if size]
    except ValueError:
        parser.error(f"--sizes: not a list of numbers: {options.sizes}")
    if not sizes or min(sizes) < 1 or options.rounds < 1:
        parser.error("--sizes and --rounds want positive numbers")
    wanted = [name for name in PEERS if name not in options.skip]
    # SIGTERM unwinds like Ctrl-C, so the daemons below are still stopped by their pids.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if options.install:
        install(wanted)

    results = Results()
    for name in options.skip:
        if name in PEERS:
            results.skipped[name] = "--skip"
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="bench-peers-", dir="/tmp"))
    shared = Shared(base=base, layout=base / "img", archive=base / "image.tar", reference="")
    peers: list[Peer] = []
    try:
        built = build_image(ImageSpec(name=IMAGE))
        shared.reference = built.reference
        write_layout(built, shared.layout)
        write_archive(built, shared.archive)
        peers = _set_up(wanted, shared, results)
        _run_rounds(peers, sizes, options, results, started)
    finally:
        for peer in reversed(peers):
            with suppress(Exception):
                peer.close()
        if shared.containerd is not None:
            shared.containerd.stop()
        umount_under(base)
        shutil.rmtree(base, ignore_errors=True)

    report = build_report(results, options, sizes, started, final=True)
    print(render(report))
    if options.json:
        options.json.write_text(json.dumps(report, indent=2) + "\n")
    return 1 if results.errors else 0


def _set_up(wanted: list[str], shared: Shared, results: Results) -> list[Peer]:
    """The peers that could be set up; the others are skipped with the reason."""
    peers: list[Peer] = []
    for name in wanted:
        peer = PEER_CLASSES[name](shared)
        print(f"... set up {name}", file=sys.stderr, flush=True)
        try:
            peer.setup()
        except (PeerUnavailable, OSError, RuntimeError) as error:
            results.skipped[name] = str(error).strip().splitlines()[0]
            print(f"    skipped: {results.skipped[name]}", file=sys.stderr, flush=True)
            with suppress(Exception):
                peer.close()
            continue
        peers.append(peer)
    return peers


def _run_rounds(
    peers: list[Peer],
    sizes: list[int],
    options: argparse.Namespace,
    results: Results,
    started: float,
) -> None:
    """Every size under every peer, round after round, the peers' order rotating so that
    none always runs first (a warm cache) or last (a hot machine)."""
    for round_index in range(options.rounds):
        for size in sizes:
            shift = round_index % max(len(peers), 1)
            for peer in peers[shift:] + peers[:shift]:
                print(
                    f"... round {round_index + 1}/{options.rounds}, N={size}, {peer.name}",
                    file=sys.stderr,
                    flush=True,
                )
                try:
                    cycle(peer, size, options, results)
                except Exception as error:  # reported, and the next cycle runs
                    text = f"{peer.name} N={size} round {round_index + 1}: {error}"
                    results.errors.append(text)
                    print(f"    FAILED: {text}", file=sys.stderr, flush=True)
                if options.json:  # a partial run still leaves its numbers
                    partial = build_report(results, options, sizes, started, final=False)
                    options.json.write_text(json.dumps(partial, indent=2) + "\n")


def build_report(
    results: Results, options: argparse.Namespace, sizes: list[int], started: float, *, final: bool
) -> dict[str, Any]:
    return {
        "what": "hack/bench-peers: the same stack under four systems, interleaved rounds",
        "complete": final,
        "machine": {
            "cores": os.cpu_count(),
            "kernel": platform.release(),
            "python": platform.python_version(),
        },
        "versions": versions() if final else {},
        "options": {
            "sizes": sizes,
            "rounds": options.rounds,
            "idle_seconds": options.idle_seconds,
            "settle_seconds": options.settle,
        },
        "notes": [
            "host networking for every system (compose: network_mode: host)",
            "PYTHONDONTWRITEBYTECODE unset for every command",
            "docker-compose runs with COMPOSE_PARALLEL_LIMIT=max(64, 2N) (1.29 deadlocks at N>=64)",
            "cells: median (min) over the rounds",
        ],
        "summary": summary_of(results),
        "values": results.values,
        "checks": results.checks,
        "skipped": results.skipped,
        "errors": results.errors,
        "total_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    sys.exit(main())
