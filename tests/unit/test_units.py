"""Durations, sizes, percentages and CPU amounts as users write them."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from reconciler.model.units import (
    UnitError,
    check_cpus,
    format_duration,
    parse_duration,
    parse_percent,
    parse_size,
)

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("90s", timedelta(seconds=90)),
        ("2m", timedelta(minutes=2)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("1m30s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        ("1s500ms", timedelta(milliseconds=1500)),
        ("1.5s", timedelta(milliseconds=1500)),
        ("0s", timedelta(0)),
    ],
)
def test_a_duration_with_units_is_the_sum_of_its_terms(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("90", timedelta(seconds=90)), ("0", timedelta(0)), ("2.5", timedelta(seconds=2.5))],
)
def test_a_bare_number_is_a_duration_in_seconds(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


def test_surrounding_whitespace_around_a_duration_is_ignored() -> None:
    assert parse_duration("  10s ") == timedelta(seconds=10)


@pytest.mark.parametrize(
    "text",
    ["", "   ", "abc", "10x", "s", "1h30", "10 s", "-5s", "1,5s", "5s ms", "1e3s", "ten seconds"],
)
def test_text_that_is_not_a_duration_is_a_unit_error(text: str) -> None:
    with pytest.raises(UnitError, match="is not a duration"):
        parse_duration(text)


def test_a_duration_longer_than_a_year_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="longer than a year"):
        parse_duration("366d")


@pytest.mark.parametrize("text", ["99999999999999999999999d", "99999999999999999999999"])
def test_an_astronomically_long_duration_is_a_unit_error_not_a_crash(text: str) -> None:
    with pytest.raises(UnitError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1024", 1024),
        ("0", 0),
        ("512K", 512 * KIB),
        ("512M", 512 * MIB),
        ("4G", 4 * GIB),
        ("1T", 1024 * GIB),
        ("512m", 512 * MIB),
        ("4g", 4 * GIB),
        ("512MB", 512 * MIB),
        ("512MiB", 512 * MIB),
        ("512mib", 512 * MIB),
        ("1KiB", KIB),
        ("1.5G", 3 * GIB // 2),
        (" 64M ", 64 * MIB),
    ],
)
def test_a_size_is_read_in_binary_units_as_docker_reads_memory(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "12Q", "M", "4GG", "-1M", "1e9", "four gigabytes", "4 G B"])
def test_text_that_is_not_a_size_is_a_unit_error(text: str) -> None:
    with pytest.raises(UnitError, match="is not a size"):
        parse_size(text)


@pytest.mark.parametrize(
    ("text", "cores"),
    [("50%", 0.5), ("100%", 1.0), ("150%", 1.5), ("200%", 2.0), ("12.5%", 0.125), ("0%", 0.0)],
)
def test_a_percentage_is_a_fraction_of_one_core(text: str, cores: float) -> None:
    assert parse_percent(text) == pytest.approx(cores)


@pytest.mark.parametrize("text", ["", "50", "%", "fifty%", "-50%", "50 %%"])
def test_text_that_is_not_a_percentage_is_a_unit_error(text: str) -> None:
    with pytest.raises(UnitError, match="is not a percentage"):
        parse_percent(text)


@pytest.mark.parametrize("cores", [0.01, 0.5, 1.0, 64.0])
def test_a_positive_number_of_cpus_is_accepted_as_is(cores: float) -> None:
    assert check_cpus(cores) == cores


@pytest.mark.parametrize("cores", [0.0, -1.0, math.inf, -math.inf, math.nan])
def test_a_cpus_value_that_is_not_a_positive_finite_number_is_a_unit_error(cores: float) -> None:
    with pytest.raises(UnitError, match="positive number of cores"):
        check_cpus(cores)


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=250), "250ms"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(seconds=10), "10s"),
        (timedelta(minutes=2), "2m"),
        (timedelta(hours=1), "1h"),
        (timedelta(minutes=90), "1h30m"),
        (timedelta(hours=1, seconds=5), "1h5s"),
    ],
)
def test_a_duration_is_formatted_in_whole_units(duration: timedelta, text: str) -> None:
    assert format_duration(duration) == text


@pytest.mark.parametrize(
    "duration",
    [
        timedelta(milliseconds=1),
        timedelta(milliseconds=999),
        timedelta(seconds=59),
        timedelta(seconds=90),
        timedelta(hours=25, minutes=1, seconds=1),
        timedelta(days=3),
    ],
)
def test_a_formatted_duration_parses_back_to_the_same_duration(duration: timedelta) -> None:
    assert parse_duration(format_duration(duration)) == duration
