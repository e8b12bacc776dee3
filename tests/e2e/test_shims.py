"""Shared runc shims, checked from outside: shim processes counted in /proc, the parent of
every task's process (the shim that serves it), the group annotation in the spec as
`ctr containers info` shows it, and what a killed shim leaves and `apply` and `run` make
of it. A project's services share one shim per lane (a lane per core, by a digest of
the service's name): the tests name services of one lane where they need one shim.
Every test ends with `down` and `leak-check` (the `run` fixture).
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from reconciler.drivers.containerd.shim_groups import default_lanes, project_group
from tests.support.census import shim_pids
from tests.support.oci_image import BuiltImage
from tests.support.polling import eventually
from tests.support.processes import stat_fields
from tests.support.run_process import RunProcess

IDLE = "SERVICE {name}\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n"
GROUP = "io.containerd.runc.v2.group"


def idle(*names: str) -> str:
    return "".join(IDLE.format(name=name) for name in names)


def one_lane(count: int, project: str = "app") -> list[str]:
    """`count` service names whose containers share the project's first lane."""
    names: list[str] = []
    index = 0
    while len(names) < count:
        name = f"s{index}"
        if project_group(project, name, lanes=default_lanes()) == f"orch/{project}/0":
            names.append(name)
        index += 1
    return names


def apply(project: RunProcess) -> None:
    done = project.cli("apply", "--wait", "--timeout", "60s")
    assert done.returncode == 0, done.stdout + done.stderr


def parent(pid: int) -> int:
    fields = stat_fields(pid)
    assert fields is not None, f"process {pid} is gone"
    return int(fields[1])


def serving(project: RunProcess) -> dict[str, int]:
    """Each running task of the project and the process its process is a child of: the
    shim that started it, which reaps it."""
    prefix = f"{project.project}-"
    return {
        task_id[len(prefix) :]: parent(int(pid))
        for task_id, (pid, status) in project.tasks().items()
        if task_id.startswith(prefix) and status == "RUNNING"
    }


def annotations(project: RunProcess, name: str) -> dict[str, str]:
    assert project.containerd is not None
    info = json.loads(project.containerd.ctr("containers", "info", f"{project.project}-{name}"))
    return dict(info["Spec"].get("annotations") or {})


def argv(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def leak_check(project: RunProcess) -> None:
    done = project.cli("leak-check", "--settle", "10s")
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_projects_containers_share_one_shim_and_each_project_has_its_own(
    run: RunProcess, tmp_path: Path
) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "img").symlink_to(run.directory / "img")
    other = RunProcess(
        other_dir, run.containerd, run.state, namespace=run.namespace, project="other"
    )
    ours, others = one_lane(4), one_lane(2, "other")
    run.orchfile.write_text(idle(*ours))
    other.orchfile.write_text(idle(*others))
    apply(run)
    try:
        (shim,) = shim_pids(run.namespace)
        assert set(serving(run).values()) == {shim}
        assert sorted(serving(run)) == sorted(ours)
        assert annotations(run, ours[2]) == {GROUP: "orch/app/0"}

        apply(other)
        theirs = set(serving(other).values())
        assert len(theirs) == 1
        assert shim not in theirs
        assert annotations(other, others[0]) == {GROUP: "orch/other/0"}
        assert sorted(shim_pids(run.namespace)) == sorted({shim, *theirs})
        leak_check(run)
        leak_check(other)
    finally:
        done = other.cli("down", "--timeout", "1s")
        assert done.returncode == 0, done.stdout + done.stderr
        leak_check(other)
    eventually(lambda: shim_pids(run.namespace) == [shim], timeout=10, what="ours alone left")
    done = run.cli("down", "--timeout", "1s")
    assert done.returncode == 0, done.stdout + done.stderr
    eventually(lambda: shim_pids(run.namespace) == [], timeout=10, what="no shim left")


def test_the_shim_outlives_the_container_it_was_started_for(run: RunProcess) -> None:
    names = one_lane(3)
    run.orchfile.write_text(idle(*names))
    apply(run)
    (shim,) = shim_pids(run.namespace)
    first = argv(shim)[argv(shim).index("-id") + 1].removeprefix("app-")
    rest = [name for name in names if name != first]

    run.orchfile.write_text(idle(*rest))
    apply(run)

    assert shim_pids(run.namespace) == [shim]
    assert serving(run) == dict.fromkeys(rest, shim)
    leak_check(run)  # the shim's -id names a container that is gone: no leak for that


def test_a_killed_shared_shim_ends_every_task_of_the_project_and_run_starts_them_again(
    run: RunProcess,
) -> None:
    names = one_lane(3)
    run.orchfile.write_text(idle(*names))
    apply(run)
    (shim,) = shim_pids(run.namespace)
    assert f"{run.namespace}" in argv(shim)  # the test namespace's own shim

    os.kill(shim, signal.SIGKILL)

    # containerd cleans every task of the dead shim up (`containerd-shim-runc-v2 delete`
    # per task: runc delete --force) and keeps the records; nothing is left behind for
    # leak-check to find.
    eventually(lambda: run.tasks() == {}, timeout=10, what="every task gone")
    assert run.containers() == [f"app-{name}" for name in names]
    eventually(lambda: shim_pids(run.namespace) == [], timeout=10, what="the cleanups done")
    leak_check(run)
    apply(run)
    (second,) = shim_pids(run.namespace)
    assert set(serving(run).values()) == {second}

    run.start()
    eventually(run.converged, timeout=30, what="run converged")
    os.kill(second, signal.SIGKILL)

    def in_a_new_shim() -> bool:
        shims = shim_pids(run.namespace)  # the cleanups' `shim delete` included, briefly
        return (
            run.running(*names)
            and len(shims) == 1
            and shims != [second]
            and set(serving(run).values()) == set(shims)
        )

    eventually(in_a_new_shim, timeout=30, what="run starting every task again in a new shim")
    assert run.logged("task deleted outside the reconciler")


def test_a_projects_services_spread_over_one_shim_per_lane(run: RunProcess) -> None:
    names = [f"s{index}" for index in range(12)]
    run.orchfile.write_text(idle(*names))
    apply(run)

    lanes = {project_group("app", name, lanes=default_lanes()) for name in names}
    shims = shim_pids(run.namespace)
    assert len(shims) == len(lanes) <= default_lanes()
    assert set(serving(run).values()) == set(shims)
    for name in names:
        assert annotations(run, name) == {GROUP: project_group("app", name, lanes=default_lanes())}


def test_ctr_run_label_groups_through_the_annotation_it_also_writes(
    run: RunProcess, busybox_archive: Path, busybox_image: BuiltImage
) -> None:
    """What the issue saw: `ctr run --label` sets a container label *and* a spec
    annotation; only the annotation groups (the shim reads config.json)."""
    assert run.containerd is not None
    image = busybox_image.reference
    run.containerd.ctr("images", "import", str(busybox_archive))
    label = f"{GROUP}=orch/ctr"
    for name in ("x1", "x2"):
        run.containerd.ctr("run", "-d", "--label", label, image, name, "sleep", "1000")
    try:
        info = json.loads(run.containerd.ctr("containers", "info", "x2"))
        assert info["Labels"][GROUP] == "orch/ctr"
        assert info["Spec"]["annotations"][GROUP] == "orch/ctr"
        assert len(shim_pids(run.namespace)) == 1
    finally:
        for name in ("x1", "x2"):
            run.containerd.ctr("tasks", "kill", "-s", "KILL", name)
            eventually(lambda n=name: run.tasks()[n][1] == "STOPPED", timeout=10)
            run.containerd.ctr("tasks", "rm", name)
            run.containerd.ctr("containers", "rm", name)
    assert shim_pids(run.namespace) == []
