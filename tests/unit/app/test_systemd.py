"""`run` under systemd: what it reads from the environment, the messages it formats,
when it sends them (in virtual time), and the datagrams that reach a socket."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.app.engine import PassResult
from reconciler.app.runner import PassDone
from reconciler.app.systemd.notify import (
    Notifier,
    Supervision,
    message,
    ping_interval,
    socket_address,
    take_supervision,
    watchdog_of,
)
from reconciler.app.systemd.readiness import Readiness, status_line
from reconciler.clock import VIRTUAL_EPOCH, VirtualClock
from reconciler.controllers.plan import Plan
from reconciler.model.desired import ServiceMode
from reconciler.model.observed import Observed
from reconciler.model.status import (
    DesiredState,
    RejectedSave,
    RuntimeReach,
    ServiceState,
    ServiceStatus,
)
from tests.support.desired import stack

PID = 4242


def states(*states: ServiceState, containerd: bool = True, rejected: bool = False) -> PassDone:
    statuses = tuple(
        ServiceStatus(
            name=f"s{n}", mode=ServiceMode.CONTAINER, desired=DesiredState.RUNNING, state=state
        )
        for n, state in enumerate(states)
    )
    observed = Observed(namespace="orch", project="demo", observed_at=VIRTUAL_EPOCH)
    return PassDone(
        result=PassResult(
            observed=observed, plan=Plan(actions=(), statuses=statuses, requeue_at={})
        ),
        at=VIRTUAL_EPOCH,
        duration=timedelta(seconds=0.01),
        desired=stack(),
        rejected=RejectedSave(at=VIRTUAL_EPOCH, error="x", held=True) if rejected else None,
        runtimes=(RuntimeReach(mode=ServiceMode.CONTAINER, reachable=containerd),),
    )


# -- the environment ---------------------------------------------------------------------


def test_what_systemd_said_is_read_and_taken_out_of_the_environment() -> None:
    environ = {
        "NOTIFY_SOCKET": "/run/systemd/notify",
        "WATCHDOG_USEC": "30000000",
        "WATCHDOG_PID": str(PID),
        "PATH": "/usr/bin",
    }

    told = take_supervision(environ, pid=PID)

    assert told == Supervision(socket="/run/systemd/notify", watchdog=timedelta(seconds=30))
    assert environ == {"PATH": "/usr/bin"}  # the embedded containerd must not see them


def test_outside_systemd_nothing_is_told() -> None:
    assert take_supervision({}, pid=PID) == Supervision(socket=None, watchdog=None)


@pytest.mark.parametrize(
    ("usec", "watchdog_pid", "expected"),
    [
        ("30000000", "", timedelta(seconds=30)),  # no WATCHDOG_PID: ours
        ("30000000", str(PID), timedelta(seconds=30)),
        ("30000000", "1", None),  # another process's watchdog
        ("", "", None),
        ("0", "", None),
        ("soon", "", None),
        ("-5", "", None),
    ],
)
def test_the_watchdog_is_ours_only_when_its_pid_is_unset_or_ours(
    usec: str, watchdog_pid: str, expected: timedelta | None
) -> None:
    assert watchdog_of(usec, watchdog_pid, pid=PID) == expected


def test_pings_come_at_half_the_watchdog_interval() -> None:
    assert ping_interval(timedelta(seconds=30)) == timedelta(seconds=15)


# -- the messages ------------------------------------------------------------------------


def test_a_message_is_name_value_lines_in_order_each_value_on_one_line() -> None:
    assert message(READY="1", STATUS="2 services: 2 running") == (
        b"READY=1\nSTATUS=2 services: 2 running"
    )
    assert message(STATUS="web failed:\n  exit 3") == b"STATUS=web failed: exit 3"


@pytest.mark.parametrize(
    ("done", "line"),
    [
        (
            states(ServiceState.RUNNING, ServiceState.FAILED, *[ServiceState.RUNNING] * 2),
            "4 services: 3 running, 1 failed",
        ),
        (states(ServiceState.RUNNING), "1 service: 1 running"),
        (states(), "0 services"),
        (
            states(ServiceState.PENDING, ServiceState.PENDING, containerd=False),
            "2 services: 2 pending; containerd unreachable",
        ),
        (states(ServiceState.RUNNING, rejected=True), "1 service: 1 running; a save is held"),
    ],
)
def test_the_status_is_one_line_of_counts_by_state_then_what_is_wrong(
    done: PassDone, line: str
) -> None:
    assert status_line(done) == line


# -- when they are sent ------------------------------------------------------------------


class Sent(list[str]):
    def __call__(self, data: bytes) -> None:
        self.append(data.decode())


def test_ready_comes_with_the_first_pass_then_status_only_when_it_changes() -> None:
    sent = Sent()
    readiness = Readiness(sent, clock=VirtualClock())

    readiness.pass_done(states(ServiceState.PENDING))
    readiness.pass_done(states(ServiceState.PENDING))
    readiness.pass_done(states(ServiceState.RUNNING))
    readiness.pass_done(states(ServiceState.RUNNING))
    readiness.stopping()
    readiness.pass_done(states(ServiceState.FAILED))  # the pass of `down` says nothing more

    assert sent == [
        "READY=1\nSTATUS=1 service: 1 pending",
        "STATUS=1 service: 1 running",
        "STOPPING=1\nSTATUS=stopping",
    ]


@pytest.mark.asyncio
async def test_the_watchdog_is_pinged_at_half_its_interval_until_cancelled() -> None:
    clock = VirtualClock()
    sent = Sent()
    readiness = Readiness(sent, clock=clock, watchdog=timedelta(seconds=30))
    pings = asyncio.ensure_future(readiness.watchdog())
    try:
        await clock.advance(0)
        assert sent == ["WATCHDOG=1"]
        await clock.advance(14.9)
        assert len(sent) == 1
        await clock.advance(0.1)
        assert len(sent) == 2
        await clock.advance(45)
        assert sent == ["WATCHDOG=1"] * 5
    finally:
        pings.cancel()
        await asyncio.gather(pings, return_exceptions=True)


@pytest.mark.asyncio
async def test_without_a_watchdog_nothing_is_pinged() -> None:
    sent = Sent()
    await Readiness(sent, clock=VirtualClock()).watchdog()
    assert sent == []


# -- the socket --------------------------------------------------------------------------


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[socket.socket]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(tmp_path / "notify"))
        sock.settimeout(5)
        yield sock


def test_a_message_reaches_a_socket_at_a_path(listening: socket.socket) -> None:
    Notifier(listening.getsockname()).send(b"READY=1")
    assert listening.recv(4096) == b"READY=1"


def test_a_message_reaches_an_abstract_socket_named_with_an_at() -> None:
    name = f"reconciler-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        Notifier("@" + name).send(b"WATCHDOG=1")
        assert sock.recv(4096) == b"WATCHDOG=1"


def test_a_socket_that_is_gone_is_said_once_and_never_raises(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier(str(tmp_path / "nobody"))
    notifier.send(b"READY=1")
    notifier.send(b"WATCHDOG=1")
    assert len([m for m in caplog.messages if "cannot notify systemd" in m]) == 1


def test_only_unix_sockets_are_spoken_to() -> None:
    assert socket_address("@name") == "\0name"
    assert socket_address("/run/systemd/notify") == "/run/systemd/notify"
    assert socket_address("vsock:2:1234") is None
