"""Which containerd: the given address, else the system socket, else the embedded one."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.app.containerd_address import (
    ChosenContainerd,
    Source,
    answering_containerd,
    choose_containerd,
)
from reconciler.app.embedded import EmbeddedContainerd
from reconciler.errors import RuntimeUnavailable, UsageError
from reconciler.settings import Settings

SYSTEM = Path("/run/test-system/containerd.sock")


class Probe:
    def __init__(self, *answering: str) -> None:
        self.answering = set(answering)
        self.asked: list[str] = []

    async def __call__(self, address: str) -> bool:
        self.asked.append(address)
        return address in self.answering


def settings(state_dir: Path, address: str | None = None) -> Settings:
    return Settings(namespace="orch", state_dir=state_dir, address=address)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("given", "target"),
    [("/srv/ctd.sock", "unix:///srv/ctd.sock"), ("unix:///srv/ctd.sock", "unix:///srv/ctd.sock")],
)
async def test_a_given_address_wins_without_probing(
    tmp_path: Path, given: str, target: str
) -> None:
    probe = Probe()
    chosen = await choose_containerd(
        settings(tmp_path, given), start_embedded=True, system_socket=SYSTEM, probe=probe
    )
    assert chosen == ChosenContainerd(address=target, source=Source.GIVEN)
    assert probe.asked == []


@pytest.mark.asyncio
async def test_a_relative_given_address_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--address"):
        await choose_containerd(settings(tmp_path, "ctd.sock"), start_embedded=False)


@pytest.mark.asyncio
async def test_the_system_socket_is_used_when_it_answers(tmp_path: Path) -> None:
    probe = Probe(f"unix://{SYSTEM}")
    chosen = await choose_containerd(
        settings(tmp_path), start_embedded=True, system_socket=SYSTEM, probe=probe
    )
    assert chosen == ChosenContainerd(
        address=f"unix://{SYSTEM}", source=Source.SYSTEM, state=Path("/run/containerd")
    )


@pytest.mark.asyncio
async def test_a_reading_command_finds_the_running_embedded_containerd(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path)
    probe = Probe(embedded.address)
    chosen = await choose_containerd(
        settings(tmp_path), start_embedded=False, system_socket=SYSTEM, probe=probe
    )
    assert chosen == ChosenContainerd(
        address=embedded.address, source=Source.EMBEDDED, state=embedded.state, daemon=embedded
    )
    assert probe.asked == [f"unix://{SYSTEM}", embedded.address]


@pytest.mark.asyncio
async def test_a_project_that_can_do_without_containerd_gets_none_when_none_answers(
    tmp_path: Path,
) -> None:
    found = await answering_containerd(settings(tmp_path), system_socket=SYSTEM, probe=Probe())
    assert found is None


@pytest.mark.asyncio
async def test_a_reading_command_with_no_containerd_names_both_sockets(tmp_path: Path) -> None:
    embedded = EmbeddedContainerd.under(tmp_path)
    with pytest.raises(RuntimeUnavailable) as raised:
        await choose_containerd(
            settings(tmp_path), start_embedded=False, system_socket=SYSTEM, probe=Probe()
        )
    assert str(SYSTEM) in str(raised.value)
    assert str(embedded.socket) in str(raised.value)
