"""Deleting a task of a shared shim: the shim may exit before it answers (the delete of
another of its tasks asked it to), which containerd reports as a closed connection."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.clock import SystemClock
from reconciler.drivers.containerd.task_control import TaskControl
from reconciler.errors import NotFound, RuntimeFailure

pytestmark = pytest.mark.asyncio

CLOSED = "containerd at /x.sock: Tasks.Delete: UNKNOWN: failed to delete task: ttrpc: closed"


class _Tasks:
    def __init__(self, error: Exception, *, still_listed: bool) -> None:
        self.error = error
        self.still_listed = still_listed

    async def delete(self, container_id: str) -> None:
        raise self.error

    async def get(self, container_id: str) -> object:
        if not self.still_listed:
            raise NotFound(f"task {container_id} not found")
        return object()


class _Client:
    namespace = "ns"
    socket = "/x.sock"

    def __init__(self, tasks: _Tasks) -> None:
        self.tasks = tasks


def tasks_with(error: Exception, *, still_listed: bool) -> TaskControl:
    client: Any = _Client(_Tasks(error, still_listed=still_listed))
    return TaskControl(client, runtime_state=None, clock=SystemClock())


async def test_a_closed_shim_whose_task_containerd_dropped_counts_as_deleted() -> None:
    gone = tasks_with(RuntimeFailure(CLOSED), still_listed=False)
    assert await gone.delete("app-web") is None


async def test_a_closed_shim_whose_task_is_still_listed_is_an_error() -> None:
    listed = tasks_with(RuntimeFailure(CLOSED), still_listed=True)
    with pytest.raises(RuntimeFailure, match="ttrpc: closed"):
        await listed.delete("app-web")


async def test_other_runtime_failures_are_not_second_guessed() -> None:
    other = tasks_with(RuntimeFailure("runc did not terminate"), still_listed=False)
    with pytest.raises(RuntimeFailure, match="runc"):
        await other.delete("app-web")
