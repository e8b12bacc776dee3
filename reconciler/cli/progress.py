"""Progress of image pulls and imports on a terminal: one bar per blob, on stderr.

Only on a terminal that takes escapes (`cli.terminal`: not with NO_COLOR); in a pipe or
a CI log the engine's log lines say what happens, and bars would only add noise. The
callback runs on the event loop, so it only updates rich's state; rich redraws from its
own thread.
"""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TransferSpeedColumn,
)

from reconciler.drivers.containerd.images.ingest import BlobProgress


class PullProgress:
    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=Console(file=sys.stderr),
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> PullProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, blob: BlobProgress) -> None:
        task = self._tasks.get(blob.digest)
        if task is None:
            label = f"{blob.digest.removeprefix('sha256:')[:12]}"
            task = self._progress.add_task(label, total=blob.total)
            self._tasks[blob.digest] = task
        self._progress.update(task, completed=blob.done)
        if blob.done >= blob.total:
            self._progress.remove_task(task)
            del self._tasks[blob.digest]
