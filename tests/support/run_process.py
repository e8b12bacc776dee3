"""`reconciler run` as a user runs it: a real process watching a real Orchfile, and the
other commands run beside it as real processes, checked from outside with `ctr`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.containerd import NamespacedContainerd
from tests.support.network_census import network_objects
from tests.support.polling import eventually

PROJECT = "app"


class RunProcess:
    def __init__(
        self,
        directory: Path,
        containerd: NamespacedContainerd | None,
        state: Path,
        *,
        namespace: str | None = None,
        project: str = PROJECT,
    ) -> None:
        self.project = project
        self.directory = directory
        self.orchfile = directory / "Orchfile"
        self.containerd = containerd
        self.state = state
        self.env = {**os.environ, "RECONCILER_STATE_DIR": str(state)}
        self.env.pop("CONTAINERD_ADDRESS", None)
        if containerd is not None:
            self.env["CONTAINERD_ADDRESS"] = str(containerd.socket)
        self.namespace = namespace or (containerd.namespace if containerd is not None else "orch")
        self.env["RECONCILER_NAMESPACE"] = self.namespace
        self.log = directory.parent / "run.log"
        self.process: subprocess.Popen[bytes] | None = None

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable, "-m", "reconciler", *args,
            "-f", str(self.orchfile), "--project", self.project,
        ]  # fmt: skip

    def start(self, *args: str, env: Mapping[str, str] | None = None) -> None:
        """`run` with `args` after its own, and `env` over the test's environment."""
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command("run"), *args],
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> int:
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args),
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    def status(self) -> dict[str, Any]:
        done = self.cli("status", "-o", "json")
        assert done.returncode in (0, 3), done.stderr
        tree: dict[str, Any] = json.loads(done.stdout)
        return tree

    def service(self, name: str) -> dict[str, Any]:
        return next(s for s in self.status()["services"] if s["name"] == name)

    def logged(self, text: str) -> bool:
        return text in self.log.read_text(errors="replace")

    # What containerd says, through `ctr`.

    def tasks(self) -> dict[str, tuple[str, str]]:
        """Task id -> (pid, status)."""
        assert self.containerd is not None
        rows = self.containerd.ctr("tasks", "ls").splitlines()[1:]
        return {f[0]: (f[1], f[2]) for f in (row.split() for row in rows)}

    def containers(self) -> list[str]:
        assert self.containerd is not None
        return sorted(self.containerd.ctr("containers", "ls", "-q").split())

    def running(self, *names: str) -> bool:
        tasks = self.tasks()
        return all(tasks.get(f"{self.project}-{name}", ("", ""))[1] == "RUNNING" for name in names)

    def pids(self, *names: str) -> dict[str, str]:
        tasks = self.tasks()
        return {name: tasks[f"{self.project}-{name}"][0] for name in names}

    def wait_running(self, *names: str, timeout: float = 60) -> dict[str, str]:
        eventually(lambda: self.running(*names), timeout=timeout, what=f"{names} running")
        return self.pids(*names)

    def converged(self) -> bool:
        return bool(self.status()["converged"])

    def down_and_check_leaks(self) -> None:
        """The end of every test: `down` (through `run` if it still runs), then
        `leak-check` says the project left nothing."""
        done = self.cli("down", "--timeout", "2s")
        assert done.returncode == 0, done.stdout + done.stderr
        if self.process is not None:
            self.process.wait(timeout=30)
        check = self.cli("leak-check", "--settle", "10s")
        assert check.returncode == 0, check.stdout + check.stderr
        assert network_objects(self.state, self.namespace, [self.project]) == []
