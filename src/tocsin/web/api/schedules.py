"""Schedules: CRUD, layers (with dry run), the final schedule, who is on call, load."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from tocsin.kernel.errors import ValidationFailed
from tocsin.people.rules import authorize
from tocsin.people.tables import User
from tocsin.schedules import actions, calendar, convert, model, preview, repo, rules
from tocsin.schedules.convert import LayerInput
from tocsin.schedules.tables import ScheduleRow
from tocsin.web.api import pagination
from tocsin.web.api.schedule_schemas import (
    FinalOut,
    GapOut,
    HolidaysOut,
    LayerIn,
    LayerOut,
    LayersIn,
    LoadList,
    LoadOut,
    NextShift,
    OnCallList,
    PersonChangeOut,
    PersonOnCall,
    PreviewOut,
    ScheduleCreate,
    ScheduleOnCallOut,
    ScheduleOut,
    SchedulePage,
    ScheduleUpdate,
    ShadowOut,
    ShiftOut,
)
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(tags=["schedules"])

MAX_RANGE = timedelta(days=366)
DryRun = Annotated[bool, Query(description="Preview the change; save nothing.")]
Weeks = Annotated[int, Query(ge=1, le=12, description="Weeks ahead the preview covers.")]
At = Annotated[datetime | None, Query(description="An instant with its offset; default now.")]


# Conversions -----------------------------------------------------------------------------


def layer_inputs(layers: Sequence[LayerIn]) -> list[LayerInput]:
    return [
        LayerInput(
            name=x.name,
            participants=list(x.participants),
            turn_hours=x.turn_hours,
            start_date=x.start_date,
            handoff_time=x.handoff_time,
            restrictions=[r.model_dump() for r in x.restrictions],
            end_at=x.end_at,
            on_holidays=x.on_holidays,
            shadows=[(s.user_id, s.shadows_user_id) for s in x.shadows],
        )
        for x in layers
    ]


def schedule_out(row: ScheduleRow, base_url: str) -> ScheduleOut:
    holidays = (
        HolidaysOut(country=row.holiday_country, subdivision=row.holiday_subdivision)
        if row.holiday_country
        else None
    )
    return ScheduleOut(
        id=row.id,
        name=row.name,
        time_zone=row.time_zone,
        description=row.description,
        team_ids=[t.team_id for t in row.teams],
        holidays=holidays,
        layers=[
            LayerOut(
                id=x.id,
                position=x.position,
                name=x.name,
                participants=[p.user_id for p in x.participants],
                turn_hours=x.turn_hours,
                start_date=x.start_date,
                handoff_time=x.handoff_time,
                restrictions=x.restrictions,
                end_at=x.end_at,
                on_holidays=x.on_holidays,
                shadows=[ShadowOut.model_validate(s) for s in x.shadows],
            )
            for x in row.layers
        ],
        ics_feed_url=calendar.schedule_feed_pattern(base_url, row.id),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def shift_out(shift: model.Shift, names: dict[str, str]) -> ShiftOut:
    return ShiftOut(
        user_id=convert.user_id_of(shift.user),
        name=names.get(shift.user, ""),
        start_at=shift.start_at,
        end_at=shift.end_at,
        source=shift.source,
    )


def preview_out(
    tx: Session, schedule_id: uuid.UUID, found: preview.Preview, now: datetime, weeks: int
) -> PreviewOut:
    keys = {c.user for c in found.changes}
    keys |= {s.user for s in (*found.shifts_added, *found.shifts_removed)}
    names = repo.display_names(tx, keys)
    return PreviewOut(
        schedule_id=schedule_id,
        start=now,
        end=now + timedelta(weeks=weeks),
        unchanged=found.unchanged,
        summary=list(found.summary),
        changes=[
            PersonChangeOut(
                user_id=convert.user_id_of(c.user),
                name=names.get(c.user, ""),
                shifts_before=c.shifts_before,
                shifts_after=c.shifts_after,
                hours_before=c.hours_before,
                hours_after=c.hours_after,
            )
            for c in found.changes
        ],
        shifts_added=[shift_out(s, names) for s in found.shifts_added],
        shifts_removed=[shift_out(s, names) for s in found.shifts_removed],
        gaps_added=[GapOut(start_at=s, end_at=e) for s, e in found.gaps_added],
        gaps_removed=[GapOut(start_at=s, end_at=e) for s, e in found.gaps_removed],
    )


def checked_range(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """Default: now to two weeks ahead; at most a year; both need an offset."""
    low = start or now
    high = end or low + timedelta(weeks=2)
    model.check_range(low, high)
    if high - low > MAX_RANGE:
        raise ValidationFailed.one("end", "Ask for at most 366 days at once.")
    return low, high


def instant(at: datetime | None, now: datetime) -> datetime:
    value = at or now
    model.check_instant(value)
    return value


# Routes ----------------------------------------------------------------------------------


@router.get("/schedules", summary="List schedules by name (optionally of one team)")
def list_schedules(
    principal: CurrentPrincipal,
    services: AppServices,
    team: uuid.UUID | None = None,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> SchedulePage:
    authorize(principal.actor, "schedules.read")
    after = pagination.decode(cursor)
    base = services.settings.base_url
    with services.db.read() as tx:
        found = repo.list_schedules(tx, after=after, limit=limit + 1, team_id=team)
        page = [schedule_out(s, base) for s in found[:limit]]
    more = len(found) > limit
    return SchedulePage(data=page, next_cursor=pagination.encode(page[-1].name) if more else None)


@router.post("/schedules", status_code=201, summary="Create a schedule (optionally with layers)")
def create_schedule(
    body: ScheduleCreate, principal: CurrentPrincipal, services: AppServices
) -> ScheduleOut:
    with services.db.transaction() as tx:
        row = actions.create_schedule(
            tx,
            name=body.name,
            time_zone=body.time_zone,
            description=body.description,
            team_ids=body.team_ids,
            holiday_country=body.holidays.country if body.holidays else None,
            holiday_subdivision=body.holidays.subdivision if body.holidays else None,
            layers=layer_inputs(body.layers),
            actor=principal.actor,
            now=services.clock.now(),
        )
        return schedule_out(row, services.settings.base_url)


@router.get("/schedules/{schedule_id}", summary="One schedule with its layers")
def get_schedule(
    schedule_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> ScheduleOut:
    authorize(principal.actor, "schedules.read")
    with services.db.read() as tx:
        return schedule_out(repo.get_schedule(tx, schedule_id), services.settings.base_url)


@router.patch("/schedules/{schedule_id}", summary="Change a schedule (left out: unchanged)")
def update_schedule(
    schedule_id: uuid.UUID, body: ScheduleUpdate, principal: CurrentPrincipal, services: AppServices
) -> ScheduleOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    if "holidays" in changes:
        holidays = body.holidays
        changes["holiday_country"] = holidays.country if holidays else None
        changes["holiday_subdivision"] = holidays.subdivision if holidays else None
        del changes["holidays"]
    with services.db.transaction() as tx:
        row = actions.update_schedule(
            tx, schedule_id=schedule_id, actor=principal.actor, now=services.clock.now(), **changes
        )
        return schedule_out(row, services.settings.base_url)


@router.delete("/schedules/{schedule_id}", status_code=204, summary="Delete a schedule")
def delete_schedule(
    schedule_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> Response:
    with services.db.transaction() as tx:
        actions.delete_schedule(
            tx, schedule_id=schedule_id, actor=principal.actor, now=services.clock.now()
        )
    return Response(status_code=204)


@router.put(
    "/schedules/{schedule_id}/layers",
    summary="Replace the ordered layers; with ?dry_run=true only preview the change",
)
def replace_layers(
    schedule_id: uuid.UUID,
    body: LayersIn,
    principal: CurrentPrincipal,
    services: AppServices,
    dry_run: DryRun = False,
    weeks: Weeks = actions.PREVIEW_WEEKS,
) -> ScheduleOut | PreviewOut:
    now = services.clock.now()
    layers = layer_inputs(body.layers)
    if dry_run:
        with services.db.read() as tx:
            found = actions.preview_replace_layers(
                tx, schedule_id=schedule_id, layers=layers, actor=principal.actor, now=now,
                weeks=weeks,
            )  # fmt: skip
            return preview_out(tx, schedule_id, found, now, weeks)
    with services.db.transaction() as tx:
        row = actions.replace_layers(
            tx, schedule_id=schedule_id, layers=layers, actor=principal.actor, now=now
        )
        return schedule_out(row, services.settings.base_url)


@router.get("/schedules/{schedule_id}/final", summary="The final schedule: shifts and gaps")
def final_schedule(
    schedule_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    start: datetime | None = None,
    end: datetime | None = None,
) -> FinalOut:
    authorize(principal.actor, "schedules.read")
    low, high = checked_range(start, end, services.clock.now())
    with services.db.read() as tx:
        schedule = repo.load_schedule(tx, repo.get_schedule(tx, schedule_id), since=low)
        shifts = rules.render(schedule, low, high)
        names = repo.display_names(tx, {s.user for s in shifts})
    return FinalOut(
        schedule_id=schedule_id,
        start=low,
        end=high,
        shifts=[shift_out(s, names) for s in shifts],
        gaps=[GapOut(start_at=s, end_at=e) for s, e in rules.gaps(schedule, low, high)],
    )


@router.get("/schedules/{schedule_id}/load", summary="Per-person load: hours, nights, weekends")
def schedule_load(
    schedule_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    start: datetime | None = None,
    end: datetime | None = None,
) -> LoadList:
    authorize(principal.actor, "schedules.read")
    low, high = checked_range(start, end, services.clock.now())
    with services.db.read() as tx:
        schedule = repo.load_schedule(tx, repo.get_schedule(tx, schedule_id), since=low)
        found = rules.load(rules.render(schedule, low, high), schedule.time_zone)
        names = repo.display_names(tx, found)
    data = [
        LoadOut(
            user_id=convert.user_id_of(key),
            name=names.get(key, ""),
            hours=x.hours,
            night_hours=x.night_hours,
            weekend_hours=x.weekend_hours,
            shifts=x.shifts,
        )
        for key, x in sorted(found.items(), key=lambda kv: -kv[1].hours)
    ]
    return LoadList(schedule_id=schedule_id, start=low, end=high, data=data)


@router.get("/schedules/{schedule_id}/oncall", summary="Who is on call for one schedule")
def schedule_oncall(
    schedule_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices, at: At = None
) -> ScheduleOnCallOut:
    authorize(principal.actor, "schedules.read")
    when = instant(at, services.clock.now())
    with services.db.read() as tx:
        row = repo.get_schedule(tx, schedule_id)
        return oncall_out(tx, repo.oncall_of(tx, [row], at=when), when)[0]


@router.get("/oncall", summary="Who is on call now and next, per schedule, and how to reach them")
def oncall(
    principal: CurrentPrincipal,
    services: AppServices,
    team: uuid.UUID | None = None,
    at: At = None,
) -> OnCallList:
    authorize(principal.actor, "schedules.read")
    when = instant(at, services.clock.now())
    with services.db.read() as tx:
        return OnCallList(data=oncall_out(tx, repo.oncall_now(tx, at=when, team_id=team), when))


def oncall_out(
    tx: Session, entries: Sequence[repo.ScheduleOnCall], at: datetime
) -> list[ScheduleOnCallOut]:
    keys = {o.user for e in entries for o in e.now}
    keys |= {e.next.user for e in entries if e.next is not None}
    people = repo.users_by_id(tx, keys)

    def person(key: str) -> User | None:
        return people.get(convert.user_id_of(key))

    out: list[ScheduleOnCallOut] = []
    for e in entries:
        now_people = []
        for o in e.now:
            user = person(o.user)
            if user is None:
                continue
            now_people.append(
                PersonOnCall(
                    user_id=user.id,
                    name=user.name,
                    email=user.email,
                    time_zone=user.time_zone,
                    source=o.source,
                    shadow=o.shadow,
                    shadows_user_id=convert.user_id_of(o.shadows_user) if o.shadows_user else None,
                )
            )
        following = None
        upcoming = person(e.next.user) if e.next is not None else None
        if e.next is not None and upcoming is not None:
            following = NextShift(
                user_id=upcoming.id,
                name=upcoming.name,
                email=upcoming.email,
                time_zone=upcoming.time_zone,
                start_at=e.next.start_at,
                end_at=e.next.end_at,
            )
        out.append(
            ScheduleOnCallOut(
                schedule_id=e.schedule.id,
                schedule_name=e.schedule.name,
                time_zone=e.schedule.time_zone,
                team_ids=[t.team_id for t in e.schedule.teams],
                at=at,
                oncall=now_people,
                until=e.current.end_at if e.current is not None else None,
                next=following,
            )
        )
    return out
