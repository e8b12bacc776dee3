"""Network namespace names: ours, readable, and split back without doubt."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.drivers.containerd.network.netns import listed, netns_name, parse_netns_name


def test_a_name_says_namespace_and_container_and_splits_back() -> None:
    name = netns_name("orch-test.1", "demo-web-2")
    assert name == "orch-orch-test.1--demo-web-2"
    assert parse_netns_name(name) == ("orch-test.1", "demo-web-2")


@pytest.mark.parametrize("name", ["cni-1234", "orch-nodoubledash", "orch---x", "orch-ns--"])
def test_names_that_are_not_ours_are_not_parsed(name: str) -> None:
    assert parse_netns_name(name) is None


def test_listing_a_missing_directory_is_empty(tmp_path: Path) -> None:
    assert listed(tmp_path / "none") == []
    (tmp_path / "b").touch()
    (tmp_path / "a").touch()
    assert listed(tmp_path) == ["a", "b"]
