"""A host unit's files under `<state dir>/host/`, each written atomically.

- `<unit id>.json`, the **record**: labels, the launch spec (argv, environment, workdir,
  user, rlimits, log files, STOP and RELOAD) and the unit's cgroups. Written only by the
  driver (create, start, annotate). It holds ENV values, so it is mode 0600 in a 0700
  directory, the same trust as containerd's own store of container specs.
- `<unit id>.run.json`, the **run**: the supervisor's and the service's identities (pid +
  start time), when it started, and, once it exited, the exit code. Written only by the
  unit's supervisor, and deleted by the driver once the process is gone and cleared.
- `<unit id>.lock`: held (flock) by the unit's supervisor for its whole life, so a
  restarted reconciler can tell that a start is already under way or running.

One writer per file means no read-modify-write races between the driver and a
supervisor. Atomic: write a temporary file, fsync, rename over, fsync the directory
(`statedir.files`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from reconciler.drivers.host.environment import ProcessUser
from reconciler.drivers.host.procfs import ProcessIdentity
from reconciler.errors import RuntimeFailure
from reconciler.model.secret import Secret
from reconciler.statedir.files import write_atomically

RECORD_SUFFIX: Final = ".json"
RUN_SUFFIX: Final = ".run.json"
LOCK_SUFFIX: Final = ".lock"
FORMAT: Final = 1


@dataclass(frozen=True, kw_only=True)
class LaunchSpec:
    argv: tuple[str, ...]
    env: Mapping[str, Secret]
    workdir: str
    user: ProcessUser | None
    limit_nofile: int | None = None
    limit_nproc: int | None = None
    stdout: str
    stderr: str
    stop_command: str | None = None
    reload_command: str | None = None
    # The project's log limits file (`reconciler.logfiles.policy`); None: the defaults.
    log_policy: str | None = None


@dataclass(frozen=True, kw_only=True)
class UnitRecord:
    id: str
    labels: Mapping[str, str]
    created_at: datetime
    launch: LaunchSpec
    cgroups: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunState:
    supervisor: ProcessIdentity
    process: ProcessIdentity | None
    started_at: datetime
    exit_code: int | None = None
    exited_at: datetime | None = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class UnitFiles:
    """The paths of one unit's files."""

    directory: Path
    unit_id: str

    @property
    def record(self) -> Path:
        return self.directory / f"{self.unit_id}{RECORD_SUFFIX}"

    @property
    def run(self) -> Path:
        return self.directory / f"{self.unit_id}{RUN_SUFFIX}"

    @property
    def lock(self) -> Path:
        return self.directory / f"{self.unit_id}{LOCK_SUFFIX}"


def unit_ids(directory: Path) -> list[str]:
    """Ids of the records in `directory`; a missing directory has none."""
    try:
        names = sorted(entry.name for entry in directory.iterdir())
    except FileNotFoundError:
        return []
    return [
        name.removesuffix(RECORD_SUFFIX)
        for name in names
        if name.endswith(RECORD_SUFFIX) and not name.endswith(RUN_SUFFIX) and name[0] != "."
    ]


def run_ids(directory: Path) -> list[str]:
    try:
        names = sorted(entry.name for entry in directory.iterdir())
    except FileNotFoundError:
        return []
    return [n.removesuffix(RUN_SUFFIX) for n in names if n.endswith(RUN_SUFFIX) and n[0] != "."]


def _read(path: Path) -> dict[str, Any] | None:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RuntimeFailure(f"host unit file {path} is not valid JSON: {error.msg}") from error
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise RuntimeFailure(f"host unit file {path} has an unknown format")
    return document


def read_record(path: Path) -> UnitRecord | None:
    document = _read(path)
    return None if document is None else decode_record(document, path)


def read_run(path: Path) -> RunState | None:
    document = _read(path)
    return None if document is None else decode_run(document, path)


def write_record(path: Path, record: UnitRecord) -> None:
    write_atomically(path, _encoded(encode_record(record)))


def write_run(path: Path, run: RunState) -> None:
    write_atomically(path, _encoded(encode_run(run)))


def _encoded(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


def encode_record(record: UnitRecord) -> dict[str, Any]:
    launch = record.launch
    user = launch.user
    return {
        "format": FORMAT,
        "id": record.id,
        "labels": dict(record.labels),
        "created_at": record.created_at.isoformat(),
        "cgroups": list(record.cgroups),
        "launch": {
            "argv": list(launch.argv),
            "env": {name: value.reveal() for name, value in launch.env.items()},
            "workdir": launch.workdir,
            "user": None
            if user is None
            else {
                "uid": user.uid,
                "gid": user.gid,
                "groups": list(user.groups),
                "name": user.name,
                "home": user.home,
                "shell": user.shell,
            },
            "limit_nofile": launch.limit_nofile,
            "limit_nproc": launch.limit_nproc,
            "stdout": launch.stdout,
            "stderr": launch.stderr,
            "stop_command": launch.stop_command,
            "reload_command": launch.reload_command,
            "log_policy": launch.log_policy,
        },
    }


def decode_record(document: Mapping[str, Any], path: Path) -> UnitRecord:
    try:
        launch = document["launch"]
        user = launch["user"]
        return UnitRecord(
            id=str(document["id"]),
            labels=MappingProxyType({str(k): str(v) for k, v in document["labels"].items()}),
            created_at=datetime.fromisoformat(document["created_at"]),
            cgroups=tuple(str(p) for p in document["cgroups"]),
            launch=LaunchSpec(
                argv=tuple(str(word) for word in launch["argv"]),
                env=MappingProxyType({str(k): Secret(str(v)) for k, v in launch["env"].items()}),
                workdir=str(launch["workdir"]),
                user=None
                if user is None
                else ProcessUser(
                    uid=int(user["uid"]),
                    gid=int(user["gid"]),
                    groups=tuple(int(g) for g in user["groups"]),
                    name=str(user["name"]),
                    home=str(user["home"]),
                    shell=str(user["shell"]),
                ),
                limit_nofile=launch["limit_nofile"],
                limit_nproc=launch["limit_nproc"],
                stdout=str(launch["stdout"]),
                stderr=str(launch["stderr"]),
                stop_command=launch["stop_command"],
                reload_command=launch["reload_command"],
                log_policy=launch.get("log_policy"),
            ),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise RuntimeFailure(f"host unit record {path} is malformed ({error!r})") from error


def _identity(value: Mapping[str, Any] | None) -> ProcessIdentity | None:
    if value is None:
        return None
    return ProcessIdentity(pid=int(value["pid"]), start_time=int(value["start_time"]))


def _identity_json(value: ProcessIdentity | None) -> dict[str, int] | None:
    return None if value is None else {"pid": value.pid, "start_time": value.start_time}


def encode_run(run: RunState) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "supervisor": _identity_json(run.supervisor),
        "process": _identity_json(run.process),
        "started_at": run.started_at.isoformat(),
        "exit_code": run.exit_code,
        "exited_at": None if run.exited_at is None else run.exited_at.isoformat(),
        "error": run.error,
    }


def decode_run(document: Mapping[str, Any], path: Path) -> RunState:
    try:
        supervisor = _identity(document["supervisor"])
        if supervisor is None:
            raise ValueError("no supervisor")
        exited_at = document["exited_at"]
        exit_code = document["exit_code"]
        return RunState(
            supervisor=supervisor,
            process=_identity(document["process"]),
            started_at=datetime.fromisoformat(document["started_at"]),
            exit_code=None if exit_code is None else int(exit_code),
            exited_at=None if exited_at is None else datetime.fromisoformat(exited_at),
            error=document["error"],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise RuntimeFailure(f"host unit run file {path} is malformed ({error!r})") from error
