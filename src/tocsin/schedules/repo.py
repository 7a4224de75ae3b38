"""Queries of the schedules slice: ``get_*`` raises NotFound, ``find_*`` returns None."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.people.tables import User
from tocsin.schedules import convert, model, rules
from tocsin.schedules.tables import (
    CalendarFeedToken,
    CoverRequest,
    HandoffNote,
    HandoffRow,
    LayerParticipant,
    LayerRow,
    LayerShadow,
    OverrideRow,
    ScheduleRow,
    ScheduleTeam,
    TimeOffRow,
)

# How far ahead "who is next" looks.
NEXT_HORIZON = timedelta(weeks=8)


def get_schedule(tx: Session, schedule_id: uuid.UUID) -> ScheduleRow:
    row = tx.get(ScheduleRow, schedule_id)
    if row is None:
        raise NotFound("schedule", schedule_id)
    return row


def find_schedule_by_name(tx: Session, name: str) -> ScheduleRow | None:
    """Names are unique regardless of case."""
    return tx.execute(
        select(ScheduleRow).where(func.lower(ScheduleRow.name) == name.strip().lower())
    ).scalar_one_or_none()


def list_schedules(
    tx: Session, *, after: str | None = None, limit: int = 100, team_id: uuid.UUID | None = None
) -> Sequence[ScheduleRow]:
    """Schedules ordered by name; ``after`` is the last name of the previous page (cursor)."""
    stmt = select(ScheduleRow).order_by(ScheduleRow.name).limit(limit)
    if after:
        stmt = stmt.where(ScheduleRow.name > after)
    if team_id is not None:
        owned = select(ScheduleTeam.schedule_id).where(ScheduleTeam.team_id == team_id)
        stmt = stmt.where(ScheduleRow.id.in_(owned))
    return tx.execute(stmt).scalars().all()


def schedule_ids_with_user(tx: Session, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Schedules whose layers name ``user_id`` as participant or shadow."""
    as_participant = (
        select(LayerRow.schedule_id)
        .join(LayerParticipant, LayerParticipant.layer_id == LayerRow.id)
        .where(LayerParticipant.user_id == user_id)
    )
    as_shadow = (
        select(LayerRow.schedule_id)
        .join(LayerShadow, LayerShadow.layer_id == LayerRow.id)
        .where(LayerShadow.user_id == user_id)
    )
    found = tx.execute(as_participant.union(as_shadow)).scalars().all()
    return sorted(set(found))


def get_override(tx: Session, override_id: uuid.UUID) -> OverrideRow:
    row = tx.get(OverrideRow, override_id)
    if row is None:
        raise NotFound("override", override_id)
    return row


def list_overrides(
    tx: Session,
    schedule_ids: Iterable[uuid.UUID],
    *,
    ending_after: datetime | None = None,
    starting_before: datetime | None = None,
) -> Sequence[OverrideRow]:
    """Overrides of the schedules, by start; bounds keep long histories out of the way."""
    ids = list(schedule_ids)
    if not ids:
        return []
    stmt = select(OverrideRow).where(OverrideRow.schedule_id.in_(ids))
    if ending_after is not None:
        stmt = stmt.where(OverrideRow.end_at > ending_after)
    if starting_before is not None:
        stmt = stmt.where(OverrideRow.start_at < starting_before)
    return tx.execute(stmt.order_by(OverrideRow.start_at, OverrideRow.id)).scalars().all()


def get_time_off(tx: Session, time_off_id: uuid.UUID) -> TimeOffRow:
    row = tx.get(TimeOffRow, time_off_id)
    if row is None:
        raise NotFound("time_off", time_off_id)
    return row


def list_time_off(
    tx: Session,
    user_ids: Iterable[uuid.UUID] | None = None,
    *,
    ending_after: datetime | None = None,
) -> Sequence[TimeOffRow]:
    stmt = select(TimeOffRow)
    if user_ids is not None:
        ids = list(user_ids)
        if not ids:
            return []
        stmt = stmt.where(TimeOffRow.user_id.in_(ids))
    if ending_after is not None:
        stmt = stmt.where(TimeOffRow.end_at > ending_after)
    return tx.execute(stmt.order_by(TimeOffRow.start_at, TimeOffRow.id)).scalars().all()


def load_schedules(
    tx: Session, rows: Sequence[ScheduleRow], *, since: datetime | None = None
) -> dict[uuid.UUID, model.Schedule]:
    """Pure schedules for ``rows`` with three queries in all (layers load with the rows).

    ``since`` leaves out overrides and time off that ended before it.
    """
    overrides: dict[uuid.UUID, list[OverrideRow]] = {row.id: [] for row in rows}
    for o in list_overrides(tx, overrides, ending_after=since):
        overrides[o.schedule_id].append(o)
    people = {p for row in rows for p in convert.participants_of(row)}
    absences: dict[uuid.UUID, list[TimeOffRow]] = {}
    for t in list_time_off(tx, people, ending_after=since):
        absences.setdefault(t.user_id, []).append(t)
    out: dict[uuid.UUID, model.Schedule] = {}
    for row in rows:
        away = [t for p in convert.participants_of(row) for t in absences.get(p, ())]
        out[row.id] = convert.schedule_of(row, overrides[row.id], away)
    return out


def load_schedule(
    tx: Session, row: ScheduleRow, *, since: datetime | None = None
) -> model.Schedule:
    return load_schedules(tx, [row], since=since)[row.id]


@dataclass(frozen=True)
class ScheduleOnCall:
    """Who is on call for one schedule at an instant, the current shift and the next one."""

    schedule: ScheduleRow
    now: tuple[model.OnCall, ...]
    current: model.Shift | None
    next: model.Shift | None


def oncall_now(
    tx: Session, *, at: datetime, team_id: uuid.UUID | None = None
) -> list[ScheduleOnCall]:
    """Per schedule (by name, of ``team_id`` if given): who is on call at ``at`` and next."""
    return oncall_of(tx, list_schedules(tx, limit=100_000, team_id=team_id), at=at)


def oncall_of(tx: Session, rows: Sequence[ScheduleRow], *, at: datetime) -> list[ScheduleOnCall]:
    """Who is on call at ``at`` for each of ``rows``, the current shift and the next."""
    loaded = load_schedules(tx, rows, since=at)
    out: list[ScheduleOnCall] = []
    for row in rows:
        schedule = loaded[row.id]
        shifts = rules.render(schedule, at, at + NEXT_HORIZON)
        current = shifts[0] if shifts and shifts[0].start_at <= at else None
        upcoming = [s for s in shifts if s.start_at > at]
        out.append(
            ScheduleOnCall(
                schedule=row,
                now=rules.oncall_at(schedule, at),
                current=current,
                next=upcoming[0] if upcoming else None,
            )
        )
    return out


def users_by_id(tx: Session, ids: Iterable[uuid.UUID | str]) -> dict[uuid.UUID, User]:
    """Users by id (ids as UUIDs or model keys); unknown ids are left out."""
    wanted = {i if isinstance(i, uuid.UUID) else convert.user_id_of(i) for i in ids}
    if not wanted:
        return {}
    found = tx.execute(select(User).where(User.id.in_(wanted))).scalars().all()
    return {u.id: u for u in found}


def display_names(tx: Session, keys: Iterable[str]) -> dict[str, str]:
    """Model user keys to display names (for previews and feeds)."""
    return {convert.user_key(u.id): u.name for u in users_by_id(tx, keys).values()}


def find_feed_token(tx: Session, token_hash: str) -> CalendarFeedToken | None:
    return tx.execute(
        select(CalendarFeedToken).where(CalendarFeedToken.token_hash == token_hash)
    ).scalar_one_or_none()


def find_feed_token_of(tx: Session, user_id: uuid.UUID) -> CalendarFeedToken | None:
    return tx.execute(
        select(CalendarFeedToken).where(CalendarFeedToken.user_id == user_id)
    ).scalar_one_or_none()


def get_cover_request(tx: Session, request_id: uuid.UUID) -> CoverRequest:
    row = tx.get(CoverRequest, request_id)
    if row is None:
        raise NotFound("cover_request", request_id)
    return row


def list_cover_requests(
    tx: Session, schedule_id: uuid.UUID, *, status: str | None = None
) -> Sequence[CoverRequest]:
    stmt = select(CoverRequest).where(CoverRequest.schedule_id == schedule_id)
    if status is not None:
        stmt = stmt.where(CoverRequest.status == status)
    return tx.execute(stmt.order_by(CoverRequest.start_at, CoverRequest.id)).scalars().all()


def list_handoff_notes(
    tx: Session, schedule_id: uuid.UUID, *, limit: int = 50
) -> Sequence[HandoffNote]:
    """Newest first."""
    stmt = (
        select(HandoffNote)
        .where(HandoffNote.schedule_id == schedule_id)
        .order_by(HandoffNote.id.desc())
        .limit(limit)
    )
    return tx.execute(stmt).scalars().all()


def list_handoffs_of(
    tx: Session, user_id: uuid.UUID, *, since: datetime, until: datetime, limit: int = 50
) -> Sequence[tuple[HandoffRow, str]]:
    """A person's planned and past handoffs in ``[since, until]`` with schedule names, by time."""
    stmt = (
        select(HandoffRow, ScheduleRow.name)
        .join(ScheduleRow, ScheduleRow.id == HandoffRow.schedule_id)
        .where(HandoffRow.user_id == user_id, HandoffRow.at >= since, HandoffRow.at <= until)
        .order_by(HandoffRow.at, HandoffRow.kind)
        .limit(limit)
    )
    return [(row, name) for row, name in tx.execute(stmt).all()]
