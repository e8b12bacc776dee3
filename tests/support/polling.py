"""Waiting for a condition with a deadline: the only way a test may wait.

A fixed sleep either wastes time or flakes under load. ``eventually`` polls a check until
it passes or the deadline expires, and then fails with the check's last complaint, so a
timeout explains itself.
"""

from __future__ import annotations

import time
from collections.abc import Callable
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
