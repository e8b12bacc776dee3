"""Build the OCI runtime spec runc runs, from the image config and the desired service.

A pure function, so what a container gets is decided in one place that unit tests read
field by field. It follows what containerd's Go client generates for `ctr run` (see
docs/containerd.md, "The runtime spec") and adds the service's configuration:

- process args: Docker's override rules. A service ENTRYPOINT replaces the image's
  Entrypoint and drops the image's Cmd; a service CMD replaces only the Cmd.
- env: the image's Env, then each ENV_FILE in order, then ENV; a later value of a key
  replaces the earlier one in place, new keys are appended.
- cwd: WORKDIR, else the image's WorkingDir, else `/`. User: the image's, resolved.
- default mounts, masked and read-only paths, capabilities and devices as containerd's
  defaults; no-new-privileges.
- network: on the project network (`NetworkJoin`), the container joins the namespace made
  for it, is named after its service and sees the project's `/etc/hosts` (every service
  by name) and a usable `/etc/resolv.conf`; in the host's network (no `network`
  namespace) it sees the host's two files. All bound read-only.
- VOLUMEs as recursive bind mounts; resources: memory, CPU quota over a 100 ms period,
  pids, blkio weight (only when not the kernel default), NOFILE and NPROC rlimits.
- `linux.cgroupsPath` is `/<namespace>/<container id>`, so cgroups are findable and
  never nested under the shim's own.
- a shim group (`shim_groups`): the `io.containerd.runc.v2.group` annotation, which makes
  the task join the group's shim instead of starting one of its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.shim_groups import GROUP_ANNOTATION
from reconciler.drivers.containerd.users import ProcessUser
from reconciler.errors import ServiceConfigError
from reconciler.model.desired import (
    DEFAULT_IO_WEIGHT,
    BindMount,
    DesiredService,
    NamedVolume,
)
from reconciler.model.limits import CPU_PERIOD_US, MIN_CPU_QUOTA_US
from reconciler.model.publish import service_problems
from reconciler.model.secret import Secret

OCI_VERSION: Final = "1.0.2-dev"
DEFAULT_PATH: Final = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_NOFILE: Final = 1024
HOST_FILES: Final = ("/etc/hosts", "/etc/resolv.conf")
CAPABILITIES: Final = (
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
)
MASKED_PATHS: Final = (
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
)
READONLY_PATHS: Final = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)
_TMPFS_64M: Final = "size=65536k"
DEFAULT_MOUNTS: Final = (
    ("/proc", "proc", "proc", ("nosuid", "noexec", "nodev")),
    ("/dev", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", _TMPFS_64M)),
    (
        "/dev/pts",
        "devpts",
        "devpts",
        ("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"),
    ),
    ("/dev/shm", "tmpfs", "shm", ("nosuid", "noexec", "nodev", "mode=1777", _TMPFS_64M)),
    ("/dev/mqueue", "mqueue", "mqueue", ("nosuid", "noexec", "nodev")),
    ("/sys", "sysfs", "sysfs", ("nosuid", "noexec", "nodev", "ro")),
    ("/run", "tmpfs", "tmpfs", ("nosuid", "strictatime", "mode=755", _TMPFS_64M)),
)
# (type, major, minor): null, zero, full, tty, random, urandom, console, ptmx, pts/*
ALLOWED_DEVICES: Final = (
    ("c", 1, 3),
    ("c", 1, 8),
    ("c", 1, 7),
    ("c", 5, 0),
    ("c", 1, 5),
    ("c", 1, 9),
    ("c", 5, 1),
    ("c", 136, None),
    ("c", 5, 2),
)

Spec = dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class NetworkJoin:
    """A container's place on its project network, as its spec needs it."""

    netns: Path
    hostname: str
    hosts_file: Path
    resolv_conf: Path


@dataclass(frozen=True, kw_only=True)
class ContainerInputs:
    """Everything a container's runtime spec depends on, gathered by the driver."""

    container_id: str
    namespace: str
    service: DesiredService
    image: ImageConfig
    user: ProcessUser
    env_files: Sequence[Mapping[str, Secret]] = ()
    network: NetworkJoin | None = None  # None: the host's network
    shim_group: str | None = None  # None: a shim of its own


def process_args(service: DesiredService, image: ImageConfig) -> list[str]:
    if service.entrypoint is not None:
        args = [*service.entrypoint, *(service.cmd or ())]
    else:
        cmd = image.cmd if service.cmd is None else service.cmd
        args = [*image.entrypoint, *cmd]
    if not args:
        raise ServiceConfigError(
            f"service '{service.name}': nothing to run (no ENTRYPOINT or CMD, and the image "
            "has neither)"
        )
    return args


def process_env(
    image_env: Sequence[str], env_files: Sequence[Mapping[str, Secret]], env: Mapping[str, Secret]
) -> list[str]:
    merged: dict[str, str] = {}
    for entry in image_env or (DEFAULT_PATH,):
        key, _, plain = entry.partition("=")
        merged[key] = plain
    for layer in (*env_files, env):
        for key, secret in layer.items():
            merged[key] = secret.reveal()
    return [f"{key}={value}" for key, value in merged.items()]


def check_publish(service: DesiredService) -> None:
    """The service's PUBLISH lines, as its network can honour them (`model.publish`)."""
    for problem in service_problems(service):
        raise ServiceConfigError(f"service '{service.name}': {problem.message}")


def build_spec(inputs: ContainerInputs) -> Spec:
    service = inputs.service
    namespaces: list[Spec] = [{"type": t} for t in ("pid", "ipc", "uts", "mount")]
    check_publish(service)
    if inputs.network is not None:
        namespaces.append({"type": "network", "path": str(inputs.network.netns)})
    spec: Spec = {
        "ociVersion": OCI_VERSION,
        "process": _process(inputs),
        "root": {"path": "rootfs"},
        "mounts": _mounts(inputs),
        "linux": {
            "resources": _resources(service),
            "cgroupsPath": f"/{inputs.namespace}/{inputs.container_id}",
            "namespaces": namespaces,
            "maskedPaths": list(MASKED_PATHS),
            "readonlyPaths": list(READONLY_PATHS),
        },
    }
    if inputs.network is not None:
        spec["hostname"] = inputs.network.hostname
    if inputs.shim_group is not None:
        spec["annotations"] = {GROUP_ANNOTATION: inputs.shim_group}
    return spec


def _process(inputs: ContainerInputs) -> Spec:
    service, image, user = inputs.service, inputs.image, inputs.user
    limits = service.resources
    nofile = limits.limit_nofile or DEFAULT_NOFILE
    rlimits = [{"type": "RLIMIT_NOFILE", "hard": nofile, "soft": nofile}]
    if limits.limit_nproc is not None:
        nproc = limits.limit_nproc
        rlimits.append({"type": "RLIMIT_NPROC", "hard": nproc, "soft": nproc})
    capabilities = list(CAPABILITIES)
    return {
        "terminal": False,
        "user": {
            "uid": user.uid,
            "gid": user.gid,
            "additionalGids": list(user.additional_gids or (user.gid,)),
        },
        "args": process_args(service, image),
        "env": process_env(image.env, inputs.env_files, service.env),
        "cwd": service.workdir or image.working_dir or "/",
        "capabilities": {
            "bounding": capabilities,
            "effective": capabilities,
            "permitted": capabilities,
        },
        "rlimits": rlimits,
        "noNewPrivileges": True,
    }


def _mounts(inputs: ContainerInputs) -> list[Spec]:
    mounts: list[Spec] = [
        {"destination": d, "type": t, "source": s, "options": list(o)}
        for d, t, s, o in DEFAULT_MOUNTS
    ]
    volume_destinations = {v.destination for v in inputs.service.volumes}
    for name_file, name_source in _name_files(inputs.network):
        if name_file not in volume_destinations:
            mounts.append(_bind(name_source, name_file, read_only=True))
    for volume in inputs.service.volumes:
        match volume:
            case BindMount(source=source, destination=destination):
                mounts.append(_bind(str(source), destination, read_only=False))
            case NamedVolume(host_path=host_path, destination=destination):
                mounts.append(_bind(str(host_path), destination, read_only=False))
    return mounts


def _name_files(network: NetworkJoin | None) -> list[tuple[str, str]]:
    """(destination, source) of `/etc/hosts` and `/etc/resolv.conf`."""
    if network is None:
        return [(path, path) for path in HOST_FILES]
    return [
        ("/etc/hosts", str(network.hosts_file)),
        ("/etc/resolv.conf", str(network.resolv_conf)),
    ]


def _bind(source: str, destination: str, *, read_only: bool) -> Spec:
    options = ["rbind", "rprivate", "ro" if read_only else "rw"]
    return {"destination": destination, "type": "bind", "source": source, "options": options}


def _resources(service: DesiredService) -> Spec:
    limits = service.resources
    devices: list[Spec] = [{"allow": False, "access": "rwm"}]
    for kind, major, minor in ALLOWED_DEVICES:
        device: Spec = {"allow": True, "type": kind, "major": major, "access": "rwm"}
        if minor is not None:
            device["minor"] = minor
        devices.append(device)
    resources: Spec = {"devices": devices}
    if limits.memory_bytes is not None:
        resources["memory"] = {"limit": limits.memory_bytes}
    if limits.cpus is not None:
        quota = max(MIN_CPU_QUOTA_US, round(limits.cpus * CPU_PERIOD_US))
        resources["cpu"] = {"quota": quota, "period": CPU_PERIOD_US}
    if limits.tasks_max is not None:
        resources["pids"] = {"limit": limits.tasks_max}
    if limits.io_weight != DEFAULT_IO_WEIGHT:
        resources["blockIO"] = {"weight": limits.io_weight}
    return resources
