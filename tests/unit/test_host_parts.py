"""The host driver's pure parts: RUN lines as argv, the environment, unit files, cgroup
paths and limit files, `/proc` stat parsing, exit codes."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from reconciler.drivers.host.cgroups import CgroupLayout, limit_writes, setup, unit_paths
from reconciler.drivers.host.command import command_argv, needs_shell
from reconciler.drivers.host.environment import (
    BASE_PATH,
    ProcessUser,
    build_environment,
    resolve_user,
)
from reconciler.drivers.host.procfs import ProcessIdentity, parse_stat
from reconciler.drivers.host.record import (
    LaunchSpec,
    RunState,
    UnitRecord,
    decode_record,
    decode_run,
    encode_record,
    encode_run,
    read_record,
    unit_ids,
    write_record,
)
from reconciler.drivers.host.scan import EXIT_UNKNOWN, task_of
from reconciler.drivers.host.supervisor import exit_code_of
from reconciler.errors import RuntimeFailure, ServiceConfigError
from reconciler.model.desired import ResourceLimits
from reconciler.model.observed import TaskPhase
from reconciler.model.secret import Secret

USER = ProcessUser(uid=1000, gid=1000, groups=(1000, 27), name="app", home="/home/app",
                   shell="/bin/bash")  # fmt: skip
WHEN = datetime(2026, 11, 29, 17, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    "command",
    [
        "python manage.py runserver", "sleep 60", "echo 'a b' c", "/usr/bin/env",
        'echo "a\\"b"', "sh -c 'trap \"echo x\" HUP; while :; do sleep 1; done'",
        "echo '$HOME; ls *'",
    ],
)  # fmt: skip
def test_plain_words_run_without_a_shell(command: str) -> None:
    assert not needs_shell(command)


@pytest.mark.parametrize(
    "command",
    [
        "a | b", "a && b", "a; b", "a > f", "echo $HOME", "echo `date`", "ls *.py",
        "echo ~", "FOO=1 app", "echo 'unbalanced", "cd /tmp", "exec app", "a # comment",
        'echo "$HOME"', "",
    ],
)  # fmt: skip
def test_shell_syntax_or_a_builtin_needs_a_shell(command: str) -> None:
    assert needs_shell(command)


def test_argv_splits_words_and_keeps_quoted_spaces() -> None:
    assert command_argv("echo 'a b' c") == ("echo", "a b", "c")


def test_argv_of_shell_syntax_is_sh_dash_c_with_the_whole_line() -> None:
    assert command_argv("a | b") == ("/bin/sh", "-c", "a | b")


def test_environment_is_base_then_env_files_in_order_then_env() -> None:
    env = build_environment(
        USER,
        host={"LANG": "C.UTF-8", "SECRET_OF_HOST": "x", "TZ": "UTC"},
        env_files=[{"A": Secret("file1"), "B": Secret("file1")}, {"B": Secret("file2")}],
        env={"A": Secret("env"), "PATH": Secret("/opt/bin")},
    )
    plain = {name: value.reveal() for name, value in env.items()}

    assert plain == {
        "PATH": "/opt/bin", "HOME": "/home/app", "USER": "app", "LOGNAME": "app",
        "SHELL": "/bin/bash", "LANG": "C.UTF-8", "TZ": "UTC", "A": "env", "B": "file2",
    }  # fmt: skip


def test_base_path_is_the_documented_one() -> None:
    env = build_environment(USER, host={}, env_files=[], env={})

    assert env["PATH"].reveal() == BASE_PATH


def test_a_user_needs_the_reconciler_to_be_root() -> None:
    with pytest.raises(ServiceConfigError, match=r"service .web.: USER app needs .* root"):
        resolve_user("web", "app", euid=1000)


def test_an_unknown_user_name_names_the_service() -> None:
    with pytest.raises(ServiceConfigError, match="service 'web': USER no-such-user-x"):
        resolve_user("web", "no-such-user-x", euid=0)


def test_a_numeric_uid_without_passwd_entry_is_used_as_is() -> None:
    user = resolve_user("web", "54321", euid=0)

    assert user is not None
    assert (user.uid, user.gid, user.home) == (54321, 54321, "/")


def test_no_user_means_no_switch() -> None:
    assert resolve_user("web", None, euid=1000) is None


def record() -> UnitRecord:
    return UnitRecord(
        id="demo-web",
        labels=MappingProxyType({"orch.managed-by": "reconciler", "orch.service": "web"}),
        created_at=WHEN,
        cgroups=("/sys/fs/cgroup/pids/reconciler/orch/demo-web",),
        launch=LaunchSpec(
            argv=("/bin/sh", "-c", "exec app"),
            env=MappingProxyType({"TOKEN": Secret("s3cret")}),
            workdir="/srv",
            user=USER,
            limit_nofile=1024,
            stdout="/logs/web.log",
            stderr="/logs/web.err",
            stop_command="app stop",
        ),
    )


def test_a_record_round_trips_through_its_json() -> None:
    assert decode_record(encode_record(record()), Path("x")) == record()


def test_a_record_file_is_private_and_listed_by_its_id(tmp_path: Path) -> None:
    path = tmp_path / "host" / "demo-web.json"
    write_record(path, record())

    assert read_record(path) == record()
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert unit_ids(tmp_path / "host") == ["demo-web"]
    assert list((tmp_path / "host").iterdir()) == [path]


def test_a_record_repr_does_not_show_env_values() -> None:
    assert "s3cret" not in repr(record())


def test_a_malformed_record_is_a_runtime_failure(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"format": 1, "id": "x"}')

    with pytest.raises(RuntimeFailure, match="malformed"):
        read_record(tmp_path / "x.json")


def test_a_run_round_trips_through_its_json() -> None:
    run = RunState(
        supervisor=ProcessIdentity(pid=10, start_time=5),
        process=ProcessIdentity(pid=11, start_time=6),
        started_at=WHEN,
        exit_code=3,
        exited_at=WHEN,
    )

    assert decode_run(encode_run(run), Path("x")) == run


def test_no_run_is_no_task_and_a_recorded_exit_is_stopped() -> None:
    run = RunState(
        supervisor=ProcessIdentity(pid=10, start_time=5),
        process=ProcessIdentity(pid=11, start_time=6),
        started_at=WHEN,
        exit_code=3,
        exited_at=WHEN,
    )
    task = task_of(run)

    assert task_of(None) is None
    assert task is not None
    assert (task.phase, task.pid, task.exit_code) == (TaskPhase.STOPPED, 11, 3)


def test_a_run_whose_processes_are_all_gone_unrecorded_is_stopped_with_unknown_exit() -> None:
    ghost = ProcessIdentity(pid=os.getpid(), start_time=-1)
    task = task_of(RunState(supervisor=ghost, process=ghost, started_at=WHEN))

    assert task is not None
    assert (task.phase, task.exit_code) == (TaskPhase.STOPPED, EXIT_UNKNOWN)


def test_stat_parsing_survives_a_command_name_with_spaces_and_parens() -> None:
    fields = " ".join(["S", "1", "42", "42", *["0"] * 15, "987654", "0"])
    parsed = parse_stat(42, f"42 (my (odd) cmd) {fields}")

    assert (parsed.state, parsed.ppid, parsed.pgid, parsed.session) == ("S", 1, 42, 42)
    assert parsed.start_time == 987654


def test_exit_codes_of_signals_are_128_plus_the_signal() -> None:
    assert exit_code_of(3 << 8) == 3
    assert exit_code_of(signal.SIGKILL) == 137


def test_v2_paths_are_one_directory_per_unit() -> None:
    layout = CgroupLayout(version=2, root=Path("/cg"), controllers=("memory",))

    assert unit_paths(layout, "orch", "demo-web") == {"": Path("/cg/reconciler/orch/demo-web")}


def test_v1_paths_are_one_directory_per_controller() -> None:
    layout = CgroupLayout(version=1, root=Path("/cg"), controllers=("memory", "pids"))

    assert unit_paths(layout, "orch", "demo-web") == {
        "memory": Path("/cg/memory/reconciler/orch/demo-web"),
        "pids": Path("/cg/pids/reconciler/orch/demo-web"),
    }


def test_v1_limits_are_written_to_the_controllers_files() -> None:
    limits = ResourceLimits(memory_bytes=64 << 20, cpus=1.5, tasks_max=20, io_weight=500)
    written = [(w.controller, w.files[0], w.value) for w in limit_writes(1, limits)]

    assert written == [
        ("memory", "memory.limit_in_bytes", str(64 << 20)),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "150000"),
        ("pids", "pids.max", "20"),
        ("blkio", "blkio.weight", "500"),
    ]


def test_v2_limits_are_written_to_the_unified_files() -> None:
    limits = ResourceLimits(memory_bytes=1 << 30, cpus=0.25, tasks_max=5, io_weight=50)
    written = [(w.files[0], w.value) for w in limit_writes(2, limits)]

    assert written == [
        ("memory.max", str(1 << 30)),
        ("cpu.max", "25000 100000"),
        ("pids.max", "5"),
        ("io.weight", "default 50"),
    ]


def test_the_default_io_weight_writes_nothing() -> None:
    assert limit_writes(2, ResourceLimits()) == []


def test_without_cgroups_every_requested_limit_is_reported_unapplied() -> None:
    layout = CgroupLayout(version=None, root=Path("/cg"), reason="not root")
    result = setup(layout, "orch", "demo-web", ResourceLimits(memory_bytes=1, tasks_max=2))

    assert result.paths == ()
    assert result.unapplied == ("memory: not root", "tasks-max: not root")
