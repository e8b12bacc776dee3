"""Where a project's control socket lives.

`<state>/control/<namespace>/<project>.sock`, or, when that would not fit a unix socket
address (107 bytes), `<state>/control/<digest>.sock` named by a digest of namespace and
project: every command computes the same path from the same three values. The
directories are 0700 (made by `statedir.tree`, without following a link) and the socket
0600: only root (the owner of the state dir) can reach `run`, as only root can reach
containerd.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Final

from reconciler.errors import UsageError

MAX_SOCKET_PATH: Final = 107
CONTROL_DIR: Final = "control"


def control_socket(state_dir: Path, namespace: str, project: str) -> Path:
    root = state_dir.absolute() / CONTROL_DIR
    readable = root / namespace / f"{project}.sock"
    if len(str(readable)) <= MAX_SOCKET_PATH:
        return readable
    digest = hashlib.sha256(f"{namespace}/{project}".encode()).hexdigest()[:20]
    short = root / f"{digest}.sock"
    if len(str(short)) <= MAX_SOCKET_PATH:
        return short
    raise UsageError(f"state dir too deep for a unix socket ({short}); use a shorter --state-dir")
