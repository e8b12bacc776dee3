"""Each service's inputs for a pass: what its fingerprint is made from, or why not.

A service's configuration digest covers more than its Orchfile entry: the image digest
its reference resolves to and the contents of its ENV_FILEs, which only its driver can
read. Gathering asks every driver at once and turns each answer into the planner's
`Inputs`: a fingerprint, a missing image, or a problem that says whether it is worth
retrying. The ENV_FILE values read are kept, because they are secrets every error text
must be redacted of, like the ENV values of the Orchfile itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from reconciler.controllers.driver import Driver
from reconciler.controllers.fingerprint import fingerprint
from reconciler.controllers.plan import Inputs, ServiceProblem
from reconciler.errors import ReconcilerError, Retryable
from reconciler.model.desired import (
    DesiredService,
    DesiredStack,
    ServiceMode,
    ServiceName,
    image_text,
)
from reconciler.model.inputs import ImageMissing
from reconciler.model.observed import Observed
from reconciler.model.secret import Secret, redact


class InputGatherer:
    """Gathers inputs from the drivers; remembers the ENV_FILE values last read."""

    def __init__(self, *, drivers: Mapping[ServiceMode, Driver], fingerprint_key: bytes) -> None:
        self._drivers = drivers
        self._fingerprint_key = fingerprint_key
        self._env_file_values: dict[ServiceName, tuple[Secret, ...]] = {}

    def secrets(self, desired: DesiredStack) -> list[Secret]:
        """Every value an error could quote: the ENV of each service, and the ENV_FILE
        contents last read."""
        found = [value for s in desired.services for value in s.env.values()]
        found += [value for values in self._env_file_values.values() for value in values]
        return found

    async def gather(
        self, desired: DesiredStack, observed: Observed, *, fetch: bool, look_up: bool = False
    ) -> dict[ServiceName, Inputs]:
        """Each service's inputs. With `look_up` (for `plan`), a runtime that is not
        running yet counts as empty: `apply` would start it and fetch every image."""

        async def one(service: DesiredService) -> tuple[ServiceName, Inputs]:
            if service.disabled:
                return service.name, ServiceProblem(message="disabled")
            driver = self._drivers.get(service.mode)
            if driver is None and look_up:
                return service.name, ImageMissing(reference=image_text(service.image) or "")
            if driver is None:
                # Only containerd can be missing: no daemon answered when this started.
                problem = "no containerd is running (`reconciler run` or `apply` starts one)"
                return service.name, ServiceProblem(message=problem, retryable=True)
            if service.mode in observed.unreachable:
                return service.name, ServiceProblem(message="unreachable", retryable=True)
            try:
                gathered = await driver.inputs(service, fetch=fetch, look_up=look_up)
            except ReconcilerError as error:
                retryable = isinstance(error, Retryable)
                message = redact(str(error), self.secrets(desired))
                return service.name, ServiceProblem(message=message, retryable=retryable)
            if isinstance(gathered, ImageMissing):
                return service.name, gathered
            self._env_file_values[service.name] = tuple(
                value for content in gathered.env_files for value in content.values()
            )
            return service.name, fingerprint(
                service,
                image_digest=gathered.image_digest,
                env_files=gathered.env_files,
                key=self._fingerprint_key,
            )

        pairs = await asyncio.gather(*(one(s) for s in desired.services))
        return dict(pairs)
