from datetime import UTC, datetime, timedelta, timezone

import pytest

from tocsin.kernel.clock import FrozenClock, SystemClock, ensure_utc


def test_system_clock_is_aware_utc() -> None:
    now = SystemClock().now()
    assert now.tzinfo is UTC


def test_frozen_clock_moves_only_forward() -> None:
    clock = FrozenClock(datetime(2026, 3, 29, 0, 30, tzinfo=UTC))
    assert clock.advance(minutes=5) == datetime(2026, 3, 29, 0, 35, tzinfo=UTC)
    assert clock.advance(timedelta(hours=1)) == datetime(2026, 3, 29, 1, 35, tzinfo=UTC)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(minutes=-1)


def test_frozen_clock_rejects_naive_start() -> None:
    with pytest.raises(ValueError, match="naive"):
        FrozenClock(datetime(2026, 1, 1))


def test_ensure_utc_converts_offsets() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert ensure_utc(datetime(2026, 1, 1, 12, tzinfo=plus_two)) == datetime(
        2026, 1, 1, 10, tzinfo=UTC
    )
