"""Pure conversions at the client boundary: event payloads, lease expiry, addresses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from ctdpb.api.events import task_pb2

from reconciler.drivers.containerd.connection import grpc_target
from reconciler.drivers.containerd.events import OtherEvent, TaskExit, decode_payload
from reconciler.drivers.containerd.services.leases import expire_label


def test_a_task_exit_payload_is_decoded_by_its_slashless_type_name() -> None:
    message = task_pb2.TaskExit(container_id="web", id="web", pid=42, exit_status=137)
    message.exited_at.FromDatetime(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))
    payload = decode_payload("containerd.events.TaskExit", message.SerializeToString())
    assert payload == TaskExit(
        container_id="web",
        id="web",
        pid=42,
        exit_status=137,
        exited_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


def test_an_unknown_payload_type_is_kept_by_name_only() -> None:
    assert decode_payload("containerd.events.TaskCheckpointed", b"") == OtherEvent(
        type_url="containerd.events.TaskCheckpointed"
    )


def test_lease_expiry_is_rfc3339_in_utc() -> None:
    moment = datetime(2024, 5, 1, 14, 30, 5, tzinfo=timezone(timedelta(hours=2)))
    assert expire_label(moment) == "2024-05-01T12:30:05Z"


def test_lease_expiry_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        expire_label(datetime(2024, 5, 1))


@pytest.mark.parametrize("address", ["/run/c.sock", "unix:/run/c.sock", "unix:///run/c.sock"])
def test_socket_addresses_become_absolute_unix_targets(address: str) -> None:
    assert grpc_target(address) == "unix:///run/c.sock"


def test_a_relative_socket_path_is_refused() -> None:
    with pytest.raises(ValueError, match="absolute"):
        grpc_target("unix://run/c.sock")
