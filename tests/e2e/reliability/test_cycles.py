"""Fifty up/down cycles of six services leave every count where it started.

The cycles run in this process through `reconciler.cli.main`, so the open file
descriptors, threads and asyncio tasks counted are the reconciler's own; containerd's
objects, shims, rootfs mounts and cgroups are counted with `ctr`, `/proc` and cgroupfs.
"""

from __future__ import annotations

import pytest

from tests.e2e.reliability.conftest import Stack
from tests.support import census

pytestmark = pytest.mark.slow

CYCLES = 50
SERVICES = [f"s{index}" for index in range(6)]
# PID 1 of a pid namespace has no default SIGTERM action: trap it so `down` is prompt.
SERVICE = """\
SERVICE {name}
  FROM ./img
  CMD sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  TIMEOUT_STOP 5s
"""


def test_fifty_up_down_cycles_of_six_services_return_every_count_to_baseline(
    stack: Stack,
) -> None:
    stack.write("\n".join(SERVICE.format(name=name) for name in SERVICES))
    ns = stack.containerd.namespace
    expected = [f"app-{name}" for name in SERVICES]

    def cycle() -> None:
        up = stack.cli("apply", "--wait", "--timeout", "60s")
        assert up.code == 0, up.err
        assert stack.running() == expected
        down = stack.cli("down")
        assert down.code == 0, down.out + down.err

    # The first cycle imports the image and lets grpc create its process-wide poller and
    # thread once; the baseline is what every later cycle must return to.
    cycle()
    baseline = census.take(stack.containerd.ctr, ns)
    assert (baseline.containers, baseline.tasks, baseline.shims, baseline.leases) == (0, 0, 0, 0)
    for number in range(2, CYCLES + 1):
        cycle()
        after = census.take(stack.containerd.ctr, ns)
        assert after == baseline, f"cycle {number}: {after.differences(baseline)}"
