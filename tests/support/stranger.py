"""Another local user, made for one test and removed after it: what the state dir's
permissions must keep out. Acting as them is `runuser`, from outside the product."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

# The system's own Python: the test's virtualenv may live where the stranger cannot read.
SYSTEM_PYTHON: Final = "/usr/bin/python3"
# Connect to a unix socket; print what happened (OK, or the error's class).
CONNECT: Final = """
import socket, sys
probe = socket.socket(socket.AF_UNIX)
try:
    probe.connect(sys.argv[1])
except OSError as error:
    print(type(error).__name__)
else:
    print("OK")
"""


@dataclass(frozen=True, kw_only=True)
class Stranger:
    name: str

    def run(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["runuser", "-u", self.name, "--", *argv],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
            cwd="/",
        )

    def connect(self, socket_path: str) -> str:
        """`OK`, or the name of the error connecting to `socket_path` as this user."""
        return self.run(SYSTEM_PYTHON, "-c", CONNECT, socket_path).stdout.strip()


@contextmanager
def stranger() -> Iterator[Stranger]:
    """A system user with no home and no privileges, deleted on the way out."""
    name = f"reconciler-test-{secrets.token_hex(4)}"
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    try:
        yield Stranger(name=name)
    finally:
        subprocess.run(["userdel", name], check=True, capture_output=True)
