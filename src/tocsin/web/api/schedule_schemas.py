"""Request and response bodies of the schedules API (shape only; rules stay in actions).

Instants and dates are bounded to 1970 to 2200 so no input can push rendering past
what ``datetime`` holds; wall-clock times are ``"HH:MM"`` strings in the schedule zone.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from tocsin.web.api.schemas import (
    Description,
    RequestBody,
    ResponseBody,
    TimeZone,
    storable,
)

FIRST_YEAR = 1970
LAST_YEAR = 2200


def in_range(value: datetime) -> datetime:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Use a time between {FIRST_YEAR} and {LAST_YEAR}.")
    return value


def day_in_range(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"Use a date between {FIRST_YEAR} and {LAST_YEAR}.")
    return value


Instant = Annotated[datetime, AfterValidator(in_range)]
Day = Annotated[date, AfterValidator(day_in_range)]
ScheduleName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable)]
LayerName = Annotated[str, Field(max_length=100), AfterValidator(storable)]
WallClock = Annotated[str, Field(min_length=4, max_length=8), AfterValidator(storable)]
Reason = Annotated[str, Field(max_length=500), AfterValidator(storable)]
NoteText = Annotated[str, Field(min_length=1, max_length=4000), AfterValidator(storable)]
Code = Annotated[str, Field(min_length=1, max_length=8), AfterValidator(storable)]
OnHolidays = Literal["normal", "off", "only"]


class HolidaysIn(RequestBody):
    country: Code
    subdivision: Code | None = None


class RestrictionIn(RequestBody):
    """Daily (no days) or weekly (``start_day``/``end_day``, 0 = Monday, end 7 = Sunday night)."""

    start: WallClock
    end: WallClock
    start_day: int | None = Field(default=None, ge=-1, le=8)
    end_day: int | None = Field(default=None, ge=-1, le=8)


class ShadowIn(RequestBody):
    user_id: uuid.UUID
    shadows_user_id: uuid.UUID


class LayerIn(RequestBody):
    name: LayerName = ""
    participants: list[uuid.UUID] = Field(default_factory=list, max_length=200)
    turn_hours: int = Field(ge=-1_000_000, le=24 * 366 * 5)
    start_date: Day
    handoff_time: WallClock = "09:00"
    restrictions: list[RestrictionIn] = Field(default_factory=list, max_length=50)
    end_at: Instant | None = None
    on_holidays: OnHolidays = "normal"
    shadows: list[ShadowIn] = Field(default_factory=list, max_length=50)


class LayersIn(RequestBody):
    layers: list[LayerIn] = Field(max_length=20)


class ScheduleCreate(RequestBody):
    name: ScheduleName
    time_zone: TimeZone
    description: Description = ""
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50)
    holidays: HolidaysIn | None = None
    layers: list[LayerIn] = Field(default_factory=list, max_length=20)


class ScheduleUpdate(RequestBody):
    """Fields left out keep their value; ``holidays: null`` removes the calendar."""

    name: ScheduleName | None = None
    time_zone: TimeZone | None = None
    description: Description | None = None
    team_ids: list[uuid.UUID] | None = Field(default=None, max_length=50)
    holidays: HolidaysIn | None = None


class ShadowOut(ResponseBody):
    user_id: uuid.UUID
    shadows_user_id: uuid.UUID


class LayerOut(BaseModel):
    id: uuid.UUID
    position: int
    name: str
    participants: list[uuid.UUID]
    turn_hours: int
    start_date: date
    handoff_time: str
    restrictions: list[dict[str, Any]]
    end_at: datetime | None
    on_holidays: str
    shadows: list[ShadowOut]


class HolidaysOut(BaseModel):
    country: str
    subdivision: str | None


class ScheduleOut(BaseModel):
    id: uuid.UUID
    name: str
    time_zone: str
    description: str
    team_ids: list[uuid.UUID]
    holidays: HolidaysOut | None
    layers: list[LayerOut]
    ics_feed_url: str = Field(
        description="This schedule's ICS feed; replace {token} with your calendar feed token."
    )
    created_at: datetime
    updated_at: datetime


class SchedulePage(BaseModel):
    data: list[ScheduleOut]
    next_cursor: str | None


class ShiftOut(BaseModel):
    user_id: uuid.UUID
    name: str
    start_at: datetime
    end_at: datetime
    source: str


class GapOut(BaseModel):
    start_at: datetime
    end_at: datetime


class FinalOut(BaseModel):
    schedule_id: uuid.UUID
    start: datetime
    end: datetime
    shifts: list[ShiftOut]
    gaps: list[GapOut]


class PersonChangeOut(BaseModel):
    user_id: uuid.UUID
    name: str
    shifts_before: int
    shifts_after: int
    hours_before: float
    hours_after: float


class PreviewOut(BaseModel):
    """What the change would do to the final schedule; nothing was saved."""

    dry_run: Literal[True] = True
    schedule_id: uuid.UUID
    start: datetime
    end: datetime
    unchanged: bool
    summary: list[str]
    changes: list[PersonChangeOut]
    shifts_added: list[ShiftOut]
    shifts_removed: list[ShiftOut]
    gaps_added: list[GapOut]
    gaps_removed: list[GapOut]


class PreviewList(BaseModel):
    dry_run: Literal[True] = True
    data: list[PreviewOut]


class PersonOnCall(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    time_zone: str
    source: str
    shadow: bool = False
    shadows_user_id: uuid.UUID | None = None


class NextShift(BaseModel):
    user_id: uuid.UUID
    name: str
    email: str
    time_zone: str
    start_at: datetime
    end_at: datetime


class ScheduleOnCallOut(BaseModel):
    schedule_id: uuid.UUID
    schedule_name: str
    time_zone: str
    team_ids: list[uuid.UUID]
    at: datetime
    oncall: list[PersonOnCall]
    until: datetime | None
    next: NextShift | None


class OnCallList(BaseModel):
    data: list[ScheduleOnCallOut]


class LoadOut(BaseModel):
    user_id: uuid.UUID
    name: str
    hours: float
    night_hours: float
    weekend_hours: float
    shifts: int


class LoadList(BaseModel):
    schedule_id: uuid.UUID
    start: datetime
    end: datetime
    data: list[LoadOut]


class OverrideIn(RequestBody):
    user_id: uuid.UUID
    start_at: Instant
    end_at: Instant
    reason: Reason = ""


class OverrideOut(ResponseBody):
    id: uuid.UUID
    schedule_id: uuid.UUID
    user_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    reason: str
    created_by: uuid.UUID | None
    created_at: datetime


class OverrideList(BaseModel):
    data: list[OverrideOut]


class TimeOffIn(RequestBody):
    start_at: Instant
    end_at: Instant
    reason: Reason = ""


class TimeOffOut(ResponseBody):
    id: uuid.UUID
    user_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    reason: str
    created_at: datetime


class TimeOffList(BaseModel):
    data: list[TimeOffOut]


class CoverIn(RequestBody):
    start_at: Instant
    end_at: Instant
    reason: Reason = ""


class CoverAccept(RequestBody):
    expected_version: int | None = Field(default=None, ge=0, le=1_000_000_000)


class CoverOut(ResponseBody):
    id: uuid.UUID
    schedule_id: uuid.UUID
    requester_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    reason: str
    status: str
    accepted_by: uuid.UUID | None
    override_id: uuid.UUID | None
    version: int
    created_at: datetime


class CoverList(BaseModel):
    data: list[CoverOut]


class NoteIn(RequestBody):
    text: NoteText
    for_shift_start_at: Instant | None = None


class NoteOut(ResponseBody):
    id: uuid.UUID
    schedule_id: uuid.UUID
    from_user_id: uuid.UUID
    text: str
    for_shift_start_at: datetime | None
    created_at: datetime


class NoteList(BaseModel):
    data: list[NoteOut]


class CalendarTokenOut(BaseModel):
    """Shown once: the token and the feed URLs built from it."""

    token: str
    user_feed_url: str
    schedule_feed_urls: dict[str, str]
