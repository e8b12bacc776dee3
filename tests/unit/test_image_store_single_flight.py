"""ImageService shares one call in flight per source: a converge asks for every
service's image at once, and twenty imports of one layout must not race each other."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.images.store import ImageService, ResolvedImage


class Counting(ImageService):
    """`_ensure` and `_find` replaced by calls that count and wait for `release`."""

    def __init__(self) -> None:
        super().__init__(cast(ContainerdClient, object()))
        self.calls: list[str] = []
        self.release = asyncio.Event()
        self.cancelled = 0

    async def _ensure(self, source: str | Path, name: str | None, credentials: Any) -> Any:
        return await self._work(f"ensure {source}")

    async def _find(self, source: str | Path, name: str | None) -> Any:
        return await self._work(f"find {source}")

    async def _work(self, what: str) -> str:
        self.calls.append(what)
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return f"resolved {what}"


@pytest.mark.asyncio
async def test_concurrent_calls_for_one_source_share_one_call() -> None:
    images = Counting()
    waiting = [asyncio.create_task(images.ensure_image("/app/img")) for _ in range(20)]
    finding = [asyncio.create_task(images.find("/app/img")) for _ in range(20)]
    other = asyncio.create_task(images.ensure_image("/app/other"))
    await asyncio.sleep(0)
    images.release.set()
    results = await asyncio.gather(*waiting, *finding, other)
    assert images.calls == ["ensure /app/img", "find /app/img", "ensure /app/other"]
    assert set(cast(list[str], results[:20])) == {"resolved ensure /app/img"}
    assert set(cast(list[str], results[20:40])) == {"resolved find /app/img"}


@pytest.mark.asyncio
async def test_a_finished_call_is_not_cached() -> None:
    images = Counting()
    images.release.set()
    first: ResolvedImage = await images.ensure_image("/app/img")
    second: ResolvedImage = await images.ensure_image("/app/img")
    assert first == second
    assert images.calls == ["ensure /app/img", "ensure /app/img"]


@pytest.mark.asyncio
async def test_one_cancelled_caller_leaves_the_shared_call_to_the_others() -> None:
    images = Counting()
    quitter = asyncio.create_task(images.ensure_image("/app/img"))
    stayer = asyncio.create_task(images.ensure_image("/app/img"))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.gather(quitter, return_exceptions=True)
    images.release.set()
    assert cast(str, await stayer) == "resolved ensure /app/img"
    assert (images.calls, images.cancelled) == (["ensure /app/img"], 0)


@pytest.mark.asyncio
async def test_the_last_cancelled_caller_cancels_the_shared_call() -> None:
    images = Counting()
    callers = [asyncio.create_task(images.ensure_image("/app/img")) for _ in range(2)]
    await asyncio.sleep(0)
    for caller in callers:
        caller.cancel()
    await asyncio.gather(*callers, return_exceptions=True)
    await asyncio.sleep(0)
    assert images.cancelled == 1
    images.release.set()
    assert cast(str, await images.ensure_image("/app/img")) == "resolved ensure /app/img"
    assert len(images.calls) == 2


@pytest.mark.asyncio
async def test_a_failure_reaches_every_caller_and_is_not_remembered() -> None:
    images = Counting()

    async def fail(source: str | Path, name: str | None, credentials: Any) -> Any:
        images.calls.append("fail")
        await asyncio.sleep(0)
        raise RuntimeError("broken layout")

    images._ensure = fail  # type: ignore[method-assign]
    results = await asyncio.gather(
        *(images.ensure_image("/app/img") for _ in range(3)), return_exceptions=True
    )
    assert [str(r) for r in results] == ["broken layout"] * 3
    assert images.calls == ["fail"]
