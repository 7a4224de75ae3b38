"""What the schedule pages show: timelines as positioned bars, on-call summaries, gap warnings.

Bars are positioned by class (``tl-l-N``/``tl-w-N``: N quarter-percents, served by
``timeline_css``) because the Content-Security-Policy forbids inline styles.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Final

from sqlalchemy.orm import Session

from tocsin.people.tables import User
from tocsin.schedules import model, repo, rules
from tocsin.schedules.handoff_rules import when
from tocsin.schedules.tables import ScheduleRow
from tocsin.web.pages.render import zone

STEPS: Final = 400  # positions in quarter-percents
DAYS: Final = 14
GAP_WARNING_DAYS: Final = 7


@dataclass(frozen=True)
class Bar:
    """One positioned interval of a timeline row."""

    kind: str  # shift | override | gap
    label: str
    left: int
    width: int
    start_at: datetime
    end_at: datetime

    @property
    def css(self) -> str:
        return f"tl-bar tl-{self.kind} tl-l-{self.left} tl-w-{self.width}"


@dataclass(frozen=True)
class Row:
    title: str
    bars: list[Bar]
    final: bool = False


@dataclass(frozen=True)
class Timeline:
    start: datetime
    end: datetime
    ticks: list[tuple[int, str]]  # (left, "Mon 7")
    now_left: int | None
    rows: list[Row]
    shifts: list[tuple[model.Shift, str]]  # final shifts with display names
    gaps: list[tuple[datetime, datetime]]


def window(now: datetime, zone_name: str, days: int = DAYS) -> tuple[datetime, datetime]:
    """From local midnight today in the viewer's zone, ``days`` local days long."""
    tz = zone(zone_name)
    local = now.astimezone(tz)
    start = datetime.combine(local.date(), time(0), tzinfo=tz)
    end = datetime.combine(local.date() + timedelta(days=days), time(0), tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _pos(at: datetime, start: datetime, end: datetime) -> int:
    span = (end - start).total_seconds()
    return max(0, min(STEPS, round((at - start).total_seconds() / span * STEPS)))


def _bar(kind: str, label: str, s: datetime, e: datetime, start: datetime, end: datetime) -> Bar:
    left = _pos(s, start, end)
    width = max(1, _pos(e, start, end) - left)
    return Bar(kind, label, min(left, STEPS - 1), width, s, e)


def _bars(
    shifts: Sequence[model.Shift], names: Mapping[str, str], lo: datetime, hi: datetime
) -> list[Bar]:
    return [
        _bar(
            "override" if s.source == model.OVERRIDE else "shift",
            names.get(s.user, "Unknown person"),
            s.start_at,
            s.end_at,
            lo,
            hi,
        )
        for s in shifts
    ]


def timeline(
    row: ScheduleRow,
    schedule: model.Schedule,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    names: Mapping[str, str],
    viewer_zone: str,
) -> Timeline:
    """Each layer on its own (no overrides) and the final schedule over ``[start, end)``."""
    tz = zone(viewer_zone)
    ticks: list[tuple[int, str]] = []
    day = start.astimezone(tz).date()
    while True:
        at = datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)
        if at >= end:
            break
        ticks.append((_pos(at, start, end), f"{model.DAY_NAMES[day.weekday()]} {day.day}"))
        day += timedelta(days=1)
    rows: list[Row] = []
    for index, layer in enumerate(schedule.layers):
        alone = model.Schedule(
            schedule.time_zone, (layer,), (), schedule.time_off, schedule.holidays
        )
        title = (row.layers[index].name if index < len(row.layers) else "") or f"Layer {index + 1}"
        rows.append(Row(title, _bars(rules.render(alone, start, end), names, start, end)))
    final = rules.render(schedule, start, end)
    gaps = rules.gaps(schedule, start, end)
    bars = _bars(final, names, start, end)
    bars += [_bar("gap", "Nobody on call", s, e, start, end) for s, e in gaps]
    rows.append(Row("Final schedule", sorted(bars, key=lambda b: b.start_at), final=True))
    now_left = _pos(now, start, end) if start <= now < end else None
    shifts = [(s, names.get(s.user, "Unknown person")) for s in final]
    return Timeline(start, end, ticks, now_left, rows, shifts, gaps)


def local(at: datetime, zone_name: str) -> str:
    return when(at, zone_name)


def duration(start: datetime, end: datetime) -> str:
    minutes = round((end - start).total_seconds() / 60)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return f"{hours} h {rest} min"
    return f"{hours} h" if hours else f"{rest} min"


@dataclass(frozen=True)
class GapWarning:
    schedule: ScheduleRow
    first: tuple[datetime, datetime]
    count: int


def gap_warnings(
    tx: Session, rows: Sequence[ScheduleRow], *, now: datetime, days: int = GAP_WARNING_DAYS
) -> dict[uuid.UUID, GapWarning]:
    """Per schedule with somebody-less time in the next ``days`` days: the first gap."""
    end = now + timedelta(days=days)
    loaded = repo.load_schedules(tx, rows, since=now)
    out: dict[uuid.UUID, GapWarning] = {}
    for row in rows:
        found = rules.gaps(loaded[row.id], now, end)
        if found:
            out[row.id] = GapWarning(row, found[0], len(found))
    return out


def all_gap_warnings(
    tx: Session, *, now: datetime, days: int = GAP_WARNING_DAYS
) -> list[GapWarning]:
    """Every schedule with a gap in the next ``days`` days, by name (for the dashboard)."""
    rows = repo.list_schedules(tx, limit=100_000)
    return list(gap_warnings(tx, rows, now=now, days=days).values())


def contact(user: User | None, now: datetime) -> dict[str, str] | None:
    """How to reach a person: email, zone and their local time now."""
    if user is None:
        return None
    local_now = now.astimezone(zone(user.time_zone))
    return {
        "name": user.name,
        "email": user.email,
        "time_zone": user.time_zone,
        "local_time": f"{local_now:%H:%M} {local_now.tzname()}",
        "id": str(user.id),
    }


def timeline_css() -> str:
    """The position classes of timeline bars (no inline styles under the CSP)."""
    lines = ["/* Generated by tocsin.web.pages.schedule_view.timeline_css */"]
    for n in range(STEPS + 1):
        lines.append(f".tl-l-{n}{{left:{n / 4:g}%}}")
    for n in range(1, STEPS + 1):
        lines.append(f".tl-w-{n}{{width:{n / 4:g}%}}")
    return "\n".join(lines) + "\n"
