"""The flags' own checks: each bad value is a usage error naming its flag."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
from reconciler.export.options import (
    check_namespace,
    check_reference,
    check_storage_class,
    parse_volume_size,
)


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("5Gi", (None, "5Gi")),
        ("data=20Gi", ("data", "20Gi")),
        ("a=b=1T", ("a=b", "1T")),
        ("500M", (None, "500M")),
    ],
)
def test_a_volume_size_is_a_quantity_for_all_or_for_one_volume(text, parsed):
    assert parse_volume_size(text) == parsed


@pytest.mark.parametrize("text", ["", "5 Gi", "five", "=5Gi", "data=", "5GB", "-1Gi"])
def test_a_volume_size_that_is_no_kubernetes_quantity_is_refused(text):
    with pytest.raises(UsageError, match="--volume-size"):
        parse_volume_size(text)


@pytest.mark.parametrize("name", ["Team", "team_a", "-a", "a" * 64, ""])
def test_a_namespace_must_be_a_dns_label(name):
    with pytest.raises(UsageError, match="--namespace"):
        check_namespace(name)


def test_a_valid_namespace_is_kept():
    assert check_namespace("team-a") == "team-a"


def test_an_image_reference_has_no_spaces():
    with pytest.raises(UsageError, match="--wait-image"):
        check_reference("--wait-image", "busy box")


@pytest.mark.parametrize("name", ["Fast", "fast_ssd", "-x", ""])
def test_a_storage_class_must_be_a_kubernetes_name(name):
    with pytest.raises(UsageError, match="--storage-class"):
        check_storage_class(name)


def test_a_valid_storage_class_is_kept():
    assert check_storage_class("fast-ssd.example.com") == "fast-ssd.example.com"
