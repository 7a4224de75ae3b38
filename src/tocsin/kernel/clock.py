"""The only place that reads the time: a system clock and a frozen clock for tests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Source of the current instant; always aware UTC."""

    def now(self) -> datetime: ...


class SystemClock:
    """Reads the operating system's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)  # noqa: TID251 - the one place that reads the time


class FrozenClock:
    """A clock that moves only when told to; safe to share between threads."""

    def __init__(self, start: datetime | None = None) -> None:
        start = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._now = ensure_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; never backwards."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("a frozen clock only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def set(self, instant: datetime) -> None:
        with self._lock:
            self._now = ensure_utc(instant)


def ensure_utc(instant: datetime) -> datetime:
    """Return ``instant`` as aware UTC; a naive value is refused, never guessed."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("naive datetime: every instant in Tocsin is timezone-aware")
    return instant.astimezone(UTC)
