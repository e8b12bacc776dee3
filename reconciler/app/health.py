"""Health checks: one probe loop per running service with a HEALTHCHECK.

Why this exists: REQUIRES gating, `apply --wait` and `status` need to know whether a
service is healthy, and a person needs to know why not (`HTTP 404 from ...`, `connection
refused`, `exit code 1`). Each check gives a typed `ProbeResult`; the loop turns results
into the service's `Health` and publishes a `HealthChanged` entry when it changes.

Timing: every `INTERVAL_STARTING` until the first pass, then every `INTERVAL_HEALTHY`;
a service that has not passed within READINESS_TIMEOUT is `unhealthy`. One that passed
and then fails LIVENESS_FAILURES checks in a row is `unhealthy` too, and that is a
liveness failure: the planner restarts it through its restart policy (like a kubelet's
liveness probe). All waits go through the injected clock.

A URL or tcp check of a loopback host, for a container on the project network, is made
from inside the container's network namespace (as a kubelet probes its pod): the
container's own `127.0.0.1`, whatever address it listens on. Other hosts are probed from
the host, as written.

A URL check never goes through a proxy, whatever HTTP_PROXY, HTTPS_PROXY or ALL_PROXY
say (httpx with `trust_env=False`; a kubelet's probes ignore them too): a proxy is
somewhere else on the network and cannot reach a container's loopback or its address on
the project network, and a check of the proxy would say nothing about the service.
Certificates are checked against the system's CA store (reconciler/system_trust.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from reconciler.clock import Clock
from reconciler.connection_errors import why_connection_failed
from reconciler.controllers.driver import Driver
from reconciler.controllers.knowledge import LIVENESS_FAILURES, ServiceKnowledge
from reconciler.drivers.containerd.network import netns
from reconciler.errors import ReconcilerError
from reconciler.model import labels
from reconciler.model.desired import (
    CommandCheck,
    DesiredService,
    DesiredStack,
    HttpCheck,
    ServiceMode,
    ServiceName,
    TcpCheck,
)
from reconciler.model.journal import HealthChanged
from reconciler.model.observed import Observed, TaskPhase
from reconciler.model.status import Health, ProbeResult
from reconciler.system_trust import system_trust

INTERVAL_STARTING: Final = 0.5
INTERVAL_HEALTHY: Final = 5.0
PROBE_TIMEOUT: Final = timedelta(seconds=5)
MAX_REDIRECTS: Final = 10

Publish = Callable[[HealthChanged], None]
Update = Callable[..., None]


class Prober:
    """Runs the probe loops; reads and updates health through the engine's knowledge."""

    def __init__(
        self,
        *,
        drivers: Mapping[ServiceMode, Driver],
        clock: Clock,
        knowledge: Callable[[ServiceName], ServiceKnowledge],
        update: Update,
        publish: Publish,
        on_change: Callable[[], None],
    ) -> None:
        self._drivers = drivers
        self._clock = clock
        self._knowledge = knowledge
        self._update = update
        self._publish = publish
        self._on_change = on_change
        self._loops: dict[ServiceName, asyncio.Task[None]] = {}

    async def check_unknown(self, desired: DesiredStack, observed: Observed) -> None:
        """Probe once every running service with a HEALTHCHECK whose health this process
        has not seen yet (a fresh `status`, `plan` or `apply` of a running stack); one
        started within its READINESS_TIMEOUT that fails is `starting`, not `unhealthy`.
        Services a probe loop follows are left to it."""
        unknown = [
            service
            for service in desired.services
            if service.healthcheck is not None
            and service.name not in self._loops
            and self._knowledge(service.name).probe is None
            and _running(observed, service.name)
        ]

        async def check(service: DesiredService) -> None:
            result = await self.probe(desired.project, service)
            started = _started_at(observed, service.name)
            young = started is not None and result.at - started < service.readiness_timeout
            if result.healthy:
                health = Health.HEALTHY
            else:
                health = Health.STARTING if young else Health.UNHEALTHY
            self._update(service.name, health=health, probe=result)

        await asyncio.gather(*(check(s) for s in unknown))

    def follow(self, desired: DesiredStack, observed: Observed) -> None:
        """Start a loop for every running service with a HEALTHCHECK, stop the others."""
        for service in desired.services:
            wanted = service.healthcheck is not None and _running(observed, service.name)
            loop = self._loops.get(service.name)
            if wanted and (loop is None or loop.done()):
                self._loops[service.name] = asyncio.create_task(
                    self._loop(desired.project, service), name=f"probe {service.name}"
                )
            elif not wanted and loop is not None:
                loop.cancel()
                del self._loops[service.name]
        for name in set(self._loops) - {s.name for s in desired.services}:
            self._loops.pop(name).cancel()

    def forget(self, name: ServiceName) -> None:
        """The service was (re)started: its next checks start from `starting`."""
        loop = self._loops.pop(name, None)
        if loop is not None:
            loop.cancel()

    async def close(self) -> None:
        loops = list(self._loops.values())
        self._loops.clear()
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)

    async def _loop(self, project: str, service: DesiredService) -> None:
        started = self._clock.monotonic()
        limit = service.readiness_timeout.total_seconds()
        while True:
            result = await self.probe(project, service)
            known = self._knowledge(service.name)
            outgrown = self._clock.monotonic() - started > limit
            judged = judge(known, result, outgrown_readiness=outgrown)
            self._update(
                service.name,
                probe=result,
                health=judged.health,
                healthy_once=judged.healthy_once,
                failed_checks=judged.failed_checks,
                unhealthy_since=judged.unhealthy_since,
            )
            health = judged.health
            if health is not known.health:
                self._publish(
                    HealthChanged(
                        at=result.at, service=service.name, health=health, detail=result.detail
                    )
                )
                self._on_change()
            # Once healthy, checks keep their period while they fail: a blip is not a
            # crash, and LIVENESS_FAILURES of them take LIVENESS_FAILURES periods.
            interval = INTERVAL_HEALTHY if judged.healthy_once else INTERVAL_STARTING
            await self._clock.sleep(interval)

    async def probe(self, project: str, service: DesiredService) -> ProbeResult:
        healthy, detail = await self._check(project, service)
        return ProbeResult(healthy=healthy, detail=detail, at=self._clock.now())

    async def _check(self, project: str, service: DesiredService) -> tuple[bool, str]:
        limit = PROBE_TIMEOUT.total_seconds()
        unit_id = labels.container_id(project, service.name)
        match service.healthcheck:
            case HttpCheck(url=url):
                inside = self._inside(service, unit_id, urlsplit(url).hostname)
                return await asyncio.to_thread(http_check, url, limit, inside)
            case TcpCheck(host=host, port=port, url=url):
                inside = self._inside(service, unit_id, host)
                if inside is not None:
                    return await asyncio.to_thread(tcp_check, host, port, url, limit, inside)
                return await self._connect(host, port, url, limit)
            case CommandCheck(command=command):
                try:
                    code = await self._drivers[service.mode].check(
                        unit_id, command, limit=PROBE_TIMEOUT
                    )
                except ReconcilerError as error:
                    return False, f"`{command}` could not run: {error}"
                if code is None:
                    return False, f"`{command}` timed out after {limit:g}s"
                return code == 0, f"exit code {code} from `{command}`"
            case None:
                return True, "no health check"

    def _inside(self, service: DesiredService, unit_id: str, host: str | None) -> Path | None:
        """The network namespace a check of `host` is made from: the container's own for
        a loopback host of a container on the project network, else the host's (None)."""
        driver = self._drivers.get(service.mode)
        if driver is None or not service.on_project_network or not _loopback(host):
            return None
        return driver.network_namespace(unit_id)

    async def _connect(self, host: str, port: int, url: str, limit: float) -> tuple[bool, str]:
        try:
            _, writer = await self._clock.wait_for(asyncio.open_connection(host, port), limit)
        except TimeoutError:
            return False, f"timed out after {limit:g}s ({url})"
        except OSError as error:
            return False, f"{why_connection_failed(error)} ({url})"
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return True, f"connected to {url}"


def judge(
    known: ServiceKnowledge, result: ProbeResult, *, outgrown_readiness: bool
) -> ServiceKnowledge:
    """The knowledge a probe loop's check gives: health, and the liveness count. A
    service that has passed a check stays `healthy` through failures until
    LIVENESS_FAILURES in a row make it `unhealthy` (when `unhealthy_since` is set, and its
    restart policy acts); one that never passed is `starting` until its
    READINESS_TIMEOUT, then `unhealthy`."""
    if result.healthy:
        return replace(
            known,
            probe=result,
            health=Health.HEALTHY,
            healthy_once=True,
            failed_checks=0,
            unhealthy_since=None,
        )
    failed = known.failed_checks + 1
    if known.healthy_once:
        dead = failed >= LIVENESS_FAILURES
        return replace(
            known,
            probe=result,
            health=Health.UNHEALTHY if dead else Health.HEALTHY,
            failed_checks=failed,
            unhealthy_since=(known.unhealthy_since or result.at) if dead else None,
        )
    return replace(
        known,
        probe=result,
        health=Health.UNHEALTHY if outgrown_readiness else Health.STARTING,
        failed_checks=failed,
    )


def http_check(url: str, timeout: float, inside: Path | None = None) -> tuple[bool, str]:
    """GET `url` (from the network namespace `inside`, when given: a worker thread's job):
    healthy on a 2xx answer, redirects followed; the detail names the status or the
    failure. The body is never read."""
    # Here, not at the top: only a check of a URL needs httpx, and `plan` or `status` of
    # a stack without one does not load it.
    import httpx

    # The client is made and closed inside the namespace: its sockets belong to the one
    # they were created in. trust_env=False: no proxy (the module's docstring says why).
    try:
        with (
            _entered(inside),
            httpx.Client(
                trust_env=False,
                verify=system_trust(),
                timeout=timeout,
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
            ) as client,
            client.stream("GET", url) as response,
        ):
            status = response.status_code
    except httpx.TimeoutException:
        return False, f"timed out after {timeout:g}s ({url})"
    except httpx.TooManyRedirects:
        return False, f"more than {MAX_REDIRECTS} redirects ({url})"
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as error:
        return False, f"{why_connection_failed(error)} ({url})"
    return 200 <= status < 300, f"HTTP {status} from {url}"


def tcp_check(host: str, port: int, url: str, timeout: float, inside: Path) -> tuple[bool, str]:
    """Connect to `host:port` from the network namespace `inside` (a worker thread's job)."""
    try:
        with _entered(inside):
            connection = socket.create_connection((host, port), timeout=timeout)
    except TimeoutError:
        return False, f"timed out after {timeout:g}s ({url})"
    except OSError as error:
        return False, f"{why_connection_failed(error)} ({url})"
    connection.close()
    return True, f"connected to {url}"


def _entered(inside: Path | None) -> contextlib.AbstractContextManager[None]:
    return netns.entered(inside) if inside is not None else contextlib.nullcontext()


def _loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _started_at(observed: Observed, name: str) -> datetime | None:
    """When the service's process was started, from its unit's bookkeeping label."""
    for unit in observed.of_service(name):
        text = unit.labels.get(labels.STARTED_AT)
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(text) if text else unit.created_at
    return None


def _running(observed: Observed, name: str) -> bool:
    return any(
        u.task is not None and u.task.phase is TaskPhase.RUNNING for u in observed.of_service(name)
    )
