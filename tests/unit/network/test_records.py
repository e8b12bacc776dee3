"""What is written down of a project network: its subnet and each attachment."""

from __future__ import annotations

import ipaddress
from pathlib import Path

from reconciler.drivers.containerd.network.records import Attachment, NetworkRecords

RESULT = {
    "cniVersion": "1.0.0",
    "interfaces": [
        {"name": "orch-4793dea281", "mac": "2a:19:a1:f3:a5:30"},
        {"name": "vethe560aa70", "mac": "ae:b7:d9:5a:f2:7c"},
        {"name": "eth0", "mac": "6a:15:07:ba:78:6e", "sandbox": "/run/netns/orch-t--p-web"},
    ],
    "ips": [{"interface": 2, "address": "10.89.7.2/24", "gateway": "10.89.7.1"}],
}
CONFLIST = {
    "cniVersion": "1.0.0",
    "name": "orch-t-p",
    "plugins": [{"type": "bridge", "bridge": "orch-4793dea281"}],
}


def attachment(result: dict[str, object] | None = RESULT) -> Attachment:
    return Attachment(
        container_id="p-web",
        service="web",
        netns="orch-t--p-web",
        ifname="eth0",
        conflist=CONFLIST,
        runtime_config={},
        result=result,
    )


def test_the_address_and_the_host_side_veth_come_from_adds_result() -> None:
    attached = attachment()
    assert attached.address == ipaddress.IPv4Address("10.89.7.2")
    assert attached.bridge == "orch-4793dea281"
    assert attached.host_interfaces == ("vethe560aa70",)


def test_before_add_there_is_no_address() -> None:
    assert attachment(result=None).address is None
    assert attachment(result=None).host_interfaces == ()


def test_records_round_trip_and_are_forgotten(tmp_path: Path) -> None:
    records = NetworkRecords(tmp_path / "network")
    assert records.attachments() == []
    records.save(attachment())
    assert records.attachment("p-web") == attachment()
    assert records.attachments() == [attachment()]
    records.forget("p-web")
    records.forget("p-web")
    assert records.attachment("p-web") is None


def test_a_torn_record_is_skipped(tmp_path: Path) -> None:
    records = NetworkRecords(tmp_path)
    records.save(attachment())
    (records.attachments_dir / "p-db.json").write_text('{"container_id": ')
    assert [a.container_id for a in records.attachments()] == ["p-web"]


def test_the_subnet_is_kept_across_readers(tmp_path: Path) -> None:
    records = NetworkRecords(tmp_path)
    assert records.subnet() is None
    records.save_subnet(ipaddress.IPv4Network("10.89.4.0/24"))
    assert NetworkRecords(tmp_path).subnet() == ipaddress.IPv4Network("10.89.4.0/24")
