"""The rotation planner: which bytes of the live file go to which rotated file, which
rotated files move or go, and when a log is looked at again."""

from __future__ import annotations

import pytest

from reconciler.logfiles.plan import Piece, Rotation, next_check, plan_rotation
from reconciler.model.log_limits import LogLimits

K = 1 << 10
BLOCK = 4 * K
LIMITS = LogLimits(max_size=100 * K, max_files=3)


def test_nothing_is_due_below_the_limit() -> None:
    assert plan_rotation(size=100 * K - 1, block=BLOCK, limits=LIMITS, rotated=[1, 2]) is None


def test_the_cut_is_whole_blocks_and_never_the_last_byte() -> None:
    at_limit = plan_rotation(size=100 * K, block=BLOCK, limits=LIMITS, rotated=[])
    assert at_limit == Rotation(cut=96 * K, pieces=(Piece(start=0, end=96 * K, index=1),))
    past = plan_rotation(size=100 * K + 10, block=BLOCK, limits=LIMITS, rotated=[])
    assert past is not None
    assert past.cut == 100 * K
    assert past.dropped == 0


def test_older_rotated_files_move_up_and_the_oldest_goes() -> None:
    rotation = plan_rotation(size=101 * K, block=BLOCK, limits=LIMITS, rotated=[2, 1])
    assert rotation is not None
    assert rotation.pieces == (Piece(start=0, end=100 * K, index=1),)
    # .2 would become .3, past max_files - 1: removed; .1 becomes .2 after that.
    assert rotation.removals == (2,)
    assert rotation.moves == ((1, 2),)


def test_a_head_far_past_the_limit_is_split_newest_first_and_its_surplus_dropped() -> None:
    rotation = plan_rotation(size=350 * K + 1, block=BLOCK, limits=LIMITS, rotated=[1, 2])
    assert rotation is not None
    assert rotation.cut == 348 * K
    assert rotation.pieces == (
        Piece(start=248 * K, end=348 * K, index=1),
        Piece(start=148 * K, end=248 * K, index=2),
    )
    assert rotation.removals == (2, 1)
    assert rotation.moves == ()
    assert rotation.dropped == 148 * K


def test_a_head_longer_than_the_limit_makes_a_short_piece_and_files_move_by_two() -> None:
    limits = LogLimits(max_size=100 * K, max_files=6)
    rotation = plan_rotation(size=150 * K, block=BLOCK, limits=limits, rotated=[1, 2, 3])
    assert rotation is not None
    assert rotation.pieces == (
        Piece(start=48 * K, end=148 * K, index=1),
        Piece(start=0, end=48 * K, index=2),
    )
    assert rotation.moves == ((3, 5), (2, 4), (1, 3))
    assert rotation.removals == ()


def test_one_file_keeps_no_rotated_file_the_head_is_dropped() -> None:
    limits = LogLimits(max_size=100 * K, max_files=1)
    rotation = plan_rotation(size=120 * K, block=BLOCK, limits=limits, rotated=[1])
    assert rotation == Rotation(cut=116 * K, removals=(1,))
    assert rotation.dropped == 116 * K


def test_lowered_limits_remove_surplus_rotated_files_even_when_no_cut_is_due() -> None:
    rotation = plan_rotation(size=10, block=BLOCK, limits=LIMITS, rotated=[1, 2, 3, 4])
    assert rotation == Rotation(cut=0, removals=(4, 3))


def test_copy_and_truncate_takes_the_whole_file() -> None:
    rotation = plan_rotation(size=100 * K + 7, block=BLOCK, limits=LIMITS, rotated=[], whole=True)
    assert rotation is not None
    assert rotation.cut == 100 * K + 7
    assert rotation.pieces == (
        Piece(start=7, end=100 * K + 7, index=1),
        Piece(start=0, end=7, index=2),
    )


def test_a_file_smaller_than_a_block_cannot_be_cut() -> None:
    limits = LogLimits(max_size=64 * K, max_files=2)
    assert plan_rotation(size=64 * K, block=128 * K, limits=limits, rotated=[]) is None


@pytest.mark.parametrize(
    ("size", "rate", "expected"),
    [
        (0, 0.0, 0.5),  # quiet: the period
        (10 * K, 10 * K, 0.5),  # slow: it needs 9 s to reach its limit
        (0, 1000 * K, 0.05),  # 100 K/s at 0.1 s to its limit: half of that, at least 0.05
        (50 * K, 200 * K, 0.125),  # 50 K left at 200 K/s: 0.25 s, half of it
        (100 * K, 0.0, 0.05),  # at its limit: as soon as may be
    ],
)
def test_a_fast_growing_log_is_looked_at_sooner(size: int, rate: float, expected: float) -> None:
    delay = next_check(size=size, rate=rate, limits=LIMITS, period=0.5, shortest=0.05)
    assert delay == pytest.approx(expected)
