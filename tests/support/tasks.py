"""A fixture failing any test that leaves an asyncio task behind (every task has an owner).

Import it into a conftest to make it autouse for that folder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio


@pytest_asyncio.fixture(autouse=True)
async def no_leftover_tasks() -> AsyncIterator[None]:
    before = asyncio.all_tasks()
    yield
    leftover = asyncio.all_tasks() - before - {asyncio.current_task()}
    assert not leftover, f"tasks left behind: {leftover}"
