"""Tasks service: the running processes of containers (init and execs).

Quirks handled here (docs/containerd.md, "The calls the code makes"):
``Process.container_id`` is empty in Get/List, so ``Task.id`` comes from ``Process.id``;
``Tasks.List`` ignores its filter, so ``list`` returns the whole namespace; ``Wait``
blocks until exit and therefore has no deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ctdpb.api.services.tasks.v1 import tasks_pb2, tasks_pb2_grpc
from google.protobuf import any_pb2

from reconciler.drivers.containerd import convert
from reconciler.drivers.containerd.connection import Connection
from reconciler.drivers.containerd.types import (
    ExitStatus,
    Mount,
    RuncOptions,
    Task,
    TaskIO,
    TaskStatus,
)


def _from_process(message: Any) -> Task:
    return Task(
        id=message.id,
        pid=message.pid,
        status=TaskStatus(message.status),
        exit_status=message.exit_status,
        exited_at=convert.from_timestamp(message.exited_at),
    )


class Tasks:
    def __init__(self, connection: Connection) -> None:
        self._conn = connection
        self._stub = tasks_pb2_grpc.TasksStub(connection.channel)

    async def create(
        self,
        container_id: str,
        *,
        rootfs: Sequence[Mount],
        io: TaskIO,
        options: RuncOptions | None = None,
    ) -> int:
        """Create the task (status CREATED); returns its pid."""
        request = tasks_pb2.CreateTaskRequest(
            container_id=container_id,
            rootfs=convert.to_mounts(rootfs),
            stdin=io.stdin,
            stdout=io.stdout,
            stderr=io.stderr,
            terminal=False,
        )
        if options is not None:
            request.options.CopyFrom(convert.runc_options_any(options))
        response = await self._conn.unary("Tasks.Create", self._stub.Create, request)
        return int(response.pid)

    async def start(self, container_id: str, *, exec_id: str = "") -> int:
        """Start the task (or exec ``exec_id``); returns its pid."""
        response = await self._conn.unary(
            "Tasks.Start",
            self._stub.Start,
            tasks_pb2.StartRequest(container_id=container_id, exec_id=exec_id),
        )
        return int(response.pid)

    async def get(self, container_id: str, *, exec_id: str = "") -> Task:
        response = await self._conn.unary(
            "Tasks.Get",
            self._stub.Get,
            tasks_pb2.GetRequest(container_id=container_id, exec_id=exec_id),
        )
        return _from_process(response.process)

    async def list(self) -> list[Task]:
        """Every task of the namespace (the daemon ignores the request's filter)."""
        response = await self._conn.unary(
            "Tasks.List", self._stub.List, tasks_pb2.ListTasksRequest()
        )
        return [_from_process(process) for process in response.tasks]

    async def kill(
        self, container_id: str, signal: int, *, exec_id: str = "", all_processes: bool = False
    ) -> None:
        """Send ``signal``; ``all_processes`` signals every process in the task's cgroup."""
        await self._conn.unary(
            "Tasks.Kill",
            self._stub.Kill,
            tasks_pb2.KillRequest(
                container_id=container_id, exec_id=exec_id, signal=signal, all=all_processes
            ),
        )

    async def wait(self, container_id: str, *, exec_id: str = "") -> ExitStatus:
        """Block until the process exits (returns at once if it already has)."""
        response = await self._conn.unary(
            "Tasks.Wait",
            self._stub.Wait,
            tasks_pb2.WaitRequest(container_id=container_id, exec_id=exec_id),
            deadline=False,
        )
        return ExitStatus(
            exit_status=response.exit_status,
            exited_at=convert.from_timestamp(response.exited_at),
        )

    async def delete(self, container_id: str) -> ExitStatus:
        """Delete a stopped task; the shim exits and the rootfs is unmounted."""
        response = await self._conn.unary(
            "Tasks.Delete",
            self._stub.Delete,
            tasks_pb2.DeleteTaskRequest(container_id=container_id),
        )
        return _exit_of_delete(response)

    async def exec(
        self, container_id: str, exec_id: str, *, process_spec: bytes, io: TaskIO
    ) -> None:
        """Add exec ``exec_id``; ``process_spec`` is an OCI ``process`` object as JSON."""
        await self._conn.unary(
            "Tasks.Exec",
            self._stub.Exec,
            tasks_pb2.ExecProcessRequest(
                container_id=container_id,
                exec_id=exec_id,
                stdin=io.stdin,
                stdout=io.stdout,
                stderr=io.stderr,
                terminal=False,
                spec=any_pb2.Any(type_url=convert.PROCESS_SPEC_TYPE_URL, value=process_spec),
            ),
        )

    async def delete_process(self, container_id: str, exec_id: str) -> ExitStatus:
        response = await self._conn.unary(
            "Tasks.DeleteProcess",
            self._stub.DeleteProcess,
            tasks_pb2.DeleteProcessRequest(container_id=container_id, exec_id=exec_id),
        )
        return _exit_of_delete(response)


def _exit_of_delete(response: Any) -> ExitStatus:
    return ExitStatus(
        exit_status=response.exit_status,
        exited_at=convert.from_timestamp(response.exited_at),
        pid=response.pid,
    )
