"""Watching a real `run` from outside: its Prometheus metrics over HTTP, and what it tells
systemd on a notify socket the test binds, as systemd would.

A real `reconciler run` on the test's containerd; services are killed with `ctr`. Every
test ends with `down` and `leak-check` (the `run` fixture).
"""

from __future__ import annotations

import socket
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.polling import eventually
from tests.support.processes import free_port
from tests.support.run_process import RunProcess

WEB = """\
SERVICE web
  FROM ./img
  CMD sleep 1000
  RESTART always
  TIMEOUT_STOP 1s
"""
STACK = (
    WEB + "\nSERVICE worker\n  FROM ./img\n  CMD sleep 1000\n  REQUIRES web\n  TIMEOUT_STOP 1s\n"
)

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(port: int) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def sample(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_served_and_count_what_run_does(run: RunProcess) -> None:
    port = free_port()
    run.orchfile.write_text(WEB)
    run.start("--metrics-address", f"127.0.0.1:{port}")
    run.wait_running("web")

    def created() -> Samples:
        samples = scrape(port)
        assert sample(samples, "reconciler_services_running") == 1, samples
        return samples

    first = eventually(created, timeout=30, what="web running in the metrics")
    assert sample(first, "reconciler_actions_total", verb="create", outcome="succeeded") == 1
    assert sample(first, "reconciler_services_desired") == 1
    assert sample(first, "reconciler_runtime_reachable", runtime="containerd") == 1
    assert sample(first, "reconciler_pass_duration_seconds_count") >= 1
    assert sample(first, "reconciler_service_restarts_total", service="web") == 0
    assert run.logged(f"metrics on http://127.0.0.1:{port}/metrics")

    assert run.containerd is not None
    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-web")

    def restarted() -> Samples:
        samples = scrape(port)
        assert sample(samples, "reconciler_service_restarts_total", service="web") == 1, samples
        return samples

    after = eventually(restarted, timeout=30, what="the restart counted")
    assert sample(after, "reconciler_service_exits_total", service="web", exit="137") == 1
    assert sample(after, "reconciler_actions_total", verb="restart", outcome="succeeded") == 1
    assert sample(after, "reconciler_journal_entries_total", kind="task-exited") == 1
    eventually(lambda: sample(scrape(port), "reconciler_converged") == 1, timeout=30)


def test_a_metrics_address_in_use_ends_run_at_once_in_one_line(run: RunProcess) -> None:
    run.orchfile.write_text(WEB)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run.start(env={"RECONCILER_METRICS_ADDRESS": f"127.0.0.1:{port}"})
        assert run.process is not None
        assert run.process.wait(timeout=30) == 1
    lines = run.log.read_text().splitlines()
    assert lines == [f"error: cannot serve metrics on 127.0.0.1:{port}: Address already in use"]
    assert run.containers() == []


class NotifySocket:
    """A unix datagram socket as systemd binds it, and every line received on it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.2)
        self.lines: list[str] = []
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while not self._done.is_set():
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            self.lines.extend(data.decode().split("\n"))

    def close(self) -> None:
        self._done.set()
        self._reader.join(timeout=5)
        self._sock.close()


@pytest.fixture
def notify_socket() -> Iterator[NotifySocket]:
    with tempfile.TemporaryDirectory(prefix="notify-") as directory:  # short: sun_path
        listening = NotifySocket(Path(directory) / "notify")
        yield listening
        listening.close()


def test_systemd_hears_ready_status_watchdog_and_stopping_in_order(
    run: RunProcess, notify_socket: NotifySocket
) -> None:
    run.orchfile.write_text(STACK)
    run.start(env={"NOTIFY_SOCKET": str(notify_socket.path), "WATCHDOG_USEC": "1000000"})
    heard = notify_socket.lines

    eventually(lambda: "READY=1" in heard, timeout=60, what="READY=1")
    eventually(lambda: "STATUS=2 services: 2 running" in heard, timeout=60, what="both running")
    ready = heard.index("READY=1")
    eventually(lambda: heard[ready:].count("WATCHDOG=1") >= 3, timeout=10, what="watchdog pings")
    run.stop()

    lines = list(heard)
    assert lines.count("READY=1") == 1  # the embedded containerd, if any, never speaks
    statuses = [n for n, line in enumerate(lines) if line.startswith("STATUS=")]
    assert statuses[0] == ready + 1  # READY comes with the first status
    stopping = lines.index("STOPPING=1")
    assert stopping > max(n for n in statuses if lines[n] != "STATUS=stopping")
    assert lines[stopping + 1] == "STATUS=stopping"
    assert {line.partition("=")[0] for line in lines} == {
        "READY",
        "STATUS",
        "WATCHDOG",
        "STOPPING",
    }


def test_the_embedded_containerd_never_notifies_systemd_in_runs_name(
    embedded_run: RunProcess, notify_socket: NotifySocket
) -> None:
    """containerd speaks the protocol too (READY=1 when it has started): `run` must not
    pass NOTIFY_SOCKET on to the daemon it starts."""
    run = embedded_run
    run.orchfile.write_text(WEB)
    run.start(env={"NOTIFY_SOCKET": str(notify_socket.path)})
    heard = notify_socket.lines

    eventually(lambda: "STATUS=1 service: 1 running" in heard, timeout=60, what="web running")
    run.stop()

    assert heard.count("READY=1") == 1
    assert heard[0] == "READY=1"  # the daemon, started before the first pass, said nothing
