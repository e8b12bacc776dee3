"""Observing a project in containerd, and an event stream that survives daemon restarts.

The observation is compared with what containerd's own CLI and `/proc` show; the event
stream is followed across a restart of a daemon of its own (the shared one stays up).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from reconciler.clock import SystemClock
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.events import NamespaceUpdate, TaskExit, TaskStart
from reconciler.drivers.containerd.observe import observe
from reconciler.drivers.containerd.watch import Resubscribed, watch_events
from reconciler.model import labels
from reconciler.model.observed import Observed, TaskPhase, Unreachable
from tests.support.containerd import PrivateContainerd
from tests.support.polling import eventually
from tests.support.stack import GRACE, Harness, task_pid

pytestmark = pytest.mark.asyncio


def shim_pids_from_proc(namespace: str, container_id: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if argv[0].endswith(b"containerd-shim-runc-v2") and (
                namespace.encode() in argv and container_id.encode() in argv
            ):
                pids.append(int(entry.name))
    return sorted(pids)


async def test_observe_reports_each_container_with_its_task_and_shim(harness: Harness) -> None:
    running = harness.service("SERVICE web\nFROM img\nCMD sleep 60\n")
    done = harness.service("SERVICE job\nFROM img\nCMD sh -c 'exit 4'\n", name="job")
    idle = harness.service("SERVICE idle\nFROM img\nCMD sleep 60\n", name="idle")
    await harness.run(running)
    await harness.run(done)
    await harness.lifecycle.create(harness.request(idle))
    harness.containerd.ctr("containers", "create", harness.image.name, "foreign")
    eventually(
        lambda: "STOPPED" in harness.containerd.ctr("tasks", "ls"), timeout=10, what="job exit"
    )

    observed = await observe(harness.client, project="e2e", clock=SystemClock())

    assert isinstance(observed, Observed)
    assert sorted(c.id for c in observed.units) == ["e2e-idle", "e2e-job", "e2e-web"]
    web, job, idle_container = (observed.unit(f"e2e-{n}") for n in ("web", "job", "idle"))
    assert web is not None
    assert web.task is not None
    assert web.task.phase is TaskPhase.RUNNING
    assert web.task.pid == task_pid(harness.containerd, "e2e-web")
    assert web.service == "web"
    assert web.config_hash == "h1"
    assert list(web.shim_pids) == shim_pids_from_proc(harness.containerd.namespace, "e2e-web")
    assert job is not None
    assert job.task is not None
    assert (job.task.phase, job.task.exit_code) == (TaskPhase.STOPPED, 4)
    assert idle_container is not None
    assert idle_container.task is None
    assert observed.stray_snapshots == ()
    for cid in ("e2e-web", "e2e-job", "e2e-idle"):
        await harness.lifecycle.remove(cid, grace=GRACE)
    harness.containerd.ctr("containers", "rm", "foreign")


async def test_observe_finds_a_stray_snapshot_and_our_leases(harness: Harness) -> None:
    # Both under the lease: an unreferenced snapshot outside one is GC's to take.
    async with harness.client.lease(expires_in=GRACE * 60, labels=labels.ours()) as lease:
        await harness.client.snapshots.prepare(
            "e2e-stray", parent=harness.image.chain_id, labels=labels.ours()
        )
        observed = await observe(harness.client, project="e2e", clock=SystemClock())
        assert isinstance(observed, Observed)
        assert observed.stray_snapshots == ("e2e-stray",)
        assert [held.id for held in observed.leases] == [lease.id]
        await harness.client.snapshots.remove("e2e-stray")


async def test_an_unreachable_daemon_is_an_observation_of_its_own(tmp_path: Path) -> None:
    address = f"unix://{tmp_path}/nothing.sock"
    async with ContainerdClient(address=address, namespace="x", call_timeout=2) as client:
        observed = await observe(client, project="e2e", clock=SystemClock())
    assert isinstance(observed, Unreachable)
    assert "nothing.sock" in observed.reason


async def test_the_event_stream_reports_task_starts_and_exits(harness: Harness) -> None:
    seen: list[object] = []

    async def follow() -> None:
        async for item in watch_events(harness.client):
            seen.append(item)

    pokes = iter(range(1_000_000))

    def live() -> bool:
        """The daemon registers a subscription just after the marker; poke until an
        event of ours comes through, so nothing the test does next can be missed."""
        namespace = harness.containerd.namespace
        harness.containerd.ctr("namespaces", "label", namespace, f"poke={next(pokes)}")
        return any(isinstance(getattr(e, "payload", None), NamespaceUpdate) for e in seen)

    follower = asyncio.create_task(follow())
    try:
        await asyncio.to_thread(eventually, live, timeout=10, what="a live subscription")
        service = harness.service("SERVICE job\nFROM img\nCMD sh -c 'exit 5'\n", name="job")
        await harness.run(service)

        def exited() -> bool:
            return any(isinstance(getattr(e, "payload", None), TaskExit) for e in seen)

        await asyncio.to_thread(eventually, exited, timeout=10, what="the exit event")
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
    assert isinstance(seen[0], Resubscribed)
    payloads = [getattr(e, "payload", None) for e in seen]
    assert any(isinstance(p, TaskStart) and p.container_id == "e2e-job" for p in payloads)
    exit_event = next(p for p in payloads if isinstance(p, TaskExit))
    assert (exit_event.container_id, exit_event.exit_status) == ("e2e-job", 5)
    await harness.lifecycle.remove("e2e-job", grace=GRACE)


async def test_the_event_stream_resubscribes_within_seconds_of_a_daemon_restart(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    daemon = PrivateContainerd(directory=tmp_path_factory.mktemp("restart").resolve())
    daemon.start()
    seen: list[object] = []
    try:
        async with ContainerdClient(address=daemon.address, namespace="restart") as client:

            async def follow() -> None:
                async for item in watch_events(client):
                    seen.append(item)

            follower = asyncio.create_task(follow())
            try:
                await asyncio.to_thread(eventually, lambda: len(seen) == 1, timeout=10, what="up")
                await asyncio.to_thread(daemon.stop)
                await asyncio.to_thread(daemon.start)
                restarted = time.monotonic()
                await asyncio.to_thread(
                    eventually,
                    lambda: any(isinstance(e, Resubscribed) and e.attempt == 2 for e in seen),
                    timeout=10,
                    what="a second subscription",
                )
                assert time.monotonic() - restarted < 5
            finally:
                follower.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await follower
    finally:
        daemon.stop()
