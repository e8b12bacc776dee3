"""The OCI runtime spec a container runs with, read field by field."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.ocispec import (
    ContainerInputs,
    NetworkJoin,
    build_spec,
    check_publish,
)
from reconciler.drivers.containerd.users import ProcessUser
from reconciler.errors import ServiceConfigError
from reconciler.model.desired import (
    BindMount,
    DesiredService,
    NamedVolume,
    PublishedPort,
    ResourceLimits,
    ServiceMode,
    ServiceName,
    Volume,
)
from reconciler.model.network_mode import NetworkMode
from reconciler.model.secret import Secret

DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
IMAGE = ImageConfig(entrypoint=("/docker-entrypoint.sh",), cmd=("nginx", "-g", "daemon off;"))
ROOT = ProcessUser(uid=0, gid=0)
DEFAULT_MOUNT_POINTS = ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/run"]


def service(**fields: Any) -> DesiredService:
    if "env" in fields:
        fields["env"] = MappingProxyType({k: Secret(v) for k, v in fields["env"].items()})
    defaults: dict[str, Any] = {
        "name": ServiceName("web"),
        "mode": ServiceMode.CONTAINER,
        "stdout": Path("/state/logs/web.log"),
        "stderr": Path("/state/logs/web.err"),
    }
    return DesiredService(**(defaults | fields))


def spec(
    svc: DesiredService | None = None,
    image: ImageConfig = IMAGE,
    user: ProcessUser = ROOT,
    env_files: tuple[dict[str, str], ...] = (),
) -> dict[str, Any]:
    return build_spec(
        ContainerInputs(
            container_id="demo-web",
            namespace="orch",
            service=svc or service(),
            image=image,
            user=user,
            env_files=[{k: Secret(v) for k, v in layer.items()} for layer in env_files],
        )
    )


def args(svc: DesiredService, image: ImageConfig) -> list[str]:
    return list(spec(svc, image)["process"]["args"])


def env(
    image_env: tuple[str, ...] = (),
    env_files: tuple[dict[str, str], ...] = (),
    own: dict[str, str] | None = None,
) -> list[str]:
    result = spec(service(env=own or {}), ImageConfig(cmd=("sh",), env=image_env), ROOT, env_files)
    return list(result["process"]["env"])


def mounts_at(result: dict[str, Any], destination: str) -> list[dict[str, Any]]:
    return [m for m in result["mounts"] if m["destination"] == destination]


# The frame


def test_the_spec_has_the_runc_version_and_a_relative_rootfs() -> None:
    result = spec()

    assert result["ociVersion"] == "1.0.2-dev"
    assert result["root"] == {"path": "rootfs"}


def test_the_cgroups_path_is_namespace_then_container_id() -> None:
    assert spec()["linux"]["cgroupsPath"] == "/orch/demo-web"


# Process args: Docker's override rules


@pytest.mark.parametrize(
    ("entrypoint", "cmd", "image", "expected"),
    [
        (None, None, IMAGE, ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]),
        (None, ("nginx", "-t"), IMAGE, ["/docker-entrypoint.sh", "nginx", "-t"]),
        (("/bin/sh",), None, IMAGE, ["/bin/sh"]),
        (("/bin/sh", "-c"), ("echo hi",), IMAGE, ["/bin/sh", "-c", "echo hi"]),
        (None, ("serve",), ImageConfig(), ["serve"]),
        (("/app",), None, ImageConfig(), ["/app"]),
        (None, None, ImageConfig(cmd=("sh",)), ["sh"]),
        (None, None, ImageConfig(entrypoint=("/init",)), ["/init"]),
    ],
    ids=[
        "image-entrypoint-and-cmd",
        "service-cmd-replaces-only-cmd",
        "service-entrypoint-drops-image-cmd",
        "service-entrypoint-and-cmd",
        "service-cmd-on-bare-image",
        "service-entrypoint-on-bare-image",
        "image-cmd-only",
        "image-entrypoint-only",
    ],
)
def test_process_args_follow_docker_override_rules(
    entrypoint: tuple[str, ...] | None,
    cmd: tuple[str, ...] | None,
    image: ImageConfig,
    expected: list[str],
) -> None:
    assert args(service(entrypoint=entrypoint, cmd=cmd), image) == expected


def test_a_service_entrypoint_drops_the_image_cmd() -> None:
    result = args(service(entrypoint=("/bin/app",)), ImageConfig(cmd=("--from-image",)))

    assert "--from-image" not in result


@pytest.mark.parametrize(
    ("entrypoint", "cmd", "image"),
    [
        (None, None, ImageConfig()),
        ((), None, ImageConfig(cmd=("sh",))),
        (None, (), ImageConfig(cmd=("sh",))),
    ],
    ids=["nothing-anywhere", "empty-entrypoint-drops-image-cmd", "empty-cmd-replaces-image-cmd"],
)
def test_nothing_to_run_is_a_service_config_error_naming_the_service(
    entrypoint: tuple[str, ...] | None, cmd: tuple[str, ...] | None, image: ImageConfig
) -> None:
    with pytest.raises(ServiceConfigError, match="service 'web'"):
        spec(service(entrypoint=entrypoint, cmd=cmd), image)


# Environment


def test_an_image_without_env_gets_the_default_path() -> None:
    assert env() == [DEFAULT_PATH]


def test_an_image_with_env_keeps_it_and_gets_no_default_path() -> None:
    assert env(image_env=("PATH=/bin", "LANG=C")) == ["PATH=/bin", "LANG=C"]


def test_env_is_image_env_then_env_files_in_order_then_env() -> None:
    result = env(
        image_env=("PATH=/bin",),
        env_files=({"A": "file1"}, {"B": "file2"}),
        own={"C": "env"},
    )

    assert result == ["PATH=/bin", "A=file1", "B=file2", "C=env"]


def test_a_later_value_of_a_key_replaces_the_earlier_one_in_place() -> None:
    result = env(
        image_env=("PATH=/bin", "MODE=image", "LANG=C"),
        env_files=({"MODE": "file1", "X": "1"}, {"X": "2"}),
        own={"PATH": "/opt/bin:/bin"},
    )

    assert result == ["PATH=/opt/bin:/bin", "MODE=file1", "LANG=C", "X=2"]


def test_env_wins_over_every_env_file() -> None:
    result = env(env_files=({"A": "1"}, {"A": "2"}), own={"A": "3"})

    assert result == [DEFAULT_PATH, "A=3"]


def test_an_image_env_value_containing_equals_signs_is_kept_whole() -> None:
    assert env(image_env=("OPTS=-Da=b -Dc=d",)) == ["OPTS=-Da=b -Dc=d"]


def test_the_spec_contains_the_revealed_secret_values() -> None:
    result = env(env_files=({"DB_PASSWORD": "from-file-s3cret"},), own={"TOKEN": "own-s3cret"})

    assert "DB_PASSWORD=from-file-s3cret" in result
    assert "TOKEN=own-s3cret" in result


def test_the_inputs_repr_never_shows_a_secret_value() -> None:
    inputs = ContainerInputs(
        container_id="demo-web",
        namespace="orch",
        service=service(env={"TOKEN": "own-s3cret"}),
        image=IMAGE,
        user=ROOT,
        env_files=[{"DB_PASSWORD": Secret("from-file-s3cret")}],
    )

    text = repr(inputs)

    assert "own-s3cret" not in text
    assert "from-file-s3cret" not in text


# Working directory and user


@pytest.mark.parametrize(
    ("workdir", "image_workdir", "cwd"),
    [("/app", "/srv", "/app"), (None, "/srv", "/srv"), (None, "", "/")],
    ids=["workdir", "image-working-dir", "root"],
)
def test_cwd_is_workdir_else_the_image_working_dir_else_root(
    workdir: str | None, image_workdir: str, cwd: str
) -> None:
    result = spec(service(workdir=workdir), replace(IMAGE, working_dir=image_workdir))

    assert result["process"]["cwd"] == cwd


def test_the_process_runs_as_the_resolved_user_with_its_groups() -> None:
    user = ProcessUser(uid=1000, gid=1000, additional_gids=(1000, 10, 50))

    assert spec(user=user)["process"]["user"] == {
        "uid": 1000,
        "gid": 1000,
        "additionalGids": [1000, 10, 50],
    }


def test_a_user_without_supplementary_groups_has_its_gid_as_the_only_additional_gid() -> None:
    user = ProcessUser(uid=33, gid=33)

    assert spec(user=user)["process"]["user"]["additionalGids"] == [33]


def test_root_runs_as_uid_and_gid_zero() -> None:
    assert spec()["process"]["user"] == {"uid": 0, "gid": 0, "additionalGids": [0]}


def test_the_process_has_no_terminal_and_no_new_privileges() -> None:
    process = spec()["process"]

    assert process["terminal"] is False
    assert process["noNewPrivileges"] is True


def test_the_process_has_containerd_default_capabilities_in_every_set() -> None:
    expected = [
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
    ]

    assert spec()["process"]["capabilities"] == {
        "bounding": expected,
        "effective": expected,
        "permitted": expected,
    }


# Rlimits


def test_nofile_defaults_to_1024_and_nproc_is_unset() -> None:
    assert spec()["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]


def test_limit_nofile_sets_both_nofile_limits() -> None:
    result = spec(service(resources=ResourceLimits(limit_nofile=65536)))

    assert result["process"]["rlimits"] == [{"type": "RLIMIT_NOFILE", "hard": 65536, "soft": 65536}]


def test_limit_nproc_adds_an_nproc_rlimit() -> None:
    result = spec(service(resources=ResourceLimits(limit_nproc=256)))

    assert {"type": "RLIMIT_NPROC", "hard": 256, "soft": 256} in result["process"]["rlimits"]


# Mounts


def test_the_default_mounts_come_first_in_containerd_order() -> None:
    mounts = spec()["mounts"]

    assert [m["destination"] for m in mounts[:7]] == DEFAULT_MOUNT_POINTS


@pytest.mark.parametrize(
    ("destination", "kind", "source", "options"),
    [
        ("/proc", "proc", "proc", ["nosuid", "noexec", "nodev"]),
        ("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
        (
            "/dev/pts",
            "devpts",
            "devpts",
            ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"],
        ),
        ("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
        ("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
        ("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]),
        ("/run", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    ],
)
def test_each_default_mount_matches_containerd(
    destination: str, kind: str, source: str, options: list[str]
) -> None:
    assert mounts_at(spec(), destination) == [
        {"destination": destination, "type": kind, "source": source, "options": options}
    ]


@pytest.mark.parametrize("path", ["/etc/hosts", "/etc/resolv.conf"])
def test_the_host_name_files_are_bound_read_only(path: str) -> None:
    assert mounts_at(spec(), path) == [
        {
            "destination": path,
            "type": "bind",
            "source": path,
            "options": ["rbind", "rprivate", "ro"],
        }
    ]


@pytest.mark.parametrize("path", ["/etc/hosts", "/etc/resolv.conf"])
def test_a_volume_on_a_host_name_file_replaces_the_default_bind(path: str) -> None:
    volume = BindMount(source=Path("/srv/demo/custom"), destination=path)

    assert mounts_at(spec(service(volumes=(volume,))), path) == [
        {
            "destination": path,
            "type": "bind",
            "source": "/srv/demo/custom",
            "options": ["rbind", "rprivate", "rw"],
        }
    ]


@pytest.mark.parametrize(
    ("volume", "source"),
    [
        (BindMount(source=Path("/srv/demo/data"), destination="/data"), "/srv/demo/data"),
        (
            NamedVolume(name="pg", host_path=Path("/state/volumes/pg"), destination="/data"),
            "/state/volumes/pg",
        ),
    ],
    ids=["bind-mount", "named-volume"],
)
def test_a_volume_is_a_read_write_recursive_bind_of_its_host_path(
    volume: Volume, source: str
) -> None:
    assert mounts_at(spec(service(volumes=(volume,))), "/data") == [
        {
            "destination": "/data",
            "type": "bind",
            "source": source,
            "options": ["rbind", "rprivate", "rw"],
        }
    ]


def test_volumes_are_mounted_after_the_defaults_in_written_order() -> None:
    volumes = (
        NamedVolume(name="a", host_path=Path("/state/volumes/a"), destination="/a"),
        BindMount(source=Path("/srv/b"), destination="/a/b"),
    )

    destinations = [m["destination"] for m in spec(service(volumes=volumes))["mounts"]]

    assert destinations[-2:] == ["/a", "/a/b"]
    assert destinations[:7] == DEFAULT_MOUNT_POINTS


# Namespaces and paths


def test_the_container_gets_pid_ipc_uts_and_mount_namespaces() -> None:
    namespaces = {n["type"] for n in spec()["linux"]["namespaces"]}

    assert namespaces == {"pid", "ipc", "uts", "mount"}


def test_the_container_shares_the_host_network_namespace() -> None:
    assert "network" not in {n["type"] for n in spec()["linux"]["namespaces"]}


def test_masked_and_read_only_paths_match_containerd() -> None:
    linux = spec()["linux"]

    assert linux["maskedPaths"] == [
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
    ]
    assert linux["readonlyPaths"] == [
        "/proc/bus",
        "/proc/fs",
        "/proc/irq",
        "/proc/sys",
        "/proc/sysrq-trigger",
    ]


# Resources


def resources(**limits: Any) -> dict[str, Any]:
    return dict(spec(service(resources=ResourceLimits(**limits)))["linux"]["resources"])


def test_devices_deny_all_then_allow_containerd_default_devices() -> None:
    devices = resources()["devices"]

    assert devices[0] == {"allow": False, "access": "rwm"}
    allowed = [(d["type"], d["major"], d.get("minor")) for d in devices[1:]]
    assert allowed == [
        ("c", 1, 3),
        ("c", 1, 8),
        ("c", 1, 7),
        ("c", 5, 0),
        ("c", 1, 5),
        ("c", 1, 9),
        ("c", 5, 1),
        ("c", 136, None),
        ("c", 5, 2),
    ]
    assert all(d["allow"] is True and d["access"] == "rwm" for d in devices[1:])


def test_without_limits_only_devices_are_set() -> None:
    assert set(resources()) == {"devices"}


def test_memory_is_a_limit_in_bytes() -> None:
    assert resources(memory_bytes=512 * 1024 * 1024)["memory"] == {"limit": 536870912}


@pytest.mark.parametrize(("cores", "quota"), [(0.5, 50_000), (1.0, 100_000), (2.5, 250_000)])
def test_cpus_are_a_quota_over_a_100ms_period(cores: float, quota: int) -> None:
    assert resources(cpus=cores)["cpu"] == {"quota": quota, "period": 100_000}


def test_tasks_max_is_the_pids_limit() -> None:
    assert resources(tasks_max=64)["pids"] == {"limit": 64}


def test_io_weight_sets_the_block_io_weight() -> None:
    assert resources(io_weight=500)["blockIO"] == {"weight": 500}


def test_the_default_io_weight_sets_no_block_io() -> None:
    assert "blockIO" not in resources(io_weight=100)


# Published ports in the host network


@pytest.mark.parametrize(
    "port",
    [
        PublishedPort(host=80, container=80),
        PublishedPort(host=8080, container=8080, address="0.0.0.0"),
        PublishedPort(host=8080, container=8080, address="::"),
    ],
)
def test_publishing_a_port_as_itself_on_every_address_is_accepted(port: PublishedPort) -> None:
    check_publish(service(publish=(port,), network=NetworkMode.HOST))


def test_a_port_remap_in_the_host_network_is_a_service_config_error_naming_the_service() -> None:
    with pytest.raises(ServiceConfigError, match=r"service 'web'.*8080:80"):
        check_publish(
            service(publish=(PublishedPort(host=8080, container=80),), network=NetworkMode.HOST)
        )


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "192.168.1.10"])
def test_a_bound_address_in_the_host_network_is_a_service_config_error(address: str) -> None:
    port = PublishedPort(host=80, container=80, address=address)

    with pytest.raises(ServiceConfigError, match="service 'web'"):
        check_publish(service(publish=(port,), network=NetworkMode.HOST))


def test_building_the_spec_checks_the_published_ports() -> None:
    with pytest.raises(ServiceConfigError, match="service 'web'"):
        spec(service(publish=(PublishedPort(host=8080, container=80),), network=NetworkMode.HOST))


@pytest.mark.parametrize(
    "port",
    [
        PublishedPort(host=8080, container=80),
        PublishedPort(host=8080, container=80, address="127.0.0.1"),
        PublishedPort(host=18080, container=8080, address="192.168.1.10"),
    ],
)
def test_the_project_network_maps_any_port_on_any_ipv4_address(port: PublishedPort) -> None:
    check_publish(service(publish=(port,)))


def test_the_project_network_refuses_an_ipv6_address() -> None:
    port = PublishedPort(host=8080, container=80, address="::1")
    with pytest.raises(ServiceConfigError, match=r"service 'web'.*IPv4 only"):
        check_publish(service(publish=(port,)))


# The network


JOIN = NetworkJoin(
    netns=Path("/run/netns/orch-orch--demo-web"),
    hostname="web",
    hosts_file=Path("/state/network/hosts"),
    resolv_conf=Path("/etc/resolv.conf"),
)


def test_in_the_host_network_there_is_no_network_namespace_and_the_hosts_files_are_the_hosts() -> (
    None
):
    built = build_spec(
        ContainerInputs(
            container_id="demo-web", namespace="orch", service=service(), image=IMAGE, user=ROOT
        )
    )
    assert "network" not in [n["type"] for n in built["linux"]["namespaces"]]
    assert "hostname" not in built
    binds = {m["destination"]: m["source"] for m in built["mounts"] if m["type"] == "bind"}
    assert binds == {"/etc/hosts": "/etc/hosts", "/etc/resolv.conf": "/etc/resolv.conf"}


def test_on_the_project_network_the_container_joins_its_namespace_with_the_project_names() -> None:
    built = build_spec(
        ContainerInputs(
            container_id="demo-web",
            namespace="orch",
            service=service(),
            image=IMAGE,
            user=ROOT,
            network=JOIN,
        )
    )
    assert {"type": "network", "path": "/run/netns/orch-orch--demo-web"} in built["linux"][
        "namespaces"
    ]
    assert built["hostname"] == "web"
    binds = {m["destination"]: m for m in built["mounts"] if m["type"] == "bind"}
    assert binds["/etc/hosts"]["source"] == "/state/network/hosts"
    assert "ro" in binds["/etc/hosts"]["options"]
    assert binds["/etc/resolv.conf"]["source"] == "/etc/resolv.conf"


def test_a_shim_group_is_the_annotation_containerds_runc_shim_reads() -> None:
    grouped = build_spec(
        ContainerInputs(
            container_id="demo-web",
            namespace="orch",
            service=service(),
            image=IMAGE,
            user=ROOT,
            shim_group="orch/demo",
        )
    )
    assert grouped["annotations"] == {"io.containerd.runc.v2.group": "orch/demo"}
    assert "annotations" not in spec()
