"""Plain values the schedule rules work on, and their validation.

Every instant is aware UTC; wall-clock values (handoff times, restriction windows)
are ``time`` values read in the schedule's IANA zone. See ``docs/schedules.md``.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Final, Literal, NamedTuple

import holidays

from tocsin.kernel.errors import FieldError, ValidationFailed

Source = str  # "override" or "layer:<index>"
OVERRIDE: Final = "override"
DAY_NAMES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
OnHolidays = Literal["normal", "off", "only"]
ON_HOLIDAYS: Final = ("normal", "off", "only")


@dataclass(frozen=True, slots=True)
class Restriction:
    """A window in which a layer has someone; outside every window it is empty.

    Daily (``start_day`` and ``end_day`` are None): every day from ``start`` to ``end``.
    Weekly: from ``start_day`` at ``start`` to ``end_day`` at ``end`` (0 = Monday).
    An ``end`` of 00:00 on a daily window means midnight at the end of the day; a
    weekly window may end on day 7 at 00:00 (midnight at the end of Sunday).
    Windows never wrap: use two windows for "22:00-06:00".
    """

    start: time
    end: time
    start_day: int | None = None
    end_day: int | None = None

    @property
    def kind(self) -> Literal["daily", "weekly"]:
        return "daily" if self.start_day is None and self.end_day is None else "weekly"


@dataclass(frozen=True, slots=True)
class Shadow:
    """``user`` rides along whenever ``shadows_user`` is on call from this layer."""

    user: str
    shadows_user: str


@dataclass(frozen=True, slots=True)
class Layer:
    """A rotation: ``participants`` take turns of ``turn_hours`` from the anchor.

    The anchor is ``handoff`` (wall clock, schedule zone) on ``start``; the layer is
    empty before the anchor and from ``end`` (aware UTC) on.
    """

    participants: tuple[str, ...]
    turn_hours: int
    start: date
    handoff: time
    restrictions: tuple[Restriction, ...] = ()
    end: datetime | None = None
    shadows: tuple[Shadow, ...] = ()
    # "off": empty on the schedule's public holidays; "only": empty on every other day.
    on_holidays: OnHolidays = "normal"


@dataclass(frozen=True, slots=True)
class Override:
    """``user`` is on call from ``start_at`` to ``end_at``, whoever the layers say."""

    user: str
    start_at: datetime
    end_at: datetime


@dataclass(frozen=True, slots=True)
class TimeOff:
    """``user`` is away; the rotation skips them for every turn this touches."""

    user: str
    start_at: datetime
    end_at: datetime


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Public holidays of ``country`` (ISO 3166-1 alpha-2, as the ``holidays`` package
    names it) and optionally one of its ``subdivision``s (state, province, nation).

    A holiday is a whole local day in the schedule's zone; layers opt in with
    ``Layer.on_holidays``.
    """

    country: str
    subdivision: str | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """Ordered layers (a later layer wins where it has someone), overrides on top."""

    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    time_off: tuple[TimeOff, ...] = ()
    holidays: HolidayCalendar | None = None


class Shift(NamedTuple):
    """One merged interval of the final schedule (a named tuple: cheap to build)."""

    user: str
    start_at: datetime
    end_at: datetime
    source: Source


@dataclass(frozen=True, slots=True)
class OnCall:
    """Who is on call at an instant; shadows ride along and are never expected to act."""

    user: str
    source: Source
    shadow: bool = False
    shadows_user: str | None = None


@dataclass(frozen=True, slots=True)
class Load:
    """Per-person load over a range, in hours."""

    user: str
    hours: float
    night_hours: float
    weekend_hours: float
    shifts: int


@cache
def zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


@cache
def _holiday_countries() -> dict[str, frozenset[str]]:
    return {
        country: frozenset(subdivisions)
        for country, subdivisions in holidays.list_supported_countries().items()
    }


def _calendar_errors(calendar: HolidayCalendar) -> list[FieldError]:
    countries = _holiday_countries()
    if calendar.country not in countries:
        return [
            FieldError(
                "holidays.country",
                f"Unknown country {calendar.country!r}; use an ISO 3166-1 alpha-2 code "
                "such as US or GB.",
            )
        ]
    if calendar.subdivision is not None and calendar.subdivision not in countries[calendar.country]:
        return [
            FieldError(
                "holidays.subdivision",
                f"Unknown subdivision {calendar.subdivision!r} of {calendar.country}.",
            )
        ]
    return []


def is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.utcoffset() is not None


def _restriction_errors(r: Restriction, path: str) -> list[FieldError]:
    errors: list[FieldError] = []
    if r.kind == "daily":
        end_minute = r.end.hour * 60 + r.end.minute if r.end != time(0) else 1440
        start_minute = r.start.hour * 60 + r.start.minute
        if (end_minute, r.end.second, r.end.microsecond) <= (
            start_minute,
            r.start.second,
            r.start.microsecond,
        ):
            errors.append(FieldError(f"{path}.end", "The window must end after it starts."))
        return errors
    if r.start_day is None or not 0 <= r.start_day <= 6:
        errors.append(FieldError(f"{path}.start_day", "Use a weekday from 0 (Mon) to 6 (Sun)."))
    if r.end_day is None or not 0 <= r.end_day <= 7 or (r.end_day == 7 and r.end != time(0)):
        errors.append(
            FieldError(f"{path}.end_day", "Use a weekday from 0 (Mon) to 6 (Sun), or 7 at 00:00.")
        )
    if not errors:
        assert r.start_day is not None and r.end_day is not None
        if (r.end_day, r.end) <= (r.start_day, r.start):
            errors.append(FieldError(f"{path}.end", "The window must end after it starts."))
    return errors


def _interval_errors(start: datetime, end: datetime, path: str) -> list[FieldError]:
    errors = [
        FieldError(f"{path}.{name}", "Give a time zone (aware datetime), not a naive one.")
        for name, value in (("start_at", start), ("end_at", end))
        if not is_aware(value)
    ]
    if not errors and end <= start:
        errors.append(FieldError(f"{path}.end_at", "The end must be after the start."))
    return errors


def validate(schedule: Schedule) -> Schedule:
    """Return ``schedule`` unchanged or raise ValidationFailed naming every bad field."""
    errors: list[FieldError] = []
    if schedule.time_zone not in zone_names():
        errors.append(
            FieldError(
                "time_zone",
                f"Unknown time zone {schedule.time_zone!r}; use an IANA name such as "
                "Europe/London.",
            )
        )
    if schedule.holidays is not None:
        errors.extend(_calendar_errors(schedule.holidays))
    for i, layer in enumerate(schedule.layers):
        path = f"layers[{i}]"
        if layer.on_holidays not in ON_HOLIDAYS:
            errors.append(FieldError(f"{path}.on_holidays", "Use one of normal, off or only."))
        elif layer.on_holidays != "normal" and schedule.holidays is None:
            errors.append(
                FieldError(
                    f"{path}.on_holidays",
                    "Choose the schedule's holiday calendar first, or keep this layer normal.",
                )
            )
        if layer.turn_hours <= 0:
            errors.append(FieldError(f"{path}.turn_hours", "A turn must last at least one hour."))
        if layer.end is not None and not is_aware(layer.end):
            errors.append(
                FieldError(f"{path}.end", "Give a time zone (aware datetime), not a naive one.")
            )
        for j, restriction in enumerate(layer.restrictions):
            errors.extend(_restriction_errors(restriction, f"{path}.restrictions[{j}]"))
        for j, shadow in enumerate(layer.shadows):
            if shadow.user == shadow.shadows_user:
                errors.append(
                    FieldError(f"{path}.shadows[{j}].user", "Nobody can shadow themselves.")
                )
    valid: list[tuple[datetime, datetime, int]] = []
    for i, override in enumerate(schedule.overrides):
        found = _interval_errors(override.start_at, override.end_at, f"overrides[{i}]")
        errors.extend(found)
        if not found:
            valid.append((override.start_at, override.end_at, i))
    valid.sort()
    latest: tuple[datetime, int] | None = None  # the furthest end so far, and whose
    for start, end, i in valid:
        if latest is not None and start < latest[0]:
            errors.append(
                FieldError(
                    f"overrides[{i}].start_at", f"This override overlaps overrides[{latest[1]}]."
                )
            )
        if latest is None or end > latest[0]:
            latest = (end, i)
    for i, off in enumerate(schedule.time_off):
        errors.extend(_interval_errors(off.start_at, off.end_at, f"time_off[{i}]"))
    if errors:
        raise ValidationFailed("The schedule has invalid fields.", errors)
    return schedule


def check_range(start: datetime, end: datetime) -> None:
    errors = [
        FieldError(name, "Give a time zone (aware datetime), not a naive one.")
        for name, value in (("start", start), ("end", end))
        if not is_aware(value)
    ]
    if not errors and end <= start:
        errors.append(FieldError("end", "The end must be after the start."))
    if errors:
        raise ValidationFailed("The range is invalid.", errors)


def check_instant(at: datetime, field: str = "at") -> None:
    if not is_aware(at):
        raise ValidationFailed.one(field, "Give a time zone (aware datetime), not a naive one.")
