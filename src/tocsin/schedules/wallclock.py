"""Wall clock to instant and back, with the DST rules of ``docs/schedules.md``.

Instants are integers of microseconds since the Unix epoch (UTC) inside the rules;
they become aware datetimes only at the edges. Local days are proleptic ordinals.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

US: Final = 1_000_000
HOUR_US: Final = 3600 * US
DAY_US: Final = 86_400 * US
EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_ONE_US: Final = timedelta(microseconds=1)
_UNKNOWN: Final = -(2**63)  # not yet looked up (no real offset is this large)


def to_us(instant: datetime) -> int:
    """An aware datetime as microseconds since the epoch."""
    return (instant - EPOCH) // _ONE_US


def from_us(value: int) -> datetime:
    """Microseconds since the epoch as an aware UTC datetime."""
    return EPOCH + timedelta(0, 0, value)


def clock_us(value: time) -> int:
    """A wall-clock time as microseconds since local midnight."""
    return ((value.hour * 60 + value.minute) * 60 + value.second) * US + value.microsecond


def _offset_us(offset: timedelta | None) -> int:
    assert offset is not None
    return offset // _ONE_US


def wall_to_us(zone: ZoneInfo, naive: datetime) -> int:
    """The instant a local wall-clock reading happens.

    A reading that occurs twice (clocks go back) is its first occurrence (``fold=0``).
    A reading that does not exist (clocks go forward) is the first instant after the
    gap, the moment the clocks jump: 02:30 on a night New York skips 02:00-03:00 is
    03:00 EDT. (Plain ``fold=0`` would give 03:30; we do not use that.)
    """
    before = _offset_us(zone.utcoffset(naive))
    after = _offset_us(zone.utcoffset(naive.replace(fold=1)))
    local = (naive.toordinal() - EPOCH_ORDINAL) * DAY_US + clock_us(naive.time())
    if before >= after:
        return local - before
    # In the gap: the transition lies in (local - after, local - before]. Find it.
    low, high = local - after, local - before
    while high - low > 1:
        middle = (low + high) // 2
        if _offset_us(from_us(middle).astimezone(zone).utcoffset()) == before:
            low = middle
        else:
            high = middle
    return high


class Wall:
    """Conversions for one zone, memoised per local week for the length of one call.

    A week (or day) whose offset is the same at its start and at its end is taken
    to have no transition inside it: no zone changes its offset and
    back within a week. Otherwise each of its days is checked the same way, and a
    day with a transition goes through ``wall_to_us``.
    """

    __slots__ = ("_day_of", "_days", "_series", "_weeks", "zone")

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._weeks: dict[int, int | None] = {}
        self._days: dict[int, int | None] = {}
        self._series: dict[tuple[int, int, int, int], list[int]] = {}
        self._day_of: dict[int, int] = {}

    def _constant(self, first: int, last: int) -> int | None:
        """The offset over local days ``first..last`` if it is the same throughout.

        Readings at both ends with ``fold=0``: a transition inside the span, or at its
        very start (a start reading in a gap or fold gets the offset from before),
        makes them differ.
        """
        zone = self.zone
        offset = zone.utcoffset(datetime.fromordinal(first))
        if zone.utcoffset(datetime.fromordinal(last + 1)) == offset:
            return _offset_us(offset)
        return None

    def day_offset(self, ordinal: int) -> int | None:
        """The day's offset in microseconds, or None if it has a transition."""
        week = ordinal // 7
        offset = self._weeks.get(week, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._weeks[week] = self._constant(week * 7, week * 7 + 6)
        if offset is not None:
            return offset
        offset = self._days.get(ordinal, _UNKNOWN)
        if offset is _UNKNOWN:
            offset = self._days[ordinal] = self._constant(ordinal, ordinal)
        return offset

    def series(self, first: int, count: int, step: int, clock: int) -> list[int]:
        """``at(first + i * step, clock)`` for ``i`` in ``range(count)``, in one pass.

        The list is memoised for this Wall (layers often share handoff and window
        times): callers must not change it.
        """
        key = (first, count, step, clock)
        known = self._series.get(key)
        if known is not None:
            return known
        extra, clock = divmod(clock, DAY_US)
        first += extra
        out: list[int] = []
        if step == 1:  # week by week: a week without a transition is plain arithmetic
            day, end = first, first + count
            while day < end:
                stop = min(end, (day // 7 + 1) * 7)
                offset = self.day_offset(day)
                if offset is not None and self._weeks[day // 7] is not None:
                    shift = clock - offset - EPOCH_ORDINAL * DAY_US
                    out.extend([d * DAY_US + shift for d in range(day, stop)])
                else:
                    out.extend([self.at(d, clock) for d in range(day, stop)])
                day = stop
        else:
            for day in range(first, first + count * step, step):
                offset = self.day_offset(day)
                if offset is None:
                    out.append(self.at(day, clock))
                else:
                    out.append((day - EPOCH_ORDINAL) * DAY_US + clock - offset)
        self._series[key] = out
        return out

    def at(self, ordinal: int, clock: int) -> int:
        """The instant of ``clock`` (microseconds after midnight, up to 24:00) on a day."""
        if clock >= DAY_US:
            ordinal += clock // DAY_US
            clock %= DAY_US
        offset = self.day_offset(ordinal)
        if offset is not None:
            return (ordinal - EPOCH_ORDINAL) * DAY_US + clock - offset
        naive = datetime.fromordinal(ordinal) + timedelta(microseconds=clock)
        return wall_to_us(self.zone, naive)

    def local(self, instant: int) -> datetime:
        return from_us(instant).astimezone(self.zone)

    def day_of(self, instant: int) -> int:
        """The local day (ordinal) an instant falls on."""
        # One lookup asks this of the same instant for each layer it reaches.
        day = self._day_of.get(instant)
        if day is None:
            day = self._day_of[instant] = self.local(instant).toordinal()
        return day
