"""A project's data when its services go: logs with them, volumes kept unless asked."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from reconciler.app.project_data import (
    forget_kept,
    forget_service_logs,
    keep_volumes,
    read_kept,
    remove_volumes,
)
from reconciler.model.desired import ProjectPaths


def test_a_removed_services_logs_go_with_every_rotated_file_and_mark(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    names = ["web.log", "web.log.1", "web.log.2", "web.log.marks", "web.err", "web.err.1"]
    for name in [*names, "webby.log", "db.log"]:
        (logs / name).write_text("x\n")

    forget_service_logs(logs, "web")

    assert sorted(p.name for p in logs.iterdir()) == ["db.log", "webby.log"]


def test_a_service_name_cannot_reach_outside_the_logs_folder(tmp_path: Path) -> None:
    (tmp_path / "x.log").write_text("x\n")
    (tmp_path / "logs").mkdir()
    forget_service_logs(tmp_path / "logs", "../x")
    assert (tmp_path / "x.log").exists()


def test_kept_volumes_are_recorded_and_read_back(tmp_path: Path) -> None:
    paths = ProjectPaths(project_dir=tmp_path, state_dir=tmp_path / "state")
    (paths.volumes / "data").mkdir(parents=True)
    (paths.volumes / "cache").mkdir()
    at = datetime(2026, 1, 1, tzinfo=UTC)

    assert keep_volumes(paths, at) == ("cache", "data")

    kept = read_kept(paths.state_dir)
    assert kept is not None
    assert (kept.at, kept.names) == (at, ("cache", "data"))


def test_bringing_the_project_up_again_forgets_what_down_kept(tmp_path: Path) -> None:
    paths = ProjectPaths(project_dir=tmp_path, state_dir=tmp_path / "state")
    (paths.volumes / "data").mkdir(parents=True)
    keep_volumes(paths, datetime(2026, 1, 1, tzinfo=UTC))

    forget_kept(paths)

    assert read_kept(paths.state_dir) is None
    assert (paths.volumes / "data").is_dir()  # the data stays: only the record goes


def test_no_volume_no_record(tmp_path: Path) -> None:
    paths = ProjectPaths(project_dir=tmp_path, state_dir=tmp_path / "state")
    paths.state_dir.mkdir()
    assert keep_volumes(paths, datetime(2026, 1, 1, tzinfo=UTC)) == ()
    assert read_kept(paths.state_dir) is None


def test_removing_volumes_never_follows_a_link_out_of_the_state_dir(tmp_path: Path) -> None:
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "file").write_text("keep me\n")
    paths = ProjectPaths(project_dir=tmp_path, state_dir=tmp_path / "state")
    (paths.volumes / "data").mkdir(parents=True)
    (paths.volumes / "data" / "rows").write_text("x\n")
    (paths.volumes / "linked").symlink_to(outside)

    assert remove_volumes(paths) == ("data", "linked")

    assert not paths.volumes.exists()
    assert (outside / "file").read_text() == "keep me\n"
