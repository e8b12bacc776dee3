"""`reconciler run` as a user runs it: a process watching the Orchfile, edited and saved.

The reconciler runs as a subprocess against the test's containerd namespace; the test
saves the Orchfile the way editors do and checks containerd with `ctr`. Every test ends
with `down` (through `run` while it lives) and `leak-check`.
"""

from __future__ import annotations

from tests.support.polling import eventually
from tests.support.run_process import RunProcess

BASE = """\
SERVICE web
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES web
  RESTART always
  TIMEOUT_STOP 1s
"""


def save(run: RunProcess, text: str) -> None:
    """Like an editor: write a temporary file, then rename it over the Orchfile."""
    temporary = run.directory / ".Orchfile.tmp"
    temporary.write_text(text)
    temporary.rename(run.orchfile)


def test_saves_add_change_and_remove_services_while_running(run: RunProcess) -> None:
    save(run, BASE)
    run.start()
    web_pid = run.wait_running("web", "worker")["web"]

    save(run, BASE + "  ENV MODE=debug\n")
    eventually(
        lambda: run.logged("recreate worker: config changed (ENV MODE)"),
        timeout=10,
        what="the recreate",
    )
    run.wait_running("worker", timeout=10)
    assert run.pids("web")["web"] == web_pid

    save(run, BASE + "\nSERVICE extra\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n")
    run.wait_running("extra", timeout=10)

    save(run, BASE)
    eventually(lambda: "app-extra" not in run.tasks(), timeout=10, what="the removal")
    assert run.stop() == 0
    assert run.running("web", "worker")


def test_an_invalid_save_is_reported_and_nothing_is_torn_down(run: RunProcess) -> None:
    save(run, BASE)
    run.start()
    run.wait_running("web", "worker")
    before = run.tasks()
    save(run, BASE.replace("REQUIRES web", "REQUIRES nowhere"))
    eventually(
        lambda: run.logged("REQUIRES references unknown service 'nowhere'"),
        timeout=10,
        what="the error",
    )
    assert run.tasks() == before
    status = run.status()
    assert status["orchfile"]["valid"] is False
    assert status["converged"] is False
    assert run.cli("status").returncode == 3
    save(run, BASE)
    eventually(lambda: run.logged("the Orchfile is valid again"), timeout=10, what="repaired")


def test_a_killed_task_is_restarted_by_its_policy(run: RunProcess) -> None:
    save(run, BASE)
    run.start()
    old_pid = run.wait_running("web", "worker")["worker"]
    assert run.containerd is not None
    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-worker")
    eventually(
        lambda: run.running("worker") and run.pids("worker")["worker"] != old_pid,
        timeout=15,
        what="a restarted worker",
    )
    assert run.logged("restart worker: exit code 137 (RESTART always)")
