"""`run` keeps services alive, not only started: a service that was healthy and fails its
check three times in a row is restarted through its restart policy (liveness), and a
service restarted or recreated takes those that REQUIRE it along (BindsTo), once it is
ready again. Checked from outside with `ctr`; each test ends with `down` and a leak check."""

from __future__ import annotations

import time

from tests.support.polling import eventually
from tests.support.run_process import RunProcess

# Healthy while /tmp/ok exists in the container; the check file is made at start.
CHECKED = """\
SERVICE web
  FROM ./img
  CMD sh -c 'touch /tmp/ok; trap "exit 0" TERM; sleep 1000 & wait'
  HEALTHCHECK test -f /tmp/ok
  RESTART always
  RESTART_DELAY 1s
  TIMEOUT_STOP 2s
"""
LIVENESS_PERIOD = 5.0
LIVENESS_FAILURES = 3


def test_a_service_whose_check_starts_failing_is_restarted_within_its_budget(
    run: RunProcess,
) -> None:
    run.orchfile.write_text(CHECKED)
    run.start()
    before = run.wait_running("web")["web"]
    eventually(lambda: run.service("web")["health"] == "healthy", timeout=30, what="healthy")
    assert run.containerd is not None

    run.containerd.ctr("tasks", "exec", "--exec-id", "break", "app-web", "rm", "/tmp/ok")
    broken = time.monotonic()

    def restarted() -> bool:
        pid, state = run.tasks().get("app-web", ("", ""))
        return state == "RUNNING" and pid != before

    budget = LIVENESS_FAILURES * LIVENESS_PERIOD + 1.0 + 5.0  # + RESTART_DELAY + a pass
    eventually(restarted, timeout=budget, what="web restarted")
    assert time.monotonic() - broken <= budget
    eventually(lambda: run.service("web")["health"] == "healthy", timeout=30, what="healthy")
    assert run.logged("restart web: unhealthy for 3 checks (exit code 1 from `test -f /tmp/ok`)")
    assert run.service("web")["restarts"] == 1


def test_a_required_service_killed_and_restarted_takes_its_dependent_along(
    run: RunProcess,
) -> None:
    run.orchfile.write_text(
        CHECKED
        + """
SERVICE worker
  FROM ./img
  CMD sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  REQUIRES web
  TIMEOUT_STOP 2s
"""
    )
    run.start()
    first = run.wait_running("web", "worker")
    eventually(lambda: run.service("web")["health"] == "healthy", timeout=30, what="healthy")
    assert run.containerd is not None

    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-web")

    def both_restarted() -> bool:
        tasks = run.tasks()
        return all(
            tasks.get(f"app-{name}", ("", ""))[1] == "RUNNING"
            and tasks[f"app-{name}"][0] != first[name]
            for name in ("web", "worker")
        )

    eventually(both_restarted, timeout=60, what="web and then worker restarted")
    assert run.logged("restart worker: web was restarted")
    log = run.log.read_text()
    assert log.index("restart web: exit code 137") < log.index("restart worker: web was restarted")
