"""Platform selection follows containerd's platforms.Only rules."""

from __future__ import annotations

import pytest

from reconciler.drivers.containerd.images.platform import (
    Platform,
    acceptable,
    best_match,
    host_platform,
)

AMD64 = Platform(os="linux", architecture="amd64")
ARM64 = Platform(os="linux", architecture="arm64", variant="v8")
ARM_V7 = Platform(os="linux", architecture="arm", variant="v7")
ARM_V6 = Platform(os="linux", architecture="arm", variant="v6")
I386 = Platform(os="linux", architecture="386")
WINDOWS = Platform(os="windows", architecture="amd64")


@pytest.mark.parametrize(
    ("machine", "expected"),
    [
        ("x86_64", "linux/amd64"),
        ("aarch64", "linux/arm64"),
        ("armv7l", "linux/arm/v7"),
        ("armv6l", "linux/arm/v6"),
    ],
)
def test_the_host_platform_is_linux_with_the_goarch_of_the_machine(
    machine: str, expected: str
) -> None:
    assert str(host_platform(machine)) == expected


def test_arm64_with_or_without_v8_is_the_same_platform() -> None:
    assert ARM64.normalized() == Platform(os="linux", architecture="aarch64").normalized()


def test_the_exact_platform_wins_over_an_earlier_compatible_one() -> None:
    assert best_match(AMD64, [I386, WINDOWS, AMD64]) == 2


def test_amd64_falls_back_to_386_when_nothing_better_exists() -> None:
    assert best_match(AMD64, [WINDOWS, ARM64, I386]) == 2


def test_arm_v7_accepts_v6_but_not_arm64() -> None:
    assert best_match(ARM_V7, [ARM64, ARM_V6]) == 1
    assert best_match(ARM_V6, [ARM_V7]) is None


def test_arm64_prefers_itself_then_the_newest_32_bit_arm() -> None:
    order = acceptable(ARM64)

    assert order[0] == Platform(os="linux", architecture="arm64")
    assert [p.variant for p in order[1:]] == ["v8", "v7", "v6", "v5"]
    assert best_match(ARM64, [ARM_V6, ARM_V7]) == 1


def test_entries_without_a_platform_and_other_oses_never_match() -> None:
    assert best_match(AMD64, [None, WINDOWS]) is None


def test_the_first_of_equal_candidates_is_chosen() -> None:
    assert best_match(AMD64, [AMD64, AMD64]) == 0
