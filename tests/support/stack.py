"""A small harness for container e2e tests: an imported image, a client, the lifecycle,
and desired services built from Orchfile text by the real semantic layer; plus readers
of what the host shows (/proc, cgroup files) for checks from outside."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Final

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.creation import ContainerImage, ContainerRequest
from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.lifecycle import ContainerLifecycle
from reconciler.model.desired import DesiredService, ProjectName
from reconciler.model.network_mode import NetworkMode
from reconciler.orchfile.envfile import parse_env_file
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.semantic import ProjectContext, desired_stack
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage

GRACE: Final = timedelta(seconds=1)


@dataclass(frozen=True, kw_only=True)
class Harness:
    containerd: NamespacedContainerd
    client: ContainerdClient
    lifecycle: ContainerLifecycle
    image: ContainerImage
    project_dir: Path
    state_root: Path

    def service(self, text: str, name: str = "web") -> DesiredService:
        (self.project_dir / "Orchfile").write_text(text)
        document = load_sources(
            [SourceFile(name=str(self.project_dir / "Orchfile"), text=text)], {}, {}
        )
        context = ProjectContext(
            project=ProjectName("e2e"),
            namespace=self.containerd.namespace,
            project_dir=self.project_dir,
            state_root=self.state_root,
            files=(self.project_dir / "Orchfile",),
            # The lifecycle alone, as orchd runs containers: the project network is the
            # driver's (tests/e2e/test_networks.py, the driver contract).
            network=NetworkMode.HOST,
        )
        found = desired_stack(document, context).service(name)
        assert found is not None
        return found

    def request(
        self, service: DesiredService, *, config_hash: str = "h1", env_files: tuple[Path, ...] = ()
    ) -> ContainerRequest:
        parsed = [parse_env_file(path.read_text(), str(path)) for path in env_files]
        return ContainerRequest(
            container_id=f"e2e-{service.name}",
            project="e2e",
            service=service,
            image=self.image,
            env_files=parsed,
            config_hash=config_hash,
        )

    async def run(self, service: DesiredService, **kwargs: object) -> int:
        request = self.request(service, **kwargs)  # type: ignore[arg-type]
        await self.lifecycle.create(request)
        return await self.lifecycle.start(request.container_id, service.stdout)


def import_image(
    containerd: NamespacedContainerd, image: BuiltImage, archive: Path
) -> ContainerImage:
    containerd.ctr("images", "import", str(archive))
    return ContainerImage(
        name=image.reference,
        digest=image.manifest.digest,
        chain_id=image.chain_id,
        config=ImageConfig.from_json(image.blobs[image.config.digest], image.reference),
    )


def task_pid(containerd: NamespacedContainerd, container_id: str) -> int:
    for line in containerd.ctr("tasks", "ls").splitlines()[1:]:
        fields = line.split()
        if fields[0] == container_id and fields[2] == "RUNNING":
            return int(fields[1])
    raise AssertionError(f"no running task {container_id}")


def proc_file(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_text()


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if item)


def cgroup_file(namespace: str, container_id: str, controller: str, name: str) -> str:
    return Path(f"/sys/fs/cgroup/{controller}/{namespace}/{container_id}/{name}").read_text()


def shim_pids(namespace: str, container_id: str) -> list[int]:
    """Shim processes started for `container_id` in `namespace` (its `-id`), from /proc.
    A project's shared shim keeps the `-id` of its first container while it serves the
    others (docs/shims.md): none is left once every container of the project is gone."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        shim = argv[0].endswith(b"containerd-shim-runc-v2")
        if shim and namespace.encode() in argv and container_id.encode() in argv:
            pids.append(int(entry.name))
    return sorted(pids)


def inside(containerd: NamespacedContainerd, container_id: str, script: str) -> str:
    """Run `script` in the running container with containerd's own CLI; its stdout."""
    exec_id = f"probe-{os.getpid()}-{time.monotonic_ns()}"
    return containerd.ctr("tasks", "exec", "--exec-id", exec_id, container_id, "sh", "-c", script)


def assert_gone(containerd: NamespacedContainerd, container_id: str) -> None:
    """Nothing of the container is left: task, record, snapshot, lease, shim, mount, cgroup."""
    assert container_id not in containerd.ctr("tasks", "ls")
    assert container_id not in containerd.ctr("containers", "ls", "-q").split()
    assert container_id not in containerd.ctr("snapshots", "ls")
    assert containerd.ctr("leases", "ls", "-q").split() == []
    assert shim_pids(containerd.namespace, container_id) == []
    rootfs = f"/{containerd.namespace}/{container_id}/rootfs"
    assert rootfs not in Path("/proc/self/mountinfo").read_text()
    for hierarchy in Path("/sys/fs/cgroup").iterdir():
        assert not (hierarchy / containerd.namespace / container_id).exists()
