"""A project opened for work: its runtime connection and its drivers.

The commands that touch the runtime all start the same way (pick the containerd, build
the drivers) and end the same way (close the channel); this module is that beginning
and end, so each command is only what it does in between. Reading the files is
`app.loading`'s job.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from reconciler.app.containerd_address import choose_containerd
from reconciler.app.engine import Engine
from reconciler.controllers.driver import Driver
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.driver import ContainerdDriver
from reconciler.drivers.containerd.images.ingest import ProgressCallback
from reconciler.drivers.containerd.images.store import ImageService
from reconciler.drivers.host.driver import HostDriver
from reconciler.model import labels
from reconciler.model.desired import DesiredStack, ServiceMode
from reconciler.settings import Settings


@dataclass(frozen=True, kw_only=True)
class Runtime:
    client: ContainerdClient
    images: ImageService
    drivers: Mapping[ServiceMode, Driver]


@asynccontextmanager
async def open_runtime(
    desired: DesiredStack,
    settings: Settings,
    *,
    start_embedded: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AsyncIterator[Runtime]:
    """Connect to the chosen containerd (starting the embedded one if allowed and needed)
    and build the drivers for the project."""
    chosen = await choose_containerd(settings, start_embedded=start_embedded)
    async with ContainerdClient(address=chosen.address, namespace=desired.namespace) as client:
        images = ImageService(
            client,
            on_progress=on_progress,
            lease_labels={labels.PROJECT: desired.project},
        )
        drivers: dict[ServiceMode, Driver] = {
            ServiceMode.CONTAINER: ContainerdDriver(
                client, project=desired.project, images=images, runtime_state=chosen.state
            ),
            ServiceMode.HOST: HostDriver(
                project=desired.project,
                namespace=desired.namespace,
                state_dir=desired.paths.state_dir,
            ),
        }
        yield Runtime(client=client, images=images, drivers=drivers)


@asynccontextmanager
async def open_engine(
    desired: DesiredStack,
    settings: Settings,
    *,
    start_embedded: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AsyncIterator[Engine]:
    async with open_runtime(
        desired, settings, start_embedded=start_embedded, on_progress=on_progress
    ) as runtime:
        engine = Engine(desired=desired, drivers=runtime.drivers)
        try:
            yield engine
        finally:
            await engine.close()
