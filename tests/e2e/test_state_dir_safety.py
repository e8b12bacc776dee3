"""The state dir is root's alone, nothing is written through a link planted in it, and a
full or read-only one is an error in one line, never a crash (SECURITY.md).

Checked from outside as an attacker or an unlucky admin would: another local user made
for the test (`runuser`), a link planted by hand, a small tmpfs filled to its last block
and remounted read-only. Every test ends with `down` and a leak check.

The other user's test puts the state dir in a directory every user can pass through
(0711): under pytest's own 0700 directories, it would be kept out whatever our modes.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from reconciler.app.control.socket import control_socket
from reconciler.app.embedded import EmbeddedContainerd
from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import BuiltImage, write_layout
from tests.support.polling import eventually
from tests.support.processes import terminate
from tests.support.run_process import RunProcess
from tests.support.stranger import Stranger, stranger

WEB = "SERVICE web\n  FROM ./img\n  CMD sh -c 'echo hello from web; exec sleep 1000'\n"
CLOCK = "SERVICE clock\n  RUN sh -c 'echo tick; exec sleep 1000'\n  TIMEOUT_STOP 1s\n"
# Files of the state dir others may read: bound into containers whose USER may not be root.
READABLE_BY_CONTAINERS = {"hosts", "resolv.conf"}
# The embedded containerd's own tree: its directory is 0700, what is inside is its own.
EMBEDDED = "containerd"


@pytest.fixture
def other_user() -> Iterator[Stranger]:
    with stranger() as made:
        yield made


@pytest.fixture
def exposed_run(busybox_image: BuiltImage, tmp_path: Path) -> Iterator[RunProcess]:
    """`run` on its embedded containerd, its state dir in a directory every user can pass
    through: only the state dir's own modes keep another user out."""
    if Path("/run/containerd/containerd.sock").exists():
        pytest.skip("a system containerd would be chosen over the embedded one")
    holder = Path(tempfile.mkdtemp(prefix="reconciler-e2e-", dir="/tmp"))
    holder.chmod(0o711)
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    process = RunProcess(directory, None, holder / "state", namespace=f"exposed-{os.getpid()}")
    try:
        yield process
        process.down_and_check_leaks()
    finally:
        if process.alive:
            process.stop()
        daemon = EmbeddedContainerd.under(process.state)
        if (pid := daemon.pid()) is not None:
            terminate(pid, grace=10)
        shutil.rmtree(holder)


def project_dir(run: RunProcess) -> Path:
    return run.state / "projects" / run.namespace / run.project


def apply(run: RunProcess, *flags: str) -> subprocess.CompletedProcess[str]:
    return run.cli("apply", "--wait", "--timeout", "60s", *flags)


def loose_modes(state: Path) -> list[str]:
    """What under `state` its group or others may use, but what they must read (the
    embedded containerd's tree is looked at down to its 0700 directory only)."""
    found = []
    for root, directories, files in os.walk(state):
        names = list(files)
        if Path(root) == state and EMBEDDED in directories:
            directories.remove(EMBEDDED)
            names.append(EMBEDDED)
        for path in [Path(root), *(Path(root) / name for name in names)]:
            mode = stat.S_IMODE(path.lstat().st_mode)
            if mode & (0o033 if path.name in READABLE_BY_CONTAINERS else 0o077):
                found.append(f"{path} {mode:04o}")
    return found


def test_another_user_can_read_no_log_take_no_lock_and_reach_no_socket(
    exposed_run: RunProcess, other_user: Stranger
) -> None:
    run = exposed_run
    run.orchfile.write_text(WEB + CLOCK)
    run.start()
    eventually(lambda: run.service("web")["state"] == "running", timeout=60, what="web")
    log = project_dir(run) / "logs" / "web.log"
    eventually(lambda: "hello from web" in log.read_text(), timeout=30, what="web's log")
    lock = run.state / "locks" / run.namespace / f"{run.project}.lock"
    control = control_socket(run.state, run.namespace, run.project)
    eventually(control.exists, timeout=30, what="run's control socket")
    containerd = EmbeddedContainerd.under(run.state).socket
    assert containerd.exists()

    read = other_user.run("cat", str(log))
    assert read.returncode != 0
    assert "Permission denied" in read.stderr
    locked = other_user.run("flock", "--nonblock", "--shared", str(lock), "true")
    assert locked.returncode != 0
    assert "Permission denied" in locked.stderr
    assert other_user.connect(str(control)) == "PermissionError"
    assert other_user.connect(str(containerd)) == "PermissionError"
    assert other_user.run("ls", str(run.state)).returncode != 0

    # The reconciler's own commands are not held up by the other user's attempts.
    done = apply(run)
    assert done.returncode == 0, done.stdout + done.stderr
    assert run.cli("status").returncode == 0
    assert stat.S_IMODE(run.state.stat().st_mode) == 0o700
    assert loose_modes(run.state) == []


def test_a_link_planted_above_a_named_volume_is_refused_and_nothing_is_written_through_it(
    run: RunProcess, tmp_path: Path
) -> None:
    run.orchfile.write_text(
        "SERVICE web\n  FROM ./img\n  CMD sh -c 'echo kept > /data/f; exec sleep 1000'\n"
        "  VOLUME data:/data\n  TIMEOUT_STOP 1s\n"
    )
    assert apply(run, "--network", "host").returncode == 0
    pid = run.wait_running("web")["web"]
    volumes = project_dir(run) / "volumes"
    eventually((volumes / "data" / "f").exists, timeout=30, what="web's write")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    aside = tmp_path / "volumes-aside"
    volumes.rename(aside)
    volumes.symlink_to(elsewhere)
    try:
        run.orchfile.write_text(
            run.orchfile.read_text()
            + "SERVICE other\n  FROM ./img\n  CMD sh -c 'echo planted > /data/f; exec sleep 1000'\n"
            "  VOLUME more:/data\n  TIMEOUT_STOP 1s\n"
        )
        done = apply(run, "--network", "host")

        assert done.returncode == 1
        assert done.stderr == (
            f"error: {volumes} is a symbolic link (to {elsewhere}), and nothing under the "
            "state dir is one: remove it (and check what was written where it points)\n"
        )
        assert list(elsewhere.iterdir()) == []
        assert run.pids("web") == {"web": pid}
        assert "app-other" not in run.containers()
    finally:
        volumes.unlink()
        aside.rename(volumes)
    assert (volumes / "data" / "f").read_text() == "kept\n"


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of its own (8 MB), unmounted after the test."""
    mount_point = tmp_path / "fs"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(mount_point)], check=False)
        subprocess.run(["umount", str(mount_point)], check=True)


def fill(mount_point: Path) -> Path:
    """Write a file until the filesystem has no block left."""
    filler = mount_point / "filler"
    with filler.open("wb", buffering=0) as file:
        for chunk in (1 << 20, 1 << 12, 1):
            with pytest.raises(OSError, match="No space left on device"):  # noqa: PT012
                while True:
                    file.write(b"\0" * chunk)
    assert os.statvfs(mount_point).f_bavail == 0
    return filler


def test_a_full_or_read_only_state_dir_is_one_line_and_running_services_keep_running(
    containerd: NamespacedContainerd,
    busybox_image: BuiltImage,
    small_filesystem: Path,
    tmp_path: Path,
) -> None:
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    run = RunProcess(directory, containerd, small_filesystem / "state")
    run.orchfile.write_text(WEB)
    first = apply(run)
    assert first.returncode == 0, first.stdout + first.stderr
    pid = run.pids("web")
    filler = fill(small_filesystem)
    try:
        run.orchfile.write_text(WEB + CLOCK)
        full = apply(run)

        assert full.returncode == 1
        said = full.stdout + full.stderr
        assert f"no space left on the filesystem holding {run.state}/" in said, said
        assert "free space there (df -h " in said
        assert "internal error" not in said
        assert "Traceback" not in said
        assert run.pids("web") == pid
        assert run.cli("status").returncode in (0, 3)
        # Taking the lock needs no new block: the way out works on a full disk.
        down = run.cli("down", "--timeout", "2s")
        assert down.returncode == 0, down.stdout + down.stderr

        # Nothing holds a file there open for writing now: it can be made read-only.
        subprocess.run(["mount", "-o", "remount,ro", str(small_filesystem)], check=True)
        read_only = apply(run)

        lock = run.state / "locks" / run.namespace / f"{run.project}.lock"
        assert read_only.returncode == 1
        assert read_only.stderr == (
            f"error: {lock} is on a read-only filesystem: remount it read-write, or choose "
            "another --state-dir\n"
        )
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_filesystem)], check=True)
        filler.unlink()
        run.down_and_check_leaks()
        containerd.ctr("images", "rm", "--sync", busybox_image.reference)
