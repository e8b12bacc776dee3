"""The key every configuration digest is made with (`controllers.fingerprint`).

32 random bytes in `<state dir>/fingerprint.key`, mode 0600, made once (by whichever
command first needs it) and read after that. It is written to a private temporary file
and then linked into place, so no reader ever sees it half-written and two commands
making it at once agree on the first one. The same key must be used for as long as the
containers it labelled live: a lost key makes every service look changed, and the next
`apply` recreates them all once.

It is read without following a link (nothing under the state dir is one: SECURITY.md),
and a full or read-only state dir is one line naming it (`oserrors`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
from pathlib import Path
from typing import Final

from reconciler.errors import UnsafePath
from reconciler.oserrors import translated

KEY_FILE: Final = "fingerprint.key"
KEY_BYTES: Final = 32


def fingerprint_key(state_dir: Path) -> bytes:
    path = state_dir / KEY_FILE
    with translated(path):
        try:
            return _read(path)
        except FileNotFoundError:
            _make(path)
            return _read(path)


def _read(path: Path) -> bytes:
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno != errno.ELOOP:
            raise
        raise UnsafePath(
            f"{path} is a symbolic link, and nothing under the state dir is one: remove it"
        ) from None
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read()


def _make(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(secrets.token_bytes(KEY_BYTES))
            handle.flush()
            os.fsync(handle.fileno())
        # Another command may have made it first: then theirs is the key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
