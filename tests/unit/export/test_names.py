"""Names Kubernetes accepts: kept when valid, made valid (and unique) otherwise."""

from __future__ import annotations

import re

import pytest

from reconciler.export.names import dns_label, is_dns_label, joined

LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@pytest.mark.parametrize("name", ["web", "db-1", "a", "0data", "x" * 63])
def test_a_valid_label_is_kept_as_it_is(name):
    assert dns_label(name) == name


@pytest.mark.parametrize("name", ["Data", "my_volume", "a.b", "-lead", "trail-", "x" * 64, "___"])
def test_any_other_text_becomes_a_valid_label(name):
    label = dns_label(name)
    assert LABEL.fullmatch(label)
    assert len(label) <= 63
    assert is_dns_label(label)


def test_a_changed_name_keeps_its_readable_part_and_gains_a_digest():
    assert re.fullmatch(r"scratch-space-[0-9a-f]{8}", dns_label("Scratch_Space"))


def test_names_that_differ_only_in_what_was_replaced_stay_different():
    assert dns_label("data_1") != dns_label("data.1") != dns_label("Data-1")


def test_the_same_name_always_gives_the_same_label():
    assert dns_label("Scratch_Space") == dns_label("Scratch_Space")


def test_joined_parts_are_shortened_to_63_characters_when_too_long():
    name = joined("wait-for", "s" * 63)
    assert len(name) == 63
    assert name.startswith("wait-for-sss")


def test_short_joined_parts_are_joined_with_a_dash():
    assert joined("host-path", "2") == "host-path-2"
