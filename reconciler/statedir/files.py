"""Writing a file of the state dir: atomically, 0600, naming the path when the host refuses.

Why this exists: unit records, run files and network records are each rewritten whole
while others may read them at any moment; a reader must see the old content or the new,
never half of either, and a crash must leave one of them. So: write a temporary file
beside it (created exclusively, 0600, never through a link), fsync, rename over, fsync
the directory. A full disk or a read-only filesystem surfaces as one line naming the
file (a `write` or `fsync` error names none).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Final

from reconciler.oserrors import translated

FILE_MODE: Final = 0o600
DIRECTORY_MODE: Final = 0o700


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path`'s content with `data`, all at once; its directory is made (0700)
    when missing."""
    with translated(path):
        path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        descriptor = os.open(temporary, flags, FILE_MODE)
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
