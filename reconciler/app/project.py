"""A project opened for work: its runtime connection and its drivers.

The commands that touch the runtime all start the same way (pick the containerd, build
the drivers) and end the same way (close the channel); this module is that beginning
and end, so each command is only what it does in between. Reading the files is
`app.loading`'s job.

Only a project with container services needs containerd. For one of host services only,
containerd is used when one answers (to see what an earlier version of the files left
there) and never started; without one, `plan`, `apply`, `status` and `down` work on the
host services alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from reconciler.app.containerd_address import (
    ChosenContainerd,
    Source,
    answering_containerd,
    choose_containerd,
    embedded_choice,
    require_answer,
)
from reconciler.app.embedded import EmbeddedContainerd
from reconciler.app.engine import Engine
from reconciler.app.fingerprint_key import fingerprint_key
from reconciler.app.journal import Journal
from reconciler.clock import Clock, SystemClock
from reconciler.controllers.driver import Driver
from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.driver import ContainerdDriver
from reconciler.drivers.containerd.images.ingest import ProgressCallback
from reconciler.drivers.containerd.images.store import ImageService
from reconciler.drivers.containerd.network.cni import Cni
from reconciler.drivers.containerd.network.manager import ProjectNetworking
from reconciler.drivers.containerd.network.records import NetworkRecords
from reconciler.drivers.host.driver import HostDriver
from reconciler.model import labels
from reconciler.model.desired import DesiredStack, ServiceMode, project_state_dirs
from reconciler.settings import Settings


@dataclass(frozen=True, kw_only=True)
class Runtime:
    drivers: Mapping[ServiceMode, Driver]
    containerd: ChosenContainerd | None  # None: none answers and the project needs none


def needs_containerd(desired: DesiredStack) -> bool:
    return any(s.mode is ServiceMode.CONTAINER and not s.disabled for s in desired.services)


async def pick_containerd(
    desired: DesiredStack, settings: Settings, *, start_embedded: bool, supervised: bool
) -> ChosenContainerd | None:
    """The containerd for this command: started if it may be and is needed; for `run`
    (`supervised`), the embedded one as it is, for its supervisor to start."""
    needed = needs_containerd(desired)
    if needed and start_embedded and not supervised:
        return await choose_containerd(settings, start_embedded=True)
    found = await answering_containerd(settings)
    if found is None and needed and supervised:
        return embedded_choice(EmbeddedContainerd.under(settings.state_dir))
    return found


@asynccontextmanager
async def open_runtime(
    desired: DesiredStack,
    settings: Settings,
    *,
    clock: Clock,
    start_embedded: bool = False,
    supervised: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AsyncIterator[Runtime]:
    """Connect to the chosen containerd (starting the embedded one if allowed and needed)
    and build the drivers for the project. A command that cannot wait for the runtime
    (not `start_embedded`, not `supervised`) fails at once, in one line, when the address
    the user gave does not answer; `apply` and `run` wait for it instead."""
    chosen = await pick_containerd(
        desired, settings, start_embedded=start_embedded, supervised=supervised
    )
    waits = start_embedded or supervised
    if chosen is not None and chosen.source is Source.GIVEN and not waits:
        await require_answer(chosen)
    drivers: dict[ServiceMode, Driver] = {
        ServiceMode.HOST: HostDriver(
            project=desired.project,
            namespace=desired.namespace,
            state_dir=desired.paths.state_dir,
            clock=clock,
        )
    }
    async with contextlib.AsyncExitStack() as stack:
        if chosen is not None:
            client = await stack.enter_async_context(
                ContainerdClient(address=chosen.address, namespace=desired.namespace)
            )
            images = ImageService(
                client, on_progress=on_progress, lease_labels={labels.PROJECT: desired.project}
            )
            drivers[ServiceMode.CONTAINER] = ContainerdDriver(
                client,
                project=desired.project,
                images=images,
                clock=clock,
                runtime_state=chosen.state,
                networking=ProjectNetworking(
                    namespace=desired.namespace,
                    project=desired.project,
                    directory=desired.paths.network,
                    others=lambda: [
                        NetworkRecords(path / "network")
                        for path in project_state_dirs(settings.state_dir)
                    ],
                    cni=Cni(clock=clock),
                    clock=clock,
                ),
            )
        yield Runtime(drivers=drivers, containerd=chosen)


@asynccontextmanager
async def open_engine(
    desired: DesiredStack,
    settings: Settings,
    *,
    clock: Clock | None = None,
    journal: Journal | None = None,
    start_embedded: bool = False,
    on_progress: ProgressCallback | None = None,
) -> AsyncIterator[Engine]:
    clock = clock or SystemClock()
    async with open_runtime(
        desired, settings, clock=clock, start_embedded=start_embedded, on_progress=on_progress
    ) as runtime:
        engine = Engine(
            desired=desired,
            drivers=runtime.drivers,
            clock=clock,
            journal=journal,
            fingerprint_key=fingerprint_key(settings.state_dir),
        )
        try:
            yield engine
        finally:
            await engine.close()
