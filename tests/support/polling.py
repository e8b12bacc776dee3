"""Waiting for a condition with a deadline: the only way a test may wait (sync or async).

A fixed sleep either wastes time or flakes under load. ``eventually`` polls a check until
it passes or the deadline expires, and then fails with the check's last complaint, so a
timeout explains itself.
"""

from __future__ import annotations

import asyncio
import inspect
import time
import typing
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Call ``check`` until it returns a truthy value without raising AssertionError.

    Returns that value. When ``timeout`` seconds pass first, raises AssertionError naming
    ``what`` and chaining the last AssertionError (or reporting the last falsy result).
    """
    deadline = time.monotonic() + timeout
    while True:
        last_error: AssertionError | None = None
        try:
            result = check()
        except AssertionError as error:
            last_error = error
        else:
            if result:
                return result
        if time.monotonic() >= deadline:
            if last_error is not None:
                raise AssertionError(f"{what}: not met within {timeout}s: {last_error}") from (
                    last_error
                )
            raise AssertionError(f"{what}: not met within {timeout}s (last result {result!r})")
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[T] | T],
    *,
    timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for the whole wait, like `eventually`
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """`eventually` for async tests: `check` may be a coroutine function; the loop keeps
    running between tries (no thread is blocked)."""
    deadline = time.monotonic() + timeout
    while True:
        last_error: AssertionError | None = None
        try:
            outcome = check()
            result = await outcome if inspect.isawaitable(outcome) else outcome
        except AssertionError as error:
            last_error = error
        else:
            if result:
                return typing.cast(T, result)
        if time.monotonic() >= deadline:
            if last_error is not None:
                raise AssertionError(f"{what}: not met within {timeout}s: {last_error}") from (
                    last_error
                )
            raise AssertionError(f"{what}: not met within {timeout}s (last result {result!r})")
        await asyncio.sleep(interval)
