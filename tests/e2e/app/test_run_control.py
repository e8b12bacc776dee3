"""`run` as the one writer: the other commands go through it, and it tells the truth.

A real `reconciler run` process on the test's containerd; `status`, `apply`, `restart`,
`down` and `events` run beside it as real processes; containerd is checked with `ctr`.
Every test ends with `down` and `leak-check`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from reconciler.app.embedded import EmbeddedContainerd
from tests.support.polling import eventually
from tests.support.run_process import RunProcess

SLEEPER = """\
SERVICE web
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES web
  TIMEOUT_STOP 1s
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(run: RunProcess, text: str, *names: str) -> dict[str, str]:
    run.orchfile.write_text(text)
    run.start()
    return run.wait_running(*names)


def test_down_while_run_is_active_tears_down_and_ends_run(run: RunProcess) -> None:
    start(run, SLEEPER, "web", "worker")

    done = run.cli("down")

    assert done.returncode == 0, done.stdout + done.stderr
    assert run.process is not None
    assert run.process.wait(timeout=30) == 0
    assert run.containers() == []
    assert run.logged("down requested")


def test_status_after_down_with_no_run_claims_no_work_in_progress(run: RunProcess) -> None:
    start(run, SLEEPER, "web", "worker")
    assert run.cli("down").returncode == 0
    assert run.process is not None
    run.process.wait(timeout=30)

    status = run.status()

    assert status["reconciler"] is None
    states = {s["name"]: s["state"] for s in status["services"]}
    assert states == {"web": "pending", "worker": "blocked"}
    web = next(s for s in status["services"] if s["name"] == "web")
    assert "nothing is reconciling it" in web["reason"]
    assert run.cli("status").returncode == 3


def test_status_through_run_is_its_live_view(run: RunProcess) -> None:
    start(run, SLEEPER, "web", "worker")
    eventually(run.converged, timeout=30, what="converged")

    status = run.status()

    info = status["reconciler"]
    assert info is not None
    assert run.process is not None
    assert info["pid"] == run.process.pid
    assert info["files"] == [str(run.orchfile)]
    assert info["passes"] >= 1
    assert info["last_load"]["digest"]
    assert all(r["reachable"] for r in info["runtimes"])


def test_a_failing_http_check_says_why_in_status(run: RunProcess) -> None:
    port = free_port()
    text = (
        "SERVICE web\n  FROM ./img\n"
        f"  CMD httpd -f -p {port} -h /\n"
        f"  HEALTHCHECK http://127.0.0.1:{port}/missing-page\n"
        "  READINESS_TIMEOUT 2s\n  TIMEOUT_STOP 1s\n"
    )
    start(run, text, "web")

    def unhealthy() -> dict[str, Any]:
        web = run.service("web")
        assert web["health"] == "unhealthy", web
        return web

    web = eventually(unhealthy, timeout=30, what="unhealthy")
    detail = f"HTTP 404 from http://127.0.0.1:{port}/missing-page"
    assert web["health_detail"] == detail
    assert detail in web["reason"]
    done = run.cli("apply", "--wait", "--timeout", "5s")
    assert done.returncode == 1
    assert f"web: unhealthy ({detail})" in done.stdout


def test_an_oom_killed_service_is_reported_as_oom_killed(run: RunProcess) -> None:
    text = (
        "SERVICE hog\n  FROM ./img\n"
        "  CMD sh -c 'head -c 300000000 /dev/zero | tail > /dev/null'\n"
        "  MEMORY 32M\n  RESTART no\n"
    )
    run.orchfile.write_text(text)
    run.start()

    def exited() -> dict[str, Any]:
        hog = run.service("hog")
        assert hog["state"] == "exited", hog
        return hog

    hog = eventually(exited, timeout=60, what="the OOM kill")
    assert hog["oom_killed"] is True
    assert hog["reason"].startswith("oom-killed")
    assert run.logged("hog was oom-killed; left exited by its RESTART policy")


def test_a_service_that_gave_up_is_retried_by_restart_and_by_apply(
    run: RunProcess, tmp_path: Path
) -> None:
    flag = run.directory / "flag"
    flag.mkdir()
    text = (
        "SERVICE flaky\n  FROM ./img\n"
        "  CMD sh -c 'test -f /flag/ok || exit 3; sleep 1000'\n"
        "  VOLUME ./flag:/flag\n"
        "  RESTART always\n  RESTART_DELAY 1s\n"
        "  START_LIMIT_BURST 2\n  START_LIMIT_INTERVAL 60s\n  TIMEOUT_STOP 1s\n"
    )
    run.orchfile.write_text(text)
    run.start()
    eventually(lambda: run.service("flaky")["state"] == "failed", timeout=60, what="failed")
    assert run.logged("gave up on flaky after 2 starts")

    (flag / "ok").write_text("")
    done = run.cli("restart", "flaky")
    assert done.returncode == 0, done.stdout + done.stderr
    assert run.running("flaky")

    (flag / "ok").unlink()
    assert run.containerd is not None
    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-flaky")
    eventually(lambda: run.service("flaky")["state"] == "failed", timeout=60, what="failed again")
    (flag / "ok").write_text("")
    done = run.cli("apply", "--wait", "--timeout", "60s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert run.running("flaky")


def test_apply_while_run_is_active_goes_through_it(run: RunProcess) -> None:
    start(run, SLEEPER.replace("  REQUIRES web\n", "  REQUIRES web\n  RESTART always\n"), "web")
    assert run.containerd is not None
    run.wait_running("worker")
    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-worker")

    done = run.cli("apply", "--wait", "--timeout", "60s")

    assert done.returncode == 0, done.stdout + done.stderr
    assert run.running("web", "worker")
    assert done.stderr == ""  # no lock refused, nothing done twice: `run` did the work


def test_events_json_lines_name_each_action_and_its_cause(run: RunProcess) -> None:
    start(run, SLEEPER, "web", "worker")
    eventually(run.converged, timeout=30, what="converged")
    events = subprocess.Popen(
        run.command("events", "-o", "json"),
        env=run.env,
        stdout=subprocess.PIPE,
        text=True,
    )
    lines: list[dict[str, Any]] = []
    reader = threading.Thread(
        target=lambda: lines.extend(json.loads(line) for line in events.stdout or ()),
        daemon=True,
    )
    reader.start()
    try:
        # A save with a comment says "desired state reloaded": the stream is live once it
        # shows one (the first saves may come before `events` has subscribed).
        def live() -> bool:
            run.orchfile.write_text(SLEEPER + f"# {time.monotonic()}\n")
            return any(e["kind"] == "desired-loaded" for e in lines)

        eventually(live, timeout=20, interval=1, what="the stream")
        done = run.cli("restart", "worker")
        assert done.returncode == 0, done.stdout + done.stderr

        def recreated() -> bool:
            return any(e["kind"] == "action-finished" and e["service"] == "worker" for e in lines)

        eventually(recreated, timeout=30, what="the recreate's end in the stream")
    finally:
        events.terminate()
        events.wait(timeout=10)
        reader.join(timeout=10)
        if events.stdout is not None:
            events.stdout.close()
    started = next(e for e in lines if e["kind"] == "action-started")
    assert all("line" in e and e["time"].endswith("Z") for e in lines)
    assert (started["service"], started["verb"], started["cause"]) == (
        "worker",
        "recreate",
        "restart requested",
    )
    finished = next(e for e in lines if e["kind"] == "action-finished")
    assert finished["error"] is None
    assert finished["duration"] >= 0
    assert all({"time", "kind", "line"} <= set(e) for e in lines)


def test_events_without_run_is_an_error_that_says_so(run: RunProcess) -> None:
    run.orchfile.write_text(SLEEPER)

    done = run.cli("events")

    assert done.returncode == 1
    assert done.stderr.strip() == (
        "error: events come from a running `reconciler run`; none holds project 'app' in "
        f"namespace '{run.env['RECONCILER_NAMESPACE']}'"
    )


def embedded_ctr(run: RunProcess, *args: str) -> str:
    socket_path = EmbeddedContainerd.under(run.state).socket
    namespace = run.env["RECONCILER_NAMESPACE"]
    done = subprocess.run(
        ["ctr", "-a", str(socket_path), "-n", namespace, *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def embedded_tasks(run: RunProcess) -> dict[str, tuple[str, str]]:
    rows = embedded_ctr(run, "tasks", "ls").splitlines()[1:]
    return {f[0]: (f[1], f[2]) for f in (row.split() for row in rows)}


def test_run_restarts_its_embedded_containerd_and_adopts_what_survived(
    embedded_run: RunProcess,
) -> None:
    run = embedded_run
    run.orchfile.write_text(SLEEPER)
    run.start()
    daemon = EmbeddedContainerd.under(run.state)

    def both_running() -> dict[str, tuple[str, str]]:
        tasks = embedded_tasks(run)
        assert {k: v[1] for k, v in tasks.items()} == {
            "app-web": "RUNNING",
            "app-worker": "RUNNING",
        }, tasks
        return tasks

    before = eventually(both_running, timeout=60, what="the stack on the embedded daemon")
    old_daemon = daemon.pid()
    assert old_daemon is not None
    os.kill(old_daemon, signal.SIGKILL)

    eventually(lambda: daemon.pid() not in (None, old_daemon), timeout=10, what="a new daemon")
    after = eventually(both_running, timeout=10, what="the stack seen again")
    assert after == before, "the containers were restarted or duplicated"
    eventually(run.converged, timeout=10, what="status converged")
    assert sorted(embedded_ctr(run, "containers", "ls", "-q").split()) == [
        "app-web",
        "app-worker",
    ]
    assert run.logged("the embedded containerd")


def test_a_project_of_host_services_needs_no_containerd(
    tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    if Path("/run/containerd/containerd.sock").exists():
        pytest.skip("a system containerd answers here")
    directory = tmp_path / "app"
    directory.mkdir()
    run = RunProcess(
        directory, None, tmp_path_factory.mktemp("hostonly"), namespace=f"h-{os.getpid()}"
    )
    run.orchfile.write_text("SERVICE clock\n  RUN sleep 1000\n  TIMEOUT_STOP 1s\n")

    plan = run.cli("plan")
    assert (plan.returncode, plan.stdout) == (2, "create clock: not created yet\n"), plan.stderr
    apply = run.cli("apply", "--wait", "--timeout", "30s")
    assert apply.returncode == 0, apply.stdout + apply.stderr
    status = run.status()
    assert status["converged"] is True
    assert status["runtime_error"] is None
    down = run.cli("down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert not EmbeddedContainerd.under(run.state).socket.exists(), "containerd was started"
    check = run.cli("leak-check", "-o", "json")
    classes = json.loads(check.stdout)["classes"]
    for name in ("host-processes", "volumes", "log-files"):
        assert (classes[name]["checked"], classes[name]["leaked"]) == (True, []), name
