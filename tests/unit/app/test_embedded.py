"""The embedded containerd's layout and its refusals, without starting a daemon."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reconciler.app.embedded import EmbeddedContainerd, answers, check_binaries
from reconciler.errors import MissingBinary, UsageError


def test_everything_lives_under_the_state_dir(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path)
    base = tmp_path / "containerd"
    assert embedded.socket == base / "containerd.sock"
    assert embedded.address == f"unix://{base}/containerd.sock"
    assert (embedded.root, embedded.state) == (base / "root", base / "state")
    assert (embedded.log_path, embedded.pid_path) == (
        base / "containerd.log",
        base / "containerd.pid",
    )


def test_the_config_disables_cri_and_points_everything_under_the_folder(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path)
    config = embedded.config_toml()
    assert '"io.containerd.grpc.v1.cri"' in config
    assert f'root = "{embedded.root}"' in config
    assert f'state = "{embedded.state}"' in config
    assert f'address = "{embedded.socket}"' in config


def test_missing_binaries_name_the_debian_packages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(MissingBinary, match=r"containerd and runc not found.*apt-get install"):
        check_binaries()


@pytest.mark.asyncio
async def test_starting_without_binaries_fails_before_touching_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    embedded = EmbeddedContainerd.under(tmp_path / "state")
    with pytest.raises(MissingBinary):
        await embedded.ensure_running()
    assert not embedded.directory.exists()


@pytest.mark.asyncio
async def test_a_state_dir_too_deep_for_a_socket_is_a_usage_error(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path / ("d" * 120))
    with pytest.raises(UsageError, match="too deep for a unix socket"):
        await embedded.ensure_running()


def test_a_pid_file_naming_another_process_is_stale(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path)
    embedded.directory.mkdir()
    embedded.pid_path.write_text(f"{os.getpid()}\n")
    assert embedded.pid() is None
    embedded.pid_path.write_text("garbage\n")
    assert embedded.pid() is None


def test_no_pid_file_means_no_daemon(tmp_path: Path) -> None:
    assert EmbeddedContainerd.under(tmp_path).pid() is None


@pytest.mark.asyncio
async def test_a_socket_nobody_listens_on_does_not_answer(tmp_path: Path) -> None:
    assert not await answers(f"unix://{tmp_path}/none.sock", timeout=1)
    embedded = EmbeddedContainerd.under(tmp_path)
    assert not await embedded.answers()
