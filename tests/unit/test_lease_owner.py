"""A lease names the process holding it by pid and start time: a reused pid is not it."""

from __future__ import annotations

import os
from pathlib import Path

from reconciler.drivers.containerd.lease_owner import identity, is_gone, this_process


def test_this_process_is_alive_and_a_reused_pid_is_not_the_owner() -> None:
    me = this_process()
    pid, _, started = me.partition("@")
    assert pid == str(os.getpid())
    assert not is_gone(me)
    assert is_gone(f"{pid}@{int(started) + 1}")


def test_a_process_that_is_not_there_is_gone_and_a_malformed_owner_is_not_judged(
    tmp_path: Path,
) -> None:
    assert identity(4242, proc=tmp_path) is None
    assert is_gone("4242@17", proc=tmp_path)
    assert not is_gone("", proc=tmp_path)
    assert not is_gone("not-a-pid", proc=tmp_path)
