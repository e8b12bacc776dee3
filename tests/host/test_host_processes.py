"""The host driver with real processes, checked from outside through /proc, the cgroup
filesystem and the files the services write."""

from __future__ import annotations

import asyncio
import os
import pwd
import signal
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.drivers.host.driver import KILL_SCOPE, LIMITS_UNAPPLIED, HostDriver
from reconciler.logfiles import layout
from reconciler.logfiles.keeper import PERIOD
from reconciler.logfiles.policy import policy_path, write_policy
from reconciler.model.events import UnitExited
from reconciler.model.log_limits import LogLimits
from reconciler.model.observed import Observed, ObservedTask, TaskPhase
from tests.support.host import HostStack, fingerprint_of, pids_with_marker, unit_cgroups, unit_id
from tests.support.polling import eventually
from tests.support.processes import command_line, is_running

pytestmark = pytest.mark.asyncio
GRACE = timedelta(seconds=1)


async def task(driver: HostDriver, unit: str) -> ObservedTask | None:
    observed = await driver.observe("hostp")
    assert isinstance(observed, Observed)
    found = observed.unit(unit)
    assert found is not None
    return found.task


async def running_pid(driver: HostDriver, unit: str) -> int:
    current = await task(driver, unit)
    assert current is not None
    assert current.phase is TaskPhase.RUNNING
    return current.pid


async def wait_stopped(driver: HostDriver, unit: str, within: float = 10) -> ObservedTask:
    deadline = time.monotonic() + within
    while True:
        current = await task(driver, unit)
        if current is not None and current.phase is TaskPhase.STOPPED:
            return current
        assert time.monotonic() < deadline, f"{unit} did not stop: {current}"
        await asyncio.sleep(0.05)


def proc_text(pid: int, name: str) -> str:
    return Path(f"/proc/{pid}/{name}").read_text()


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if item)


async def test_env_files_then_env_over_the_base_environment(
    stack: HostStack, marker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_HOST_LEAK", "no")
    (stack.project_dir / "one.env").write_text("A=one\nB=one\nC=one\n")
    (stack.project_dir / "two.env").write_text("B=two\nC=two\n")
    service = stack.service(
        f"SERVICE web\nRUN sleep 60\nENV_FILE ./one.env\nENV_FILE ./two.env\n"
        f"ENV C=env\nENV MARK={marker}\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)

    env = environ_of(await running_pid(driver, unit_id(service)))

    assert (env["A"], env["B"], env["C"]) == ("one", "two", "env")
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["HOME"] == pwd.getpwuid(os.geteuid()).pw_dir
    assert env["USER"] == env["LOGNAME"] == pwd.getpwuid(os.geteuid()).pw_name
    assert "RECONCILER_HOST_LEAK" not in env


async def test_workdir_is_relative_to_the_project_folder_and_defaults_to_it(
    stack: HostStack, marker: str
) -> None:
    (stack.project_dir / "sub").mkdir()
    here = stack.service(f"SERVICE web\nRUN sleep 60\nENV MARK={marker}\n")
    there = stack.service(
        f"SERVICE sub\nRUN sleep 60\nWORKDIR sub\nENV MARK={marker}\n", name="sub"
    )
    driver = stack.driver()
    for service in (here, there):
        await driver.create(service, fingerprint_of(service))
        await driver.start(service)

    web_pid, sub_pid = [await running_pid(driver, unit_id(s)) for s in (here, there)]

    assert os.readlink(f"/proc/{web_pid}/cwd") == str(stack.project_dir)
    assert os.readlink(f"/proc/{sub_pid}/cwd") == str(stack.project_dir / "sub")


@pytest.fixture
def test_user() -> Iterator[str]:
    name = f"rt{os.getpid() % 100000}"
    subprocess.run(["useradd", "--no-create-home", "--home-dir", "/nonexistent", name],
                   check=True)  # fmt: skip
    yield name
    subprocess.run(["userdel", name], check=True)


async def test_user_switches_uid_gid_and_home(
    stack: HostStack, marker: str, test_user: str
) -> None:
    entry = pwd.getpwnam(test_user)
    service = stack.service(
        f"SERVICE web\nRUN sleep 60\nUSER {test_user}\nENV MARK={marker}\nLIMIT_NPROC 50\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)

    pid = await running_pid(driver, unit_id(service))
    status = proc_text(pid, "status")

    assert f"Uid:\t{entry.pw_uid}\t{entry.pw_uid}" in status
    assert f"Gid:\t{entry.pw_gid}\t{entry.pw_gid}" in status
    assert environ_of(pid)["HOME"] == "/nonexistent"
    assert environ_of(pid)["USER"] == test_user
    await driver.remove(unit_id(service), grace=GRACE)


async def test_stdout_and_stderr_are_appended_to_their_files(stack: HostStack) -> None:
    service = stack.service(
        "SERVICE web\nRUN echo out-$N; echo err-$N >&2\nENV N=1\n"
        "STDOUT ./logs/out.txt\nSTDERR ./logs/err.txt\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    for _ in range(2):
        await driver.start(service)
        assert (await wait_stopped(driver, unit_id(service))).exit_code == 0

    assert (stack.project_dir / "logs/out.txt").read_text() == "out-1\nout-1\n"
    assert (stack.project_dir / "logs/err.txt").read_text() == "err-1\nerr-1\n"


async def test_a_sigterm_ignoring_service_and_its_escaped_children_all_die_on_stop(
    stack: HostStack, marker: str
) -> None:
    service = stack.service(
        "SERVICE web\n"
        "RUN trap '' TERM; setsid sleep 1000 & (trap '' TERM; sleep 1000 &); sleep 1000 & wait\n"
        f"ENV MARK={marker}\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)
    eventually(lambda: len(pids_with_marker(marker)) >= 4, timeout=5, what="children started")
    pids = pids_with_marker(marker)

    started = time.monotonic()
    await driver.stop(unit_id(service), grace=GRACE)
    took = time.monotonic() - started

    assert took >= GRACE.total_seconds()
    assert [pid for pid in pids if is_running(pid)] == []
    assert pids_with_marker(marker) == []
    assert await task(driver, unit_id(service)) is None
    assert unit_cgroups(stack.namespace, unit_id(service)) == []


async def test_a_stop_command_runs_with_the_main_pid(stack: HostStack, marker: str) -> None:
    service = stack.service(
        f"SERVICE web\nRUN sleep 1000\nSTOP kill -INT $MAINPID\nENV MARK={marker}\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)

    started = time.monotonic()
    await driver.stop(unit_id(service), grace=timedelta(seconds=20))

    assert time.monotonic() - started < 10
    assert pids_with_marker(marker) == []


async def test_rlimits_and_cgroup_limits_are_in_effect(stack: HostStack, marker: str) -> None:
    service = stack.service(
        f"SERVICE web\nRUN sleep 60\nENV MARK={marker}\nMEMORY 64M\nCPUS 0.5\nTASKS_MAX 20\n"
        "LIMIT_NOFILE 99\nLIMIT_NPROC 77\n"
    )
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)
    pid = await running_pid(driver, unit_id(service))

    limits = proc_text(pid, "limits")
    assert any(line.split()[-3:] == ["99", "99", "files"] for line in limits.splitlines())
    assert any(line.split()[-3:] == ["77", "77", "processes"] for line in limits.splitlines())
    groups = {line.split(":")[1]: line.split(":")[2] for line in
              proc_text(pid, "cgroup").splitlines()}  # fmt: skip
    root = Path("/sys/fs/cgroup")
    if (root / "cgroup.controllers").exists():
        directory = root / groups[""].lstrip("/")
        assert (directory / "memory.max").read_text().strip() == str(64 << 20)
        assert (directory / "cpu.max").read_text().split() == ["50000", "100000"]
        assert (directory / "pids.max").read_text().strip() == "20"
    else:
        assert (root / "memory" / groups["memory"].lstrip("/") / "memory.limit_in_bytes"
                ).read_text().strip() == str(64 << 20)  # fmt: skip
        cpu = root / "cpu" / groups["cpu"].lstrip("/")
        assert (cpu / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (cpu / "cpu.cfs_period_us").read_text().strip() == "100000"
        assert (root / "pids" / groups["pids"].lstrip("/") / "pids.max").read_text().strip() == "20"
    labels = await observed_labels(driver, unit_id(service))
    assert labels[KILL_SCOPE] == "cgroup"
    assert LIMITS_UNAPPLIED not in labels


async def observed_labels(driver: HostDriver, unit: str) -> dict[str, str]:
    observed = await driver.observe("hostp")
    assert isinstance(observed, Observed)
    found = observed.unit(unit)
    assert found is not None
    return dict(found.labels)


async def test_a_restarted_driver_adopts_the_running_process_and_learns_its_exit(
    stack: HostStack, marker: str
) -> None:
    flag = stack.project_dir / "finish"
    service = stack.service(
        f"SERVICE web\nRUN while [ ! -e {flag} ]; do sleep 0.05; done; exit 7\nENV MARK={marker}\n"
    )
    first = stack.driver()
    await first.create(service, fingerprint_of(service))
    await first.start(service)
    pid = await running_pid(first, unit_id(service))
    del first

    second = stack.driver()
    await second.create(service, fingerprint_of(service))
    await second.start(service)
    assert await running_pid(second, unit_id(service)) == pid
    shells = [p for p in pids_with_marker(marker) if command_line(p)[:1] == ["/bin/sh"]]
    assert shells == [pid]
    events = second.events()
    await anext(events)
    flag.touch()
    event = await asyncio.wait_for(anext(events), 10)
    await events.aclose()

    assert event == UnitExited(unit_id=unit_id(service), exit_code=7, exited_at=event.exited_at)
    assert (await task(second, unit_id(service))) == ObservedTask(
        phase=TaskPhase.STOPPED, pid=pid, exit_code=7, exited_at=event.exited_at
    )


async def test_a_service_outliving_its_killed_supervisor_is_adopted_and_stopped(
    stack: HostStack, marker: str
) -> None:
    service = stack.service(f"SERVICE web\nRUN sleep 1000\nENV MARK={marker}\n")
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)
    observed = await driver.observe("hostp")
    assert isinstance(observed, Observed)
    unit = observed.unit(unit_id(service))
    assert unit is not None
    assert unit.task is not None
    (supervisor,) = unit.shim_pids
    os.kill(supervisor, signal.SIGKILL)
    eventually(lambda: not is_running(supervisor), timeout=5, what="supervisor gone")

    await stack.driver().start(service)
    assert await running_pid(driver, unit_id(service)) == unit.task.pid
    await driver.stop(unit_id(service), grace=GRACE)

    assert pids_with_marker(marker) == []


async def test_a_command_that_cannot_start_is_an_error_and_a_stopped_task(
    stack: HostStack,
) -> None:
    service = stack.service("SERVICE web\nRUN /no/such/program --flag\n")
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))

    with pytest.raises(Exception, match="cannot start '/no/such/program'"):
        await driver.start(service)
    stopped = await task(driver, unit_id(service))
    assert stopped is not None
    assert (stopped.phase, stopped.exit_code) == (TaskPhase.STOPPED, 127)


async def test_the_supervisor_keeps_a_chatty_services_log_within_the_projects_limits(
    stack: HostStack,
) -> None:
    # 256 K x 2 files: a loop that writes a few MB a second rotates many times.
    write_policy(policy_path(stack.state_dir), LogLimits(max_size=256 << 10, max_files=2))
    count = 600_000
    loop = f"i=0; while [ $i -lt {count} ]; do echo $i; i=$((i+1)); done"
    service = stack.service(f"SERVICE web\nRUN sh -c '{loop}'\n")
    driver = stack.driver()
    await driver.create(service, fingerprint_of(service))
    await driver.start(service)
    largest, started = 0, time.monotonic()
    while (current := await task(driver, unit_id(service))) is None or (
        current.phase is not TaskPhase.STOPPED
    ):
        largest = max(largest, service.stdout.stat().st_size)
        await asyncio.sleep(0.01)
    rate = sum(len(str(i)) + 1 for i in range(count)) / (time.monotonic() - started)
    rotated = layout.rotated_path(service.stdout, 1)
    assert rotated.exists()
    assert not layout.rotated_path(service.stdout, 2).exists()
    assert rotated.stat().st_size <= 256 << 10
    # Past its limit by what the loop writes between two looks: one period (0.5 s) at
    # most (the supervisor looks every 0.05 s while it grows this fast).
    assert largest < (256 << 10) + rate * PERIOD, (largest, rate)
    assert stat.S_IMODE(service.stdout.stat().st_mode) == 0o600
    assert stat.S_IMODE(service.stdout.parent.stat().st_mode) == 0o700
    kept = rotated.read_bytes() + service.stdout.read_bytes()
    numbers = [int(n) for n in kept.split(b"\n")[1:-1]]
    assert numbers == list(range(numbers[0], count))
    await driver.remove(unit_id(service), grace=GRACE)
