"""A service that writes ~50 MB of log quickly: `logs --tail` stays fast and exact."""

from __future__ import annotations

import time

import pytest

from tests.e2e.reliability.conftest import Stack
from tests.support.polling import eventually

pytestmark = pytest.mark.slow

# 50 MB of filler lines, then five numbered lines the tail must show, then done.
FILLER = 'yes "filler line of a chatty service" | head -c 52428800'
LAST = 'for i in 1 2 3 4 5; do echo "last $i"; done'
CHATTY = f"""\
SERVICE chatty
  FROM ./img
  CMD sh -c '{FILLER}; {LAST}'
  ONESHOT true
"""


def test_fifty_megabytes_of_log_tail_fast_and_correct_and_down_stays_clean(stack: Stack) -> None:
    stack.write(CHATTY)
    up = stack.cli("apply", "--wait", "--timeout", "120s")
    assert up.code == 0, up.err

    # The shim may still be copying the pipe into the file when the exit is reported.
    log = next(stack.state.rglob("chatty.log"))
    eventually(lambda: log.read_bytes()[-7:] == b"last 5\n", timeout=30, what="log complete")
    assert log.stat().st_size > 50 * 1024 * 1024

    started = time.monotonic()
    tail = stack.cli("logs", "chatty", "--tail", "5")
    elapsed = time.monotonic() - started

    assert tail.code == 0, tail.err
    assert tail.out == "".join(f"last {i}\n" for i in range(1, 6))
    assert elapsed < 1.0
