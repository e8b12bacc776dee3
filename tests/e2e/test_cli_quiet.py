"""`apply -q` and `down -q`: nothing when all is well, errors only, and one line naming
what did not converge. Real processes on the test's containerd; every test ends with
`down` and `leak-check` (the `run` fixture, whose `run` is never started here)."""

from __future__ import annotations

from tests.support.run_process import RunProcess

WEB = "SERVICE web\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n"
BROKEN = "SERVICE broken\n  FROM ./img\n  CMD sh -c 'exit 3'\n  RESTART no\n"


def test_quiet_apply_and_down_print_nothing_when_all_is_well(run: RunProcess) -> None:
    run.orchfile.write_text(WEB)

    applied = run.cli("apply", "--wait", "-q")
    assert (applied.returncode, applied.stdout, applied.stderr) == (0, "", "")
    assert run.running("web")

    down = run.cli("down", "--quiet")
    assert (down.returncode, down.stdout, down.stderr) == (0, "", "")
    assert run.containers() == []


def test_quiet_apply_that_does_not_converge_says_so_in_one_line(run: RunProcess) -> None:
    run.orchfile.write_text(WEB + "\n" + BROKEN)
    loud = run.cli("apply", "--wait", "--timeout", "60s")
    assert "create web: not created yet" in loud.stderr  # what -q leaves out
    run.cli("down")

    applied = run.cli("apply", "--wait", "--timeout", "60s", "-q")

    assert applied.returncode == 1
    assert applied.stderr == ""
    assert applied.stdout.splitlines() == [
        "not converged: broken: exited (exit code 3; not restarted (RESTART no))"
    ]
