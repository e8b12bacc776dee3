"""No test here may leave an asyncio task behind: every owner cancels what it started."""

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
