"""Whether another user could change a path: the rules alone, then paths walked on disk."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from reconciler.errors import UnsafePath
from reconciler.statedir.trust import directory_problem, link_problem, resolve

ME = 1000
OTHER = 1001
NOBODY = 65534
DIR = stat.S_IFDIR
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")


@pytest.mark.parametrize(
    ("uid", "mode"),
    [(0, DIR | 0o755), (ME, DIR | 0o700), (0, DIR | 0o1777), (ME, DIR | 0o1770)],
    ids=["root's", "mine", "sticky /tmp", "sticky and group-writable"],
)
def test_a_directory_only_root_or_i_can_change_is_safe(uid: int, mode: int) -> None:
    assert directory_problem(Path("/d"), uid=uid, mode=mode, me=ME) is None


@pytest.mark.parametrize(
    ("uid", "mode", "problem"),
    [
        (OTHER, DIR | 0o700, "/d belongs to uid 1001"),
        (0, DIR | 0o775, "/d is writable by its group"),
        (ME, DIR | 0o757, "/d is writable by others"),
        (0, DIR | 0o777, "/d is writable by its group and others"),
    ],
)
def test_a_directory_another_user_could_change_is_named(uid: int, mode: int, problem: str) -> None:
    assert directory_problem(Path("/d"), uid=uid, mode=mode, me=ME) == problem


def test_a_link_is_followed_when_root_or_i_made_it_in_a_safe_or_sticky_directory() -> None:
    for holder_mode in (DIR | 0o755, DIR | 0o1777):
        found = link_problem(Path("/var/run"), uid=0, holder_uid=0, holder_mode=holder_mode, me=ME)
        assert found is None


def test_a_link_another_user_owns_is_not_followed() -> None:
    problem = link_problem(Path("/tmp/l"), uid=OTHER, holder_uid=0, holder_mode=DIR | 0o1777, me=ME)
    assert problem == "/tmp/l is a symbolic link owned by uid 1001"


def test_a_link_in_a_directory_another_user_can_change_is_not_followed() -> None:
    problem = link_problem(
        Path("/home/alice/share"), uid=0, holder_uid=OTHER, holder_mode=DIR | 0o755, me=ME
    )
    assert problem is not None
    assert "in a directory another user can change (/home/alice belongs to uid 1001)" in problem


def test_resolving_follows_links_as_the_kernel_does(tmp_path: Path) -> None:
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "abs").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "rel").symlink_to("deep")
    (tmp_path / "up").symlink_to("real/deep/..")

    assert resolve(tmp_path / "abs" / "rel", me=os.geteuid(), directories=False) == (
        tmp_path / "real" / "deep"
    )
    assert resolve(tmp_path / "up" / "deep", me=os.geteuid(), directories=False) == (
        tmp_path / "real" / "deep"
    )


def test_what_does_not_exist_yet_is_returned_as_written(tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real").mkdir()

    found = resolve(tmp_path / "link" / "new" / ".." / "state", me=os.geteuid(), directories=False)

    assert found == tmp_path / "real" / "state"


def test_a_link_loop_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")

    with pytest.raises(UnsafePath, match="too many levels of symbolic links"):
        resolve(tmp_path / "a" / "x", me=os.geteuid(), directories=False)


@needs_root
def test_a_link_another_user_owns_is_refused_on_the_way(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "real")
    os.lchown(link, NOBODY, NOBODY)

    with pytest.raises(UnsafePath, match=rf"{link} is a symbolic link owned by uid {NOBODY}"):
        resolve(link / "x", me=0, directories=False)


@needs_root
def test_with_directories_a_directory_another_user_owns_on_the_way_is_refused(
    tmp_path: Path,
) -> None:
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)

    assert resolve(theirs / "state", me=0, directories=False) == theirs / "state"
    with pytest.raises(UnsafePath, match=rf"{theirs} belongs to uid {NOBODY}"):
        resolve(theirs / "state", me=0, directories=True)
