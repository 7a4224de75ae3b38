"""What an edit to a schedule changes: who gains or loses shifts, and which gaps move.

Pure: both schedules are rendered over the same range with ``rules.render`` and
compared; sentences use the ``after`` schedule's zone for dates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from tocsin.schedules import rules
from tocsin.schedules.model import DAY_NAMES, Schedule, Shift

MONTH_NAMES: Final = (
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
)  # fmt: skip
NO_CHANGE: Final = "No change to the final schedule."
_HOUR: Final = timedelta(hours=1)

Gap = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class PersonChange:
    """One person's shifts and hours in the final schedule, before and after."""

    user: str
    shifts_before: int
    shifts_after: int
    hours_before: float
    hours_after: float

    @property
    def hours_delta(self) -> float:
        return self.hours_after - self.hours_before


@dataclass(frozen=True, slots=True)
class Preview:
    """The difference between two final schedules over one range.

    ``shifts_added``/``shifts_removed`` are final-schedule shifts found only after /
    only before (so ``render(after) == sorted(render(before) - removed + added)``);
    ``gaps_added``/``gaps_removed`` are the time nobody covers only after / only
    before, as maximal intervals; ``changes`` lists only people whose shifts differ.
    """

    changes: tuple[PersonChange, ...]
    shifts_added: tuple[Shift, ...]
    shifts_removed: tuple[Shift, ...]
    gaps_added: tuple[Gap, ...]
    gaps_removed: tuple[Gap, ...]
    summary: tuple[str, ...]

    @property
    def unchanged(self) -> bool:
        return not self.shifts_added and not self.shifts_removed


def diff(
    before: Schedule,
    after: Schedule,
    start: datetime,
    end: datetime,
    *,
    names: Mapping[str, str] | None = None,
) -> Preview:
    """Compare the final schedules of ``before`` and ``after`` over ``[start, end)``.

    ``names`` maps user ids to display names for the summary (default: the id).
    """
    shifts_before = rules.render(before, start, end)
    shifts_after = rules.render(after, start, end)
    old, new = set(shifts_before), set(shifts_after)
    added = tuple(s for s in shifts_after if s not in old)
    removed = tuple(s for s in shifts_before if s not in new)
    if not added and not removed:
        return Preview((), (), (), (), (), (NO_CHANGE,))
    gaps_before = rules.gaps(before, start, end)
    gaps_after = rules.gaps(after, start, end)
    gaps_added = tuple(_minus(gaps_after, gaps_before))
    gaps_removed = tuple(_minus(gaps_before, gaps_after))
    changes = _people(shifts_before, shifts_after, added, removed)
    label = names or {}
    zone = ZoneInfo(after.time_zone)
    summary = [_person_sentence(c, label.get(c.user, c.user)) for c in changes]
    summary.extend(f"A {_length(s, e)} gap appears on {_when(s, zone)}" for s, e in gaps_added)
    summary.extend(f"A {_length(s, e)} gap on {_when(s, zone)} is filled" for s, e in gaps_removed)
    if not summary:  # same people at the same times, only the source differs
        count = len(added)
        verb = "changes" if count == 1 else "change"
        summary.append(f"{count} {_plural(count, 'shift')} {verb} source only.")
    return Preview(changes, added, removed, gaps_added, gaps_removed, tuple(summary))


def _people(
    shifts_before: Sequence[Shift],
    shifts_after: Sequence[Shift],
    added: Iterable[Shift],
    removed: Iterable[Shift],
) -> tuple[PersonChange, ...]:
    """Everyone whose own shifts differ, biggest change in hours first."""
    touched = {s.user for s in added} | {s.user for s in removed}
    count_before = Counter(s.user for s in shifts_before)
    count_after = Counter(s.user for s in shifts_after)
    hours_before = _hours(shifts_before)
    hours_after = _hours(shifts_after)
    changes: list[PersonChange] = []
    for user in touched:
        times_before = {(s.start_at, s.end_at) for s in shifts_before if s.user == user}
        times_after = {(s.start_at, s.end_at) for s in shifts_after if s.user == user}
        if times_before == times_after:
            continue  # only the source changed (an override over one's own turn)
        changes.append(
            PersonChange(
                user,
                count_before[user],
                count_after[user],
                hours_before.get(user, 0.0),
                hours_after.get(user, 0.0),
            )
        )
    changes.sort(key=lambda c: (-abs(c.hours_delta), c.user))
    return tuple(changes)


def _hours(shifts: Iterable[Shift]) -> dict[str, float]:
    total: dict[str, timedelta] = {}
    for s in shifts:
        total[s.user] = total.get(s.user, timedelta()) + (s.end_at - s.start_at)
    return {user: value / _HOUR for user, value in total.items()}


def _minus(a: Sequence[Gap], b: Sequence[Gap]) -> list[Gap]:
    """The parts of the sorted disjoint intervals ``a`` outside those of ``b``."""
    out: list[Gap] = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        cursor, i = start, j
        while i < len(b) and b[i][0] < end:
            if b[i][0] > cursor:
                out.append((cursor, b[i][0]))
            cursor = max(cursor, b[i][1])
            i += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def _person_sentence(change: PersonChange, name: str) -> str:
    delta = change.shifts_after - change.shifts_before
    hours = _signed_hours(change.hours_delta)
    if delta < 0:
        return f"{name} loses {-delta} {_plural(-delta, 'shift')} ({hours})"
    if delta > 0:
        return f"{name} gains {delta} {_plural(delta, 'shift')} ({hours})"
    count = change.shifts_after
    if hours == "same hours":
        verb = "moves" if count == 1 else "move"
        return f"{name}'s {count} {_plural(count, 'shift')} {verb} (same hours)"
    return f"{name} keeps {count} {_plural(count, 'shift')} ({hours})"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else f"{word}s"


def _number(value: float) -> str:
    rounded = round(value, 2)
    return f"{rounded:.0f}" if rounded == int(rounded) else f"{rounded:g}"


def _signed_hours(value: float) -> str:
    if abs(value) < 1e-9:
        return "same hours"
    sign = "-" if value < 0 else "+"
    return f"{sign}{_number(abs(value))} h"


def _length(start: datetime, end: datetime) -> str:
    """The adjective form of a duration: "6-hour", "90-minute", "7.5-hour"."""
    length = end - start
    if length % _HOUR and length < 3 * _HOUR:
        return f"{_number(length / timedelta(minutes=1))}-minute"
    return f"{_number(round(length / _HOUR, 1))}-hour"


def _when(instant: datetime, zone: ZoneInfo) -> str:
    """The instant on the wall clock of ``zone``, as "Sat 12 Dec 02:00"."""
    local = instant.astimezone(zone)
    return (
        f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} "
        f"{local.hour:02d}:{local.minute:02d}"
    )
