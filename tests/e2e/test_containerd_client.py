"""The typed client against a real private containerd, checked from outside with ``ctr``.

Every test works in its own namespace and ends by deleting what it created, asserting the
namespace is empty and removing it.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import json
import signal
import subprocess
import tarfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.events import TaskExit, TaskStart
from reconciler.drivers.containerd.services.content import bytes_source
from reconciler.drivers.containerd.types import (
    Descriptor,
    Digest,
    LeaseResource,
    NewContainer,
    SnapshotKind,
    TaskIO,
    TaskStatus,
)
from reconciler.errors import AlreadyExists, InvalidArgument, NotFound, RuntimeUnavailable
from tests.support.containerd import NamespacedContainerd as Containerd

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]

LABELS = {"orch.managed-by": "reconciler-e2e"}
LAYER_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"


@pytest_asyncio.fixture
async def client(containerd: Containerd) -> AsyncIterator[ContainerdClient]:
    async with ContainerdClient(address=containerd.address, namespace=containerd.namespace) as c:
        await c.wait_until_ready(timeout=10)
        yield c
        await assert_namespace_empty_and_remove(c)


async def assert_namespace_empty_and_remove(client: ContainerdClient) -> None:
    assert await client.tasks.list() == []
    assert await client.containers.list() == []
    assert await client.snapshots.list() == []
    assert await client.images.list() == []
    assert await client.leases.list() == []
    assert await client.content.list() == []
    # A namespace exists once something was written in it; reads alone leave none.
    if client.namespace in {ns.name for ns in await client.namespaces.list()}:
        await client.namespaces.delete(client.namespace)
    assert client.namespace not in {ns.name for ns in await client.namespaces.list()}


def ctr(containerd: Containerd, *args: str) -> str:
    return subprocess.run(
        [*containerd.ctr_args, *args], check=True, capture_output=True, text=True
    ).stdout


def digest_of(data: bytes) -> Digest:
    return Digest("sha256:" + hashlib.sha256(data).hexdigest())


def spec(namespace: str, container_id: str, args: list[str]) -> bytes:
    """The smallest spec runc 1.1.5 runs: /proc mounted, own mount and pid namespaces."""
    return json.dumps(
        {
            "ociVersion": "1.0.2-dev",
            "root": {"path": "rootfs"},
            "process": {
                "args": args,
                "cwd": "/",
                "env": ["PATH=/bin"],
                "user": {"uid": 0, "gid": 0},
            },
            "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
            "linux": {
                "namespaces": [{"type": "mount"}, {"type": "pid"}],
                "cgroupsPath": f"/{namespace}/{container_id}",
            },
        }
    ).encode()


def busybox_layer() -> tuple[bytes, bytes]:
    """A gzip layer with a static busybox as /bin/sh; returns (blob, uncompressed tar)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        directory = tarfile.TarInfo("bin")
        directory.type = tarfile.DIRTYPE
        directory.mode = 0o755
        tar.addfile(directory)
        tar.add("/bin/busybox", arcname="bin/busybox")
        link = tarfile.TarInfo("bin/sh")
        link.type = tarfile.SYMTYPE
        link.linkname = "busybox"
        tar.addfile(link)
    uncompressed = raw.getvalue()
    return gzip.compress(uncompressed, mtime=0), uncompressed


async def test_version_answers_without_a_namespace(client: ContainerdClient) -> None:
    version = await client.version()
    assert version.version.startswith("1.6.")


async def test_calls_on_a_missing_socket_fail_fast_as_unavailable(tmp_path: Path) -> None:
    async with ContainerdClient(address=str(tmp_path / "none.sock"), namespace="x") as client:
        no_socket = r"no containerd at \S*none\.sock: no socket there"
        with pytest.raises(RuntimeUnavailable, match=no_socket):
            await client.version()
        with pytest.raises(RuntimeUnavailable, match=r"not ready after 0\.3s"):
            await client.wait_until_ready(timeout=0.3)


async def test_a_container_record_round_trips_and_shows_up_in_ctr(
    client: ContainerdClient, containerd: Containerd
) -> None:
    for cid, labels in (("web", LABELS), ("other", {"someone": "else"})):
        await client.containers.create(
            NewContainer(id=cid, spec=spec(containerd.namespace, cid, ["true"]), labels=labels)
        )
    assert ctr(containerd, "containers", "ls", "-q").split() == ["other", "web"]

    ours = await client.containers.list(labels=LABELS)
    assert [c.id for c in ours] == ["web"]
    assert ours[0].runtime.name == "io.containerd.runc.v2"
    assert json.loads(ours[0].spec)["process"]["args"] == ["true"]

    updated = await client.containers.update_labels(
        "web", {"orch.restart-count": "3", "orch.managed-by": None}
    )
    assert updated.labels == {"orch.restart-count": "3"}
    assert (await client.containers.get("web")).labels == {"orch.restart-count": "3"}

    with pytest.raises(AlreadyExists, match=r"Containers\.Create"):
        await client.containers.create(
            NewContainer(id="web", spec=spec(containerd.namespace, "web", ["true"]))
        )
    for cid in ("web", "other"):
        await client.containers.delete(cid)
    with pytest.raises(NotFound, match=r"Containers\.Get"):
        await client.containers.get("web")
    assert ctr(containerd, "containers", "ls", "-q").split() == []


async def test_an_invalid_container_id_is_an_invalid_argument(
    client: ContainerdClient, containerd: Containerd
) -> None:
    with pytest.raises(InvalidArgument):
        await client.containers.create(
            NewContainer(id="bad id!", spec=spec(containerd.namespace, "x", ["true"]))
        )


async def test_content_is_written_in_chunks_under_a_lease_and_read_back(
    client: ContainerdClient,
) -> None:
    blob = bytes(range(256)) * 10_000  # 2.5 MiB: three 1 MiB messages
    digest = digest_of(blob)
    async with client.lease(expires_in=timedelta(minutes=10), labels=LABELS) as lease:
        info = await client.content.write(
            "blob-1", bytes_source(blob), expected=digest, size=len(blob), labels={"k": "v"}
        )
        assert (info.digest, info.size, info.labels) == (digest, len(blob), {"k": "v"})
        assert await client.content.read_all(digest) == blob
        assert LeaseResource(id=digest, type="content") in await client.leases.list_resources(
            lease.id
        )
        again = await client.content.write(
            "blob-2", bytes_source(blob), expected=digest, size=len(blob), labels={"k2": "v2"}
        )
        assert again.labels == {"k": "v", "k2": "v2"}
        assert [c.digest for c in await client.content.list(labels={"k2": "v2"})] == [digest]
        await client.content.delete(digest)


async def test_concurrent_writers_of_one_ref_both_succeed(client: ContainerdClient) -> None:
    """The loser sees "ref locked" (UNAVAILABLE) and retries until the blob exists."""
    blob = b"x" * (3 << 20)
    digest = digest_of(blob)
    async with client.lease(expires_in=timedelta(minutes=10)):
        results = await asyncio.gather(
            *(
                client.content.write(
                    "same-ref", bytes_source(blob), expected=digest, size=len(blob)
                )
                for _ in range(3)
            )
        )
        assert {r.digest for r in results} == {digest}
        await client.content.delete(digest)


async def test_an_image_record_targets_committed_content(client: ContainerdClient) -> None:
    manifest = b'{"schemaVersion": 2}'
    target = Descriptor(
        media_type="application/vnd.oci.image.manifest.v1+json",
        digest=digest_of(manifest),
        size=len(manifest),
    )
    async with client.lease(expires_in=timedelta(minutes=10)):
        await client.content.write(
            "m", bytes_source(manifest), expected=target.digest, size=target.size
        )
        created = await client.images.create("example.com/app:1", target=target, labels=LABELS)
    assert created.target == target
    updated = await client.images.update("example.com/app:1", labels={"extra": "1"})
    assert updated.labels == {**LABELS, "extra": "1"}
    assert [i.name for i in await client.images.list(labels={"extra": "1"})] == [
        "example.com/app:1"
    ]
    await client.images.delete("example.com/app:1", sync=True)
    with pytest.raises(NotFound):
        await client.images.get("example.com/app:1")
    # sync delete ran GC: the manifest only the image held is gone
    assert await client.content.list() == []


async def test_a_task_runs_from_an_unpacked_layer_and_its_exit_is_seen(
    client: ContainerdClient, containerd: Containerd, tmp_path: Path
) -> None:
    blob, uncompressed = busybox_layer()
    layer = Descriptor(media_type=LAYER_MEDIA_TYPE, digest=digest_of(blob), size=len(blob))
    diff_id = digest_of(uncompressed)
    log = tmp_path / "task.log"
    events = client.events.subscribe('topic~="^/tasks/"')
    first_event = asyncio.ensure_future(anext(events))
    async with client.lease(expires_in=timedelta(minutes=10)):
        await client.content.write(
            "layer", bytes_source(blob), expected=layer.digest, size=layer.size
        )
        mounts = await client.snapshots.prepare("extract", labels=LABELS)
        applied = await client.diff.apply(layer, mounts=mounts)
        assert applied.digest == diff_id
        await client.snapshots.commit(diff_id, key="extract")
        rootfs = await client.snapshots.prepare("job", parent=diff_id, labels=LABELS)
        assert (await client.snapshots.stat("job")).kind is SnapshotKind.ACTIVE
        await client.containers.create(
            NewContainer(
                id="job",
                spec=spec(containerd.namespace, "job", ["sh", "-c", "echo hi; exit 7"]),
                labels=LABELS,
                snapshotter="overlayfs",
                snapshot_key="job",
            )
        )
        await client.tasks.create("job", rootfs=rootfs, io=TaskIO.log_file(str(log)))
        assert (await client.tasks.get("job")).status is TaskStatus.CREATED
        exited = asyncio.ensure_future(client.tasks.wait("job"))
        await client.tasks.start("job")
        assert (await exited).exit_status == 7
        assert ctr(containerd, "tasks", "ls").split()[-1] == "STOPPED"

        seen = [(await first_event).payload]
        while not isinstance(seen[-1], TaskExit):
            seen.append((await anext(events)).payload)
        await events.aclose()
        assert any(isinstance(p, TaskStart) and p.container_id == "job" for p in seen)
        assert seen[-1].id == seen[-1].container_id == "job"
        assert seen[-1].exit_status == 7

        assert (await client.tasks.delete("job")).exit_status == 7
        assert log.read_text() == "hi\n"
        await client.containers.delete("job")
        await client.snapshots.remove("job")
        await client.snapshots.remove(diff_id)
        await client.content.delete(layer.digest)


async def test_sigkill_to_all_processes_stops_a_running_task(
    client: ContainerdClient, containerd: Containerd
) -> None:
    blob, uncompressed = busybox_layer()
    layer = Descriptor(media_type=LAYER_MEDIA_TYPE, digest=digest_of(blob), size=len(blob))
    diff_id = digest_of(uncompressed)
    async with client.lease(expires_in=timedelta(minutes=10)):
        await client.content.write(
            "layer", bytes_source(blob), expected=layer.digest, size=layer.size
        )
        await client.diff.apply(layer, mounts=await client.snapshots.prepare("x"))
        await client.snapshots.commit(diff_id, key="x")
        rootfs = await client.snapshots.prepare("sleeper", parent=diff_id)
        await client.containers.create(
            NewContainer(
                id="sleeper",
                spec=spec(containerd.namespace, "sleeper", ["sh", "-c", "exec sleep 1000"]),
                snapshotter="overlayfs",
                snapshot_key="sleeper",
            )
        )
        await client.tasks.create("sleeper", rootfs=rootfs, io=TaskIO())
        exited = asyncio.ensure_future(client.tasks.wait("sleeper"))
        await client.tasks.start("sleeper")
        assert (await client.tasks.get("sleeper")).status is TaskStatus.RUNNING
        await client.tasks.kill("sleeper", signal.SIGKILL, all_processes=True)
        assert (await asyncio.wait_for(exited, timeout=10)).exit_status == 137
        await client.tasks.delete("sleeper")
        with pytest.raises(NotFound):
            await client.tasks.get("sleeper")
        await client.containers.delete("sleeper")
        await client.snapshots.remove("sleeper")
        await client.snapshots.remove(diff_id)
        await client.content.delete(layer.digest)
