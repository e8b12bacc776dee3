"""The host refusing a file operation is one line naming the path and what to do, exit 1."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import pytest

from reconciler.errors import HostResourceError
from reconciler.oserrors import Facts, host_error, message, translated

LOCK = "/var/lib/reconciler/locks/orch/demo.lock"


@pytest.mark.parametrize(
    ("code", "facts", "expected"),
    [
        (
            errno.ENOSPC,
            Facts(),
            f"no space left on the filesystem holding {LOCK}: free space there "
            "(df -h /var/lib/reconciler/locks/orch)",
        ),
        (
            errno.ENOSPC,
            Facts(inodes_exhausted=True),
            f"no free inodes left on the filesystem holding {LOCK}: remove files there "
            "(df -i /var/lib/reconciler/locks/orch)",
        ),
        (
            errno.EMFILE,
            Facts(open_files_limit=1024),
            f"too many open files in this process (limit 1024) at {LOCK}: raise the limit "
            "(ulimit -n; LimitNOFILE= in a systemd unit)",
        ),
        (
            errno.EROFS,
            Facts(),
            f"{LOCK} is on a read-only filesystem: remount it read-write, or choose another "
            "--state-dir",
        ),
        (
            errno.EACCES,
            Facts(),
            f"permission denied on {LOCK}: run as the user who owns it (root for "
            "/var/lib/reconciler), or choose a --state-dir of your own",
        ),
    ],
    ids=["disk full", "no inodes", "too many open files", "read-only", "permission"],
)
def test_each_refusal_says_what_to_do_naming_the_path(
    code: int, facts: Facts, expected: str
) -> None:
    assert message(code, LOCK, facts) == expected


def test_an_exhausted_resource_is_told_without_a_path_too() -> None:
    assert message(errno.ENFILE, None, Facts()) == (
        "the system's table of open files is full: close files elsewhere or raise fs.file-max"
    )


def test_a_refused_right_without_a_path_is_not_ours_to_explain() -> None:
    assert message(errno.EPERM, None, Facts()) is None


def test_other_errors_stay_what_they_are() -> None:
    assert host_error(FileNotFoundError(errno.ENOENT, "No such file", "/x")) is None


def test_the_errors_own_path_wins_over_the_callers() -> None:
    error = OSError(errno.EROFS, "Read-only file system", "/ro/state/x")

    found = host_error(error, "/ro/state")

    assert isinstance(found, HostResourceError)
    assert str(found).startswith("/ro/state/x is on a read-only filesystem")


def test_a_block_names_the_path_a_write_error_does_not() -> None:
    expected = r"^no space left on the filesystem holding /s/f"
    with pytest.raises(HostResourceError, match=expected), translated(Path("/s/f")):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(FileNotFoundError), translated(Path("/s/f")):
        raise FileNotFoundError(errno.ENOENT, "No such file")


# Runs `down` once (every module it needs is loaded; with no containerd at the address
# it fails after taking the project lock), then again with the open-files limit a few
# descriptors above what is open: the event loop gets its own, taking the lock does not.
EMFILE_PROBE = """
import os, resource, sys
from reconciler.cli import main
argv = ["down", "-f", sys.argv[1], "--state-dir", sys.argv[2],
        "--address", "unix:///nonexistent/containerd.sock"]
main(argv)
lowest_free = os.open(os.devnull, os.O_RDONLY)
os.close(lowest_free)
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free + 6, hard))
print("---", file=sys.stderr)
sys.exit(main(argv))
"""


def test_too_many_open_files_is_one_line_and_exit_1_not_an_internal_error(
    tmp_path: Path,
) -> None:
    orchfile = tmp_path / "Orchfile"
    orchfile.write_text("SERVICE web\n  RUN sleep 1\n")

    done = subprocess.run(
        [sys.executable, "-c", EMFILE_PROBE, str(orchfile), str(tmp_path / "state")],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 1, done.stderr
    (line,) = done.stderr.split("---\n", 1)[1].splitlines()
    assert line.startswith("error: too many open files in this process (limit "), line
    assert line.endswith("raise the limit (ulimit -n; LimitNOFILE= in a systemd unit)")
