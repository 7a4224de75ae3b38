"""Pure rules of schedules: who is on call, the final schedule, gaps and load.

No database, no clock: every function takes plain values (``schedules.model``) and
aware datetimes. The DST rules are written down in ``docs/schedules.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, time
from zoneinfo import ZoneInfo

from tocsin.schedules import holidays
from tocsin.schedules.model import (
    OVERRIDE,
    HolidayCalendar,
    Layer,
    Load,
    OnCall,
    Override,
    Restriction,
    Schedule,
    Shadow,
    Shift,
    TimeOff,
    check_instant,
    check_range,
    validate,
)
from tocsin.schedules.rotation import Interval, Rotation, windows
from tocsin.schedules.wallclock import HOUR_US, Wall, from_us, to_us

__all__ = [
    "HolidayCalendar",
    "Layer",
    "Load",
    "OnCall",
    "Override",
    "Restriction",
    "Schedule",
    "Shadow",
    "Shift",
    "TimeOff",
    "gaps",
    "load",
    "merge",
    "oncall_at",
    "render",
    "validate",
]

_Piece = tuple[int, int, str, str]


def _layer_source(index: int) -> str:
    return f"layer:{index}"


def _overrides(schedule: Schedule, low: int, high: int) -> list[Interval]:
    found: list[Interval] = []
    for override in schedule.overrides:
        s, e = to_us(override.start_at), to_us(override.end_at)
        if s < high and e > low:
            found.append((max(s, low), min(e, high), override.user))
    found.sort()
    return found


def _rotations(schedule: Schedule) -> list[Rotation]:
    wall = Wall(ZoneInfo(schedule.time_zone))
    return [Rotation(layer, wall, schedule.time_off) for layer in schedule.layers]


def _segments(
    schedule: Schedule, index: int, rotation: Rotation, low: int, high: int
) -> list[Interval]:
    """One layer's intervals in ``[low, high)``, its ``on_holidays`` mode applied."""
    found = rotation.segments(low, high)
    mode = schedule.layers[index].on_holidays
    if mode == "normal" or schedule.holidays is None or not found:
        return found
    holes = holidays.spans(schedule.holidays, rotation.wall, low, high)
    return holidays.masked(found, mode, holes)


def _pieces(schedule: Schedule, low: int, high: int) -> list[_Piece]:
    """The final schedule over ``[low, high)`` as sorted, unmerged pieces."""
    levels: list[tuple[list[Interval], str]] = [(_overrides(schedule, low, high), OVERRIDE)]
    rotations = _rotations(schedule)
    for index in range(len(rotations) - 1, -1, -1):
        level = _segments(schedule, index, rotations[index], low, high)
        levels.append((level, _layer_source(index)))
    out: list[_Piece] = []
    covered: list[tuple[int, int]] = []
    for number, (level, source) in enumerate(levels):
        if not level:
            continue
        j = 0
        count = len(covered)
        for start, end, user in level:
            while j < count and covered[j][1] <= start:
                j += 1
            cursor = start
            i = j
            while i < count and cursor < end:
                cs, ce = covered[i]
                if cs >= end:
                    break
                if cs > cursor:
                    out.append((cursor, cs, user, source))
                if ce > cursor:
                    cursor = ce
                i += 1
            if cursor < end:
                out.append((cursor, end, user, source))
        if number < len(levels) - 1:  # the lowest layer leaves nothing below it to cover
            covered = _union(covered, [(s, e) for s, e, _ in level])
    out.sort()
    return out


def _union(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[tuple[int, int]]:
    both = sorted(a + b) if a else b
    merged: list[tuple[int, int]] = []
    for s, e in both:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def _merged(pieces: Iterable[_Piece]) -> list[_Piece]:
    out: list[_Piece] = []
    for piece in pieces:
        if out:
            s, e, user, source = out[-1]
            if e == piece[0] and user == piece[2] and source == piece[3]:
                out[-1] = (s, piece[1], user, source)
                continue
        out.append(piece)
    return out


def render(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over ``[start, end)``: sorted, non-overlapping, merged shifts.

    Each shift names its source: ``"override"`` or ``"layer:<index>"``.
    """
    check_range(start, end)
    pieces = _merged(_pieces(schedule, to_us(start), to_us(end)))
    # Consecutive shifts mostly share an instant: convert each one once. tuple.__new__
    # skips the named tuple's Python-level __new__ (a year has thousands of shifts).
    new = tuple.__new__
    out: list[Shift] = []
    append = out.append
    last_us, last = -1, start
    for s, e, user, source in pieces:
        begin = last if s == last_us else from_us(s)
        last_us, last = e, from_us(e)
        append(new(Shift, (user, begin, last, source)))
    return out


def merge(shifts: Iterable[Shift]) -> list[Shift]:
    """Sort shifts and join touching ones with the same person and source."""
    ordered = sorted(shifts, key=lambda x: (x.start_at, x.end_at, x.user, x.source))
    out: list[Shift] = []
    for shift in ordered:
        if out:
            last = out[-1]
            if (
                last.end_at == shift.start_at
                and last.user == shift.user
                and last.source == shift.source
            ):
                out[-1] = Shift(last.user, last.start_at, shift.end_at, last.source)
                continue
        out.append(shift)
    return out


def gaps(schedule: Schedule, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """The intervals within ``[start, end)`` in which nobody is on call."""
    check_range(start, end)
    low, high = to_us(start), to_us(end)
    found: list[tuple[datetime, datetime]] = []
    cursor = low
    for s, e, _, _ in _merged(_pieces(schedule, low, high)):
        if s > cursor:
            found.append((from_us(cursor), from_us(s)))
        cursor = e
    if cursor < high:
        found.append((from_us(cursor), from_us(high)))
    return found


def oncall_at(schedule: Schedule, at: datetime) -> tuple[OnCall, ...]:
    """Who is on call at ``at``: the one expected to act first, then any shadows.

    An override wins; otherwise the highest layer with someone. Shadows of that layer
    who shadow that person follow with ``shadow=True``; overrides have no shadows.
    """
    check_instant(at)
    for override in schedule.overrides:
        if override.start_at <= at < override.end_at:
            return (OnCall(override.user, OVERRIDE),)
    instant = to_us(at)
    wall = Wall(ZoneInfo(schedule.time_zone))
    # Top layer first, and a Rotation only for the layers looked at: usually one.
    for index in range(len(schedule.layers) - 1, -1, -1):
        layer = schedule.layers[index]
        rotation = Rotation(layer, wall, schedule.time_off)
        found = _segments(schedule, index, rotation, instant, instant + 1)
        if found:
            user = found[0][2]
            source = _layer_source(index)
            riders = tuple(
                OnCall(s.user, source, shadow=True, shadows_user=user)
                for s in layer.shadows
                if s.shadows_user == user
            )
            return (OnCall(user, source), *riders)
    return ()


def _overlap_us(s: int, e: int, spans: Sequence[tuple[int, int]]) -> int:
    return sum(max(0, min(e, we) - max(s, ws)) for ws, we in spans if ws < e and we > s)


def load(
    shifts: Sequence[Shift],
    time_zone: str,
    night: tuple[time, time] = (time(22), time(7)),
    weekend: Sequence[int] = (5, 6),
) -> dict[str, Load]:
    """Per person: hours, night hours, weekend hours and number of shifts.

    Night is ``night[0]`` to ``night[1]`` the next morning (or the same day if it
    ends later than it starts), weekend is the listed weekdays (0 = Monday), both on
    the wall clock of ``time_zone`` with the DST rules of ``docs/schedules.md``.
    """
    if not shifts:
        return {}
    wall = Wall(ZoneInfo(time_zone))
    low = min(to_us(s.start_at) for s in shifts)
    high = max(to_us(s.end_at) for s in shifts)
    night_start, night_end = night
    if night_end == time(0) or night_end > night_start:
        night_windows = [Restriction(night_start, night_end)]
    else:  # overnight: from the start to midnight, then from midnight to the end
        night_windows = [Restriction(night_start, time(0)), Restriction(time(0), night_end)]
    nights = windows(wall, night_windows, low, high)
    weekend_days = [Restriction(time(0), time(0), day, day + 1) for day in sorted(set(weekend))]
    weekends = windows(wall, weekend_days, low, high)
    totals: dict[str, list[int]] = {}
    for shift in shifts:
        s, e = to_us(shift.start_at), to_us(shift.end_at)
        row = totals.setdefault(shift.user, [0, 0, 0, 0])
        row[0] += e - s
        row[1] += _overlap_us(s, e, nights)
        row[2] += _overlap_us(s, e, weekends)
        row[3] += 1
    return {
        user: Load(user, row[0] / HOUR_US, row[1] / HOUR_US, row[2] / HOUR_US, row[3])
        for user, row in totals.items()
    }
