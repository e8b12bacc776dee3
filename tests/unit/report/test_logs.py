"""`logs`: every service merged by time with its name as a prefix, --timestamps,
--since, and the presentation of a line."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from reconciler.cli import main
from reconciler.logfiles import marks
from reconciler.report.logs import gap_notice, prefix_width, render_line, timestamp

ORCHFILE = """\
SERVICE web
  RUN sleep 1000

SERVICE clockwork
  RUN sleep 1000
"""
SECOND = 1_000_000_000


def test_a_name_column_only_when_several_services_are_shown() -> None:
    assert prefix_width(["web"]) == 0
    assert prefix_width(["web", "clockwork"]) == 9
    assert render_line("hello", name="web", width=0, at_ns=None) == "hello"
    assert render_line("hello", name="web", width=9, at_ns=None) == "web       | hello"


def test_a_timestamp_is_utc_to_the_millisecond_and_comes_first() -> None:
    at = 1_714_564_800_123_456_789  # 2024-05-01T12:00:00.123456789Z
    assert timestamp(at) == "2024-05-01T12:00:00.123Z"
    line = render_line("hi", name="web", width=3, at_ns=at)
    assert line == "2024-05-01T12:00:00.123Z web | hi"


def test_a_gap_says_how_much_was_missed_and_why() -> None:
    assert gap_notice("web", 3 << 20) == (
        "logs: web: 3M rotated away before it was read "
        "(more than --log-max-size x --log-max-files behind)"
    )


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "app"
    directory.mkdir()
    (directory / "Orchfile").write_text(ORCHFILE)
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("RECONCILER_NAMESPACE", "orch")
    monkeypatch.chdir(directory)
    logs = tmp_path / "state" / "projects" / "orch" / "app" / "logs"
    logs.mkdir(parents=True)
    now = time.time_ns()
    # web wrote at now-300s and now-10s; clockwork at now-200s (stderr) and now-5s.
    write(logs / "web.log", b"web old\nweb new\n", [(8, now - 300 * SECOND)], now - 10 * SECOND)
    write(logs / "clockwork.log", b"tick new\n", [], now - 5 * SECOND)
    write(logs / "clockwork.err", b"tick old\n", [], now - 200 * SECOND)
    return logs


def write(path: Path, data: bytes, points: list[tuple[int, int]], modified: int) -> None:
    path.write_bytes(data)
    for offset, at in points:
        marks.append_mark(path, marks.Mark(offset=offset, at_ns=at))
    os.utime(path, ns=(modified, modified))


def logs(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["logs", *args]) == 0
    return capsys.readouterr().out.splitlines()


def test_every_service_merged_by_time_after_its_name(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert logs(capsys) == [
        "web       | web old",
        "clockwork | tick old",
        "web       | web new",
        "clockwork | tick new",
    ]


def test_one_service_is_shown_without_a_name_and_stdout_and_stderr_by_time(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert logs(capsys, "clockwork") == ["tick old", "tick new"]


def test_since_keeps_the_lines_written_in_that_window(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert logs(capsys, "--since", "60s") == ["web       | web new", "clockwork | tick new"]
    assert logs(capsys, "web", "--since", "1s") == []


def test_timestamps_come_first_and_tail_is_per_file(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = logs(capsys, "web", "clockwork", "-t", "--tail", "1")
    assert [line.split(" ", 1)[1] for line in lines] == [
        "clockwork | tick old",
        "web       | web new",
        "clockwork | tick new",
    ]
    assert all(line[:4].isdigit() and line[23] == "Z" for line in lines)


def test_an_unknown_service_or_a_bad_duration_is_one_line(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["logs", "nope"]) != 0
    assert "no service 'nope' in the Orchfile (services: web, clockwork)" in capsys.readouterr().err
    assert main(["logs", "--since", "soon"]) != 0
    assert "--since 'soon'" in capsys.readouterr().err
