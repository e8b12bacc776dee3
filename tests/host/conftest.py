"""Fixtures for the host driver's tests with real processes: a project, a state dir and a
namespace of their own; at teardown, nothing of the project may be left: no process, no
unit file, no cgroup. The tests need root (user switching, cgroups)."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.drivers.host.record import unit_ids
from tests.support.host import HostStack, pids_with_marker, unit_cgroups

GRACE = timedelta(seconds=1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="the host driver's process tests run as root")
    for item in items:
        if here in item.path.parents and os.geteuid() != 0:
            item.add_marker(skip)


@pytest.fixture
def marker() -> str:
    """A token to put in a service's environment, to find its processes in /proc."""
    return f"HOSTTEST{secrets.token_hex(6)}"


@pytest_asyncio.fixture
async def stack(tmp_path: Path, marker: str) -> AsyncIterator[HostStack]:
    project = tmp_path / "project"
    project.mkdir()
    made = HostStack(
        project_dir=project,
        state_root=tmp_path / "state",
        namespace=f"h-{secrets.token_hex(4)}",
    )
    yield made
    driver = made.driver()
    directory = made.state_dir / "host"
    ids = unit_ids(directory)
    for unit in ids:
        await driver.remove(unit, grace=GRACE)
    left = pids_with_marker(marker)
    cgroups = [c for unit in ids for c in unit_cgroups(made.namespace, unit)]
    files = sorted(p.name for p in directory.iterdir()) if directory.exists() else []
    assert (left, cgroups, files) == ([], [], []), "the test left processes, cgroups or files"
