"""The reconciler itself failing: SIGKILLed at random points of `apply`, then run again.

Twenty trials kill an `apply` subprocess after a random delay (seeded, so a failure
replays); a final `apply` must converge with exactly the desired containers, release the
leases the killed ones held, and `down` must leave nothing.
"""

from __future__ import annotations

import contextlib
import random
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.reliability.conftest import Stack

pytestmark = pytest.mark.slow

TRIALS = 20
SEED = 7
SERVICES = [f"s{index}" for index in range(4)]
SERVICE = """\
SERVICE {name}
  FROM ./img
  CMD sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  TIMEOUT_STOP 5s
"""


def test_apply_sigkilled_at_random_points_then_rerun_converges_without_duplicates(
    stack: Stack, tmp_path: Path
) -> None:
    stack.write("\n".join(SERVICE.format(name=name) for name in SERVICES))
    expected = [f"app-{name}" for name in SERVICES]
    delays = random.Random(SEED)
    log = tmp_path / "apply.log"
    for trial in range(TRIALS):
        if trial % 5 == 4:
            # Sometimes from nothing, so kills also land in image import and first creates.
            assert stack.cli("down").code == 0
        child = stack.spawn("apply", "--wait", "--timeout", "60s", log=log)
        # The kill point: a random delay, or the end of an apply that finished first.
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout=delays.uniform(0.3, 2.5))
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        assert "Traceback" not in log.read_text()

    final = stack.cli("apply", "--wait", "--timeout", "60s")
    assert final.code == 0, final.err
    assert stack.containers() == expected
    assert stack.running() == expected
    assert stack.cli("plan").out == "no changes\n"
    # What the killed applies held (leases of imports and creates in flight) was released
    # by the last one, not left to expire.
    leases = stack.containerd.ctr("leases", "ls").splitlines()[1:]
    assert [line for line in leases if line.startswith("reconciler-")] == []
