"""Fixtures every test gets.

A command run in process (`reconciler.cli.main`, `operations.*`) makes the process's
umask private (0o077: `statedir.umask`), as it should for a command that lives and dies
with its process. In pytest's process that would outlive the test and make every file a
later test writes for a container (a bind-mounted page, an ENV_FILE read by a service's
user) unreadable to anyone but root; so each test gets back the umask it started with.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _umask_restored() -> Iterator[None]:
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)
