"""Containers that match the Orchfile, checked from outside: ctr, /proc and cgroup files.

Each test writes a small Orchfile, builds the desired service with the real semantic
layer, runs it through `ContainerLifecycle` against the private containerd, and looks at
the result the way an operator would. Every test removes what it created; the
`containerd` fixture then fails the test if anything is left in its namespace.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.errors import Conflict, ServiceConfigError
from tests.support.polling import eventually
from tests.support.stack import (
    GRACE,
    Harness,
    assert_gone,
    cgroup_file,
    environ_of,
    inside,
    proc_file,
    shim_pids,
    task_pid,
)

pytestmark = pytest.mark.asyncio


async def test_a_service_runs_its_cmd_and_writes_its_log_file(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sh -c 'echo hello from web; sleep 60'\n")
    await harness.run(service)
    eventually(lambda: "hello from web" in service.stdout.read_text(), timeout=10, what="log")
    await harness.lifecycle.remove("e2e-web", grace=GRACE)
    assert_gone(harness.containerd, "e2e-web")


async def test_a_pid_1_that_ignores_sigterm_is_killed_after_timeout_stop(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 1000\nTIMEOUT_STOP 1s\n")
    await harness.run(service)
    started = time.monotonic()
    status = await harness.lifecycle.stop("e2e-web", grace=service.timeout_stop)
    elapsed = time.monotonic() - started
    assert status is not None
    assert status.exit_status == 137
    assert (
        service.timeout_stop.total_seconds() <= elapsed < service.timeout_stop.total_seconds() + 2
    )
    await harness.lifecycle.remove("e2e-web", grace=GRACE)
    assert_gone(harness.containerd, "e2e-web")


async def test_a_process_that_handles_sigterm_exits_without_waiting_for_the_grace_period(
    harness: Harness,
) -> None:
    script = "trap 'exit 0' TERM; echo ready; while true; do sleep 0.1; done"
    service = harness.service(f'SERVICE web\nFROM img\nCMD sh -c "{script}"\n')
    await harness.run(service)
    # Signal only once the trap is in place: PID 1 without a handler ignores SIGTERM.
    eventually(lambda: "ready" in service.stdout.read_text(), timeout=10, what="the trap")
    started = time.monotonic()
    status = await harness.lifecycle.stop("e2e-web", grace=timedelta(seconds=30))
    assert status is not None
    assert status.exit_status == 0
    assert time.monotonic() - started < 10
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_env_comes_from_the_image_then_env_files_then_env(harness: Harness) -> None:
    env_file = harness.project_dir / "app.env"
    env_file.write_text("# comment\nSHARED=file\nFROM_FILE=file\nexport QUOTED='a b'\n")
    service = harness.service(
        "SERVICE web\nFROM img\nCMD sleep 60\nENV_FILE ./app.env\nENV SHARED=env\nENV ONLY=env\n"
    )
    await harness.run(service, env_files=(env_file,))
    environ = environ_of(task_pid(harness.containerd, "e2e-web"))
    assert environ["FROM_IMAGE"] == "image"
    assert environ["FROM_FILE"] == "file"
    assert environ["QUOTED"] == "a b"
    assert environ["SHARED"] == "env"
    assert environ["ONLY"] == "env"
    assert environ["PATH"].startswith("/usr/local/sbin")
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_the_images_user_name_is_resolved_from_its_passwd(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\n")
    await harness.run(service)
    status = proc_file(task_pid(harness.containerd, "e2e-web"), "status")
    uid_line = next(line for line in status.splitlines() if line.startswith("Uid:"))
    assert uid_line.split()[1:] == ["1000"] * 4
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_resource_limits_land_in_the_containers_cgroups(harness: Harness) -> None:
    service = harness.service(
        "SERVICE web\nFROM img\nCMD sleep 60\nMEMORY 64M\nCPUS 0.5\nTASKS_MAX 32\n"
        "LIMIT_NOFILE 4096\nLIMIT_NPROC 512\n"
    )
    await harness.run(service)
    ns, cid = harness.containerd.namespace, "e2e-web"
    assert int(cgroup_file(ns, cid, "memory", "memory.limit_in_bytes")) == 64 << 20
    assert int(cgroup_file(ns, cid, "cpu", "cpu.cfs_quota_us")) == 50000
    assert int(cgroup_file(ns, cid, "cpu", "cpu.cfs_period_us")) == 100000
    assert cgroup_file(ns, cid, "pids", "pids.max").strip() == "32"
    limits = proc_file(task_pid(harness.containerd, cid), "limits")
    assert "Max open files            4096                 4096" in limits
    assert "Max processes             512                  512" in limits
    await harness.lifecycle.remove(cid, grace=GRACE)
    assert_gone(harness.containerd, cid)


async def test_the_container_shares_the_hosts_network(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\n")
    await harness.run(service)
    pid = task_pid(harness.containerd, "e2e-web")
    assert os.readlink(f"/proc/{pid}/ns/net") == os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_a_named_volume_keeps_its_data_across_a_recreate(harness: Harness) -> None:
    # /tmp in the image is 1777, so the new volume is too and the image's user `app` can
    # write there: a volume takes the mode and owner of the image's directory.
    text = "SERVICE web\nFROM img\nCMD sh -c 'date >> /tmp/runs; sleep 60'\nVOLUME data:/tmp\n"
    service = harness.service(text)
    volume = harness.state_root / "projects" / harness.containerd.namespace / "e2e" / "volumes"
    runs_file = volume / "data" / "runs"

    def runs() -> int:
        return len(runs_file.read_text().splitlines()) if runs_file.exists() else 0

    for run, config_hash in enumerate(("first", "second"), start=1):
        await harness.run(service, config_hash=config_hash)
        eventually(lambda n=run: runs() == n, timeout=10, what=f"{run} line(s) in the volume")
        await harness.lifecycle.remove("e2e-web", grace=GRACE)
    assert oct((volume / "data").stat().st_mode & 0o7777) == "0o1777"


async def test_exec_reports_the_exit_code_and_gives_up_after_its_limit(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\n")
    await harness.run(service)
    assert await harness.lifecycle.exec("e2e-web", ["sh", "-c", "exit 3"], limit=GRACE * 10) == 3
    assert await harness.lifecycle.exec("e2e-web", ["true"], limit=GRACE * 10) == 0
    assert await harness.lifecycle.exec("e2e-web", ["sleep", "30"], limit=GRACE) is None
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_create_adopts_its_own_container_and_refuses_another_configuration(
    harness: Harness,
) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\n")
    first = await harness.lifecycle.create(harness.request(service))
    again = await harness.lifecycle.create(harness.request(service))
    assert again.created_at == first.created_at
    with pytest.raises(Conflict, match="another configuration"):
        await harness.lifecycle.create(harness.request(service, config_hash="other"))
    await harness.lifecycle.remove("e2e-web", grace=GRACE)
    assert_gone(harness.containerd, "e2e-web")


async def test_a_container_without_our_labels_is_never_touched(harness: Harness) -> None:
    harness.containerd.ctr("containers", "create", harness.image.name, "foreign")
    with pytest.raises(Conflict, match="not the reconciler's"):
        await harness.lifecycle.remove("foreign", grace=GRACE)
    assert "foreign" in harness.containerd.ctr("containers", "ls", "-q").split()
    harness.containerd.ctr("containers", "rm", "foreign")


async def test_a_remapped_port_is_an_error_of_the_service(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\nPUBLISH 8080:80\n")
    with pytest.raises(ServiceConfigError, match="service 'web': PUBLISH 8080:80 remaps"):
        await harness.lifecycle.create(harness.request(service))
    assert "e2e-web" not in harness.containerd.ctr("containers", "ls", "-q").split()
    assert "e2e-web" not in harness.containerd.ctr("snapshots", "ls")


async def test_each_directive_is_seen_from_inside_the_container(harness: Harness) -> None:
    env_file = harness.project_dir / "app.env"
    env_file.write_text("FROM_FILE=file\nSHARED=file\n")
    service = harness.service(
        "SERVICE web\nFROM img\nCMD sleep 60\nWORKDIR /tmp\nENV_FILE ./app.env\n"
        "ENV SHARED=env\nLIMIT_NOFILE 2048\nVOLUME ./site:/srv/site\n"
    )
    (harness.project_dir / "site").mkdir()
    (harness.project_dir / "site" / "index.html").write_text("from the host")
    await harness.run(service, env_files=(env_file,))
    probe = "pwd; id -u; id -g; ulimit -n; echo $FROM_FILE $SHARED; cat /srv/site/index.html"
    lines = inside(harness.containerd, "e2e-web", probe).splitlines()
    assert lines == ["/tmp", "1000", "1000", "2048", "file env", "from the host"]
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_io_weight_lands_in_the_blkio_cgroup(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\nIO_WEIGHT 500\n")
    await harness.run(service)
    ns = harness.containerd.namespace
    weight_files = [
        Path(f"/sys/fs/cgroup/blkio/{ns}/e2e-web/{name}")
        for name in ("blkio.bfq.weight", "blkio.weight")
    ]
    present = [f for f in weight_files if f.exists()]
    assert present, "no blkio weight file in the container's cgroup"
    assert present[0].read_text().split()[-1] == "500"
    await harness.lifecycle.remove("e2e-web", grace=GRACE)


async def test_fifty_create_stop_cycles_leave_everything_at_baseline(harness: Harness) -> None:
    service = harness.service("SERVICE web\nFROM img\nCMD sleep 60\nTIMEOUT_STOP 1s\n")
    ctr = harness.containerd.ctr

    def counts() -> tuple[int, ...]:
        return (
            len(ctr("containers", "ls", "-q").split()),
            len(ctr("tasks", "ls", "-q").split()),
            len(ctr("snapshots", "ls").splitlines()),
            len(ctr("leases", "ls", "-q").split()),
            len(shim_pids(harness.containerd.namespace, "e2e-web")),
            len(os.listdir("/proc/self/fd")),
            len(asyncio.all_tasks()),
        )

    baseline = counts()
    for cycle in range(50):
        await harness.run(service, config_hash=f"cycle-{cycle}")
        await harness.lifecycle.remove("e2e-web", grace=GRACE)
    assert counts() == baseline
