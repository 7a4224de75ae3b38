"""One layer on its own: turns, who holds each turn (time off, payback) and windows.

Intervals are ``(start_us, end_us, user)`` tuples, half open, sorted, disjoint.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from tocsin.schedules.model import Layer, Restriction, TimeOff
from tocsin.schedules.wallclock import DAY_US, HOUR_US, Wall, clock_us, to_us

Interval = tuple[int, int, str]


class Rotation:
    """Turn arithmetic for one layer: turn ``k`` is ``[bound(k), bound(k + 1))``.

    Whole-day turns hand off at the wall-clock handoff time every ``turn_hours / 24``
    calendar days; other turns are ``turn_hours`` real hours apart from the anchor.
    """

    __slots__ = (
        "_away_spans",
        "_bounds",
        "_day0",
        "_days",
        "_first",
        "_handoff",
        "_step",
        "_time_off",
        "layer",
        "wall",
    )

    def __init__(self, layer: Layer, wall: Wall, time_off: Sequence[TimeOff]) -> None:
        self.layer = layer
        self.wall = wall
        self._day0 = layer.start.toordinal()
        self._handoff = clock_us(layer.handoff)
        self._days = layer.turn_hours // 24 if layer.turn_hours % 24 == 0 else 0
        self._step = layer.turn_hours * HOUR_US
        self._bounds: dict[int, int] = {}
        # Whole-day turns find their anchor through bound(0) only when they need it.
        self._first = 0 if self._days else wall.at(self._day0, self._handoff)
        self._time_off = time_off
        self._away_spans: dict[str, list[tuple[int, int]]] | None = None

    @property
    def _away(self) -> dict[str, list[tuple[int, int]]]:
        """Each participant's time off as instants, built on first use."""
        if self._away_spans is None:
            people = set(self.layer.participants)
            spans: dict[str, list[tuple[int, int]]] = {}
            for off in self._time_off:
                if off.user in people:
                    spans.setdefault(off.user, []).append((to_us(off.start_at), to_us(off.end_at)))
            self._away_spans = spans
        return self._away_spans

    @property
    def first(self) -> int:
        return self.bound(0) if self._days else self._first

    def bound(self, k: int) -> int:
        if not self._days:
            return self._first + k * self._step
        value = self._bounds.get(k)
        if value is None:
            value = self._bounds[k] = self.wall.at(self._day0 + k * self._days, self._handoff)
        return value

    def bounds(self, first: int, last: int) -> list[int]:
        """``bound(k)`` for ``k`` in ``first..last``."""
        count = last - first + 1
        if not self._days:
            step = self._step
            origin = self._first + first * step
            return [origin + i * step for i in range(count)]
        day = self._day0 + first * self._days
        return self.wall.series(day, count, self._days, self._handoff)

    def index(self, instant: int) -> int:
        """The turn holding ``instant`` (negative before the anchor)."""
        if not self._days:
            return (instant - self._first) // self._step
        k = (self.wall.day_of(instant) - self._day0) // self._days
        while self.bound(k) > instant:
            k -= 1
        while self.bound(k + 1) <= instant:
            k += 1
        return k

    def _is_away(self, user: str, k: int) -> bool:
        spans = self._away.get(user)
        if not spans:
            return False
        start, end = self.bound(k), self.bound(k + 1)
        return any(s < end and start < e for s, e in spans)

    def _touched(self, first: int, last: int) -> set[int]:
        """The turns among ``first..last`` that some time off of a participant touches."""
        found: set[int] = set()
        away = self._away
        if not away or first > last:
            return found
        start, end = self.bound(first), self.bound(last + 1)
        for spans in away.values():
            for s, e in spans:
                if s < end and start < e:
                    found.update(range(max(first, self.index(s)), min(last, self.index(e - 1)) + 1))
        return found

    def holders(self, first: int, last: int) -> list[str | None]:
        """Who holds turns ``first..last`` (None: nobody could)."""
        people = self.layer.participants
        n = len(people)
        if n == 0:
            return [None] * (last - first + 1)
        start = max(0, first - n + 1)
        if not self._touched(start, last):
            return [people[k % n] for k in range(first, last + 1)]
        # Start from a clean turn: no payback can land at or after it from before it.
        while start > 0:
            before = max(0, start - n + 1)
            touched = self._touched(before, start - 1)
            if not any(self._is_away(people[k % n], k) for k in touched):
                break
            start = before
        # Only touched turns and turns someone is owed can differ from the rotation.
        result: list[str | None] = [people[k % n] for k in range(first, last + 1)]
        pending = sorted(self._touched(start, last))
        owed: dict[int, str] = {}
        done = -1
        while pending:
            k = heapq.heappop(pending)
            if k <= done or k > last:
                continue
            done = k
            holder = self._holder(k, owed, people)
            if owed:
                for later in owed:
                    if later > k:
                        heapq.heappush(pending, later)
            if k >= first:
                result[k - first] = holder
        return result

    def _holder(self, k: int, owed: dict[int, str], people: Sequence[str]) -> str | None:
        n = len(people)
        debtor = owed.pop(k, None)
        if debtor is not None and not self._is_away(debtor, k):
            return debtor  # payback: the person skipped earlier takes this turn
        position = k % n
        scheduled = people[position]
        if not self._is_away(scheduled, k):
            return scheduled
        for step in range(1, n):
            cover = people[(position + step) % n]
            if cover != scheduled and not self._is_away(cover, k):
                owed.setdefault(k + step, scheduled)  # the older debt keeps the turn
                return cover
        return None

    def segments(self, low: int, high: int) -> list[Interval]:
        """The layer's own intervals within ``[low, high)``, restrictions applied."""
        layer = self.layer
        if layer.end is not None:
            high = min(high, to_us(layer.end))
        if low >= high or not layer.participants:
            return []
        spans: list[tuple[int, int]] | None = None
        if layer.restrictions:
            if high - low == 1:  # one instant (oncall_at): no need to list the windows
                if not is_open(self.wall, layer.restrictions, low):
                    return []
            else:
                spans = windows(self.wall, layer.restrictions, low, high)
                if not spans:
                    return []
        first = self.index(low)
        if first < 0:  # the layer starts at its anchor
            low, first = max(low, self.first), 0
            if low >= high:
                return []
        last = self.index(high - 1)
        holders = self.holders(first, last)
        bounds = self.bounds(first, last + 1)  # shared with the wall's memo: never mutate
        turns = [
            (bounds[i], bounds[i + 1], holder)
            for i, holder in enumerate(holders)
            if holder is not None
        ]
        if turns and turns[0][0] < low:
            turns[0] = (low, turns[0][1], turns[0][2])
        if turns and turns[-1][1] > high:
            turns[-1] = (turns[-1][0], high, turns[-1][2])
        return turns if spans is None else intersect(turns, spans)


def is_open(wall: Wall, restrictions: Sequence[Restriction], instant: int) -> bool:
    """Whether ``instant`` is inside one of the windows (same result as ``windows``)."""
    day = wall.day_of(instant)
    at = wall.at
    # A window of day d lies within local day d, except around a transition at
    # midnight: then look at the neighbours too. Three days at one offset have none.
    offset = wall.day_offset(day)
    steady = (
        offset is not None
        and wall.day_offset(day - 1) == offset
        and wall.day_offset(day + 1) == offset
    )
    days = (day,) if steady else (day, day - 1, day + 1)
    for r in restrictions:
        start_clock = clock_us(r.start)
        end_clock = clock_us(r.end)
        if r.start_day is None or r.end_day is None:
            for d in days:
                if at(d, start_clock) <= instant < at(d, end_clock or DAY_US):
                    return True
            continue
        monday = day - (day - 1) % 7
        for m in (monday, monday - 7, monday + 7):
            if at(m + r.start_day, start_clock) <= instant < at(m + r.end_day, end_clock):
                return True
    return False


def windows(
    wall: Wall, restrictions: Sequence[Restriction], low: int, high: int
) -> list[tuple[int, int]]:
    """The union of the restriction windows that meet ``[low, high)``, clipped to it."""
    first_day = wall.day_of(low) - 1
    last_day = wall.day_of(high) + 1
    found: list[tuple[int, int]] = []
    at = wall.at
    for r in restrictions:
        start_clock = clock_us(r.start)
        end_clock = clock_us(r.end)
        if r.start_day is None or r.end_day is None:
            count = last_day - first_day + 1
            starts = wall.series(first_day, count, 1, start_clock)
            ends = wall.series(first_day, count, 1, end_clock or DAY_US)
            found.extend(
                (max(s, low), min(e, high))
                for s, e in zip(starts, ends, strict=True)
                if s < high and e > low and s < e
            )
            continue
        monday = first_day - (first_day - 1) % 7 - 7  # ordinal 1 (0001-01-01) is a Monday
        while monday <= last_day:
            s = at(monday + r.start_day, start_clock)
            e = at(monday + r.end_day, end_clock)
            if s < high and e > low and s < e:
                found.append((max(s, low), min(e, high)))
            monday += 7
    if len(restrictions) == 1:
        return found  # already sorted and disjoint
    found.sort()
    merged: list[tuple[int, int]] = []
    for s, e in found:
        if merged and s <= merged[-1][1]:
            if e > merged[-1][1]:
                merged[-1] = (merged[-1][0], e)
        else:
            merged.append((s, e))
    return merged


def intersect(turns: list[Interval], spans: list[tuple[int, int]]) -> list[Interval]:
    """The parts of ``turns`` inside ``spans`` (both sorted and disjoint)."""
    out: list[Interval] = []
    append = out.append
    j = 0
    count = len(spans)
    for start, end, user in turns:
        while j < count and spans[j][1] <= start:
            j += 1
        i = j
        while i < count:
            s, e = spans[i]
            if s >= end:
                break
            append((max(s, start), min(e, end), user))
            if e > end:
                break
            i += 1
    return out
