"""Public holidays of a schedule's calendar as local dates and as whole local days.

The dates come from the ``holidays`` package (observed days included, e.g. a
Christmas falling on a Saturday is also observed on the Friday in the US). A
holiday covers its whole local day in the schedule's zone: from local midnight to
the next local midnight, converted with the DST rules of ``docs/schedules.md`` (a
midnight inside a spring-forward gap is the moment the clocks jump).
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from tocsin.schedules.model import HolidayCalendar, check_range
from tocsin.schedules.rotation import Interval, intersect
from tocsin.schedules.wallclock import DAY_US, Wall, from_us, to_us

Span = tuple[int, int]


@lru_cache(maxsize=512)
def _year(country: str, subdivision: str | None, year: int) -> frozenset[int]:
    """The holiday ordinals of one year; the package's tables are static, so cache."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return frozenset(day.toordinal() for day in found)


def _ordinals(calendar: HolidayCalendar, first: int, last: int) -> list[int]:
    start_year = date.fromordinal(first).year
    end_year = date.fromordinal(last).year
    out: list[int] = []
    for year in range(start_year, end_year + 1):
        out.extend(
            day
            for day in _year(calendar.country, calendar.subdivision, year)
            if first <= day <= last
        )
    out.sort()
    return out


def holiday_dates(calendar: HolidayCalendar, first: date, last: date) -> list[date]:
    """The calendar's public holidays from ``first`` to ``last`` (both included), sorted."""
    return [date.fromordinal(d) for d in _ordinals(calendar, first.toordinal(), last.toordinal())]


def spans(calendar: HolidayCalendar, wall: Wall, low: int, high: int) -> list[Span]:
    """The holidays meeting ``[low, high)`` (microseconds) as sorted, disjoint spans.

    Consecutive holidays (25 and 26 December) make one span; spans are not clipped.
    """
    found: list[Span] = []
    # One local day either side: a range edge near midnight may sit in either day.
    for day in _ordinals(calendar, wall.day_of(low) - 1, wall.day_of(high) + 1):
        s, e = wall.at(day, 0), wall.at(day, DAY_US)
        if s >= high or e <= low:
            continue
        if found and found[-1][1] == s:
            found[-1] = (found[-1][0], e)
        else:
            found.append((s, e))
    return found


def holiday_intervals(
    calendar: HolidayCalendar, time_zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The holidays meeting ``[start, end)`` as aware UTC intervals of whole local days.

    Intervals are not clipped to the range, and consecutive holidays are joined.
    """
    check_range(start, end)
    wall = Wall(ZoneInfo(time_zone))
    return [(from_us(s), from_us(e)) for s, e in spans(calendar, wall, to_us(start), to_us(end))]


def outside(turns: list[Interval], holes: list[Span]) -> list[Interval]:
    """The parts of ``turns`` outside ``holes`` (both sorted and disjoint)."""
    if not holes:
        return turns
    out: list[Interval] = []
    j = 0
    count = len(holes)
    for start, end, user in turns:
        while j < count and holes[j][1] <= start:
            j += 1
        cursor = start
        i = j
        while i < count and cursor < end:
            s, e = holes[i]
            if s >= end:
                break
            if s > cursor:
                out.append((cursor, s, user))
            cursor = max(cursor, e)
            i += 1
        if cursor < end:
            out.append((cursor, end, user))
    return out


def masked(turns: list[Interval], mode: str, holes: list[Span]) -> list[Interval]:
    """Apply a layer's ``on_holidays`` mode to its intervals: "off", "only" or "normal"."""
    if mode == "off":
        return outside(turns, holes)
    if mode == "only":
        return intersect(turns, holes)
    return turns
