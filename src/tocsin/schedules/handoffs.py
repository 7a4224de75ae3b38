"""Durable handoffs: plan due rows a day ahead, prepare each message, settle it once.

The database is the timer: a ``handoffs`` row per shift start or end, planned from
the final schedule (idempotent: planning twice inserts nothing) and moved from
pending exactly once (compare-and-set on ``version``). Sending is the engine's
job; this module never commits and never touches the outbox.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.people.tables import User
from tocsin.schedules import convert, handoff_rules, repo, rules
from tocsin.schedules.handoff_rules import Message
from tocsin.schedules.tables import CoverRequest, HandoffNote, HandoffRow, ScheduleRow

AHEAD: Final = timedelta(hours=24)
# Planning also looks a little back, so a change made just before a handoff (an
# override starting now) still gets its row on the next planning pass.
BEHIND: Final = timedelta(minutes=5)
# A handoff found more than this late (the engine was down) is skipped, not sent.
MAX_LATE: Final = timedelta(hours=2)
# How far around a handoff delivery re-renders the schedule to confirm it and find
# the stretch's end and the outgoing person's stretch.
AROUND: Final = timedelta(days=35)


@dataclass(frozen=True)
class Outgoing:
    """A message to queue for a settled handoff or cover request."""

    user_id: uuid.UUID
    recipient: str
    message: Message
    note_id: uuid.UUID | None = None


def schedule_link(base_url: str, schedule_id: uuid.UUID) -> str:
    return f"{base_url.rstrip('/')}/schedules/{schedule_id}"


def plan(tx: Session, *, now: datetime, ahead: timedelta = AHEAD) -> int:
    """Insert a pending row for every shift start and end from ``now - BEHIND`` to
    ``now + ahead`` not planned yet; returns how many. Safe to call twice, and
    concurrently (the unique constraint decides; the loser skips the row).
    """
    start = now - BEHIND - timedelta(minutes=1)
    end = now + ahead
    rows = repo.list_schedules(tx, limit=100_000)
    if not rows:
        return 0
    loaded = repo.load_schedules(tx, rows, since=start)
    existing = {
        (r.schedule_id, r.user_id, r.kind, r.at)
        for r in tx.execute(
            select(HandoffRow).where(HandoffRow.at >= start, HandoffRow.at <= end)
        ).scalars()
    }
    inserted = 0
    for row in rows:
        shifts = rules.render(loaded[row.id], start, end)
        for h in handoff_rules.handoffs(shifts, start, end):
            if h.at < now - BEHIND:
                continue
            key = (row.id, convert.user_id_of(h.user), h.kind, h.at)
            if key in existing:
                continue
            existing.add(key)
            if _insert(tx, row.id, key[1], h.kind, h.at, now):
                inserted += 1
    return inserted


def _insert(
    tx: Session, schedule_id: uuid.UUID, user_id: uuid.UUID, kind: str, at: datetime, now: datetime
) -> bool:
    try:
        with tx.begin_nested():
            tx.add(
                HandoffRow(
                    schedule_id=schedule_id,
                    user_id=user_id,
                    kind=kind,
                    at=at,
                    status="pending",
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            tx.flush()
    except IntegrityError:  # another engine planned it first, or the person is gone
        return False
    return True


def due(tx: Session, *, now: datetime, limit: int) -> Sequence[HandoffRow]:
    """Pending rows whose instant has come, oldest first."""
    stmt = (
        select(HandoffRow)
        .where(HandoffRow.status == "pending", HandoffRow.at <= now)
        .order_by(HandoffRow.at, HandoffRow.id)
        .limit(limit)
    )
    return tx.execute(stmt).scalars().all()


def prepare(tx: Session, row: HandoffRow, *, now: datetime, base_url: str) -> Outgoing | None:
    """The message for a due row, or None when it should be skipped: it is more than
    ``MAX_LATE`` late, the person is inactive, or the schedule changed and the
    handoff no longer happens.
    """
    if now - row.at > MAX_LATE:
        return None
    schedule_row = tx.get(ScheduleRow, row.schedule_id)
    user = tx.get(User, row.user_id)
    if schedule_row is None or user is None or not user.is_active:
        return None
    low, high = row.at - AROUND, row.at + AROUND
    schedule = repo.load_schedule(tx, schedule_row, since=low)
    found = handoff_rules.handoffs(rules.render(schedule, low, high), low, high)
    handoff = handoff_rules.find(found, row.kind, convert.user_key(row.user_id), row.at)
    if handoff is None:
        return None
    people = [handoff.user] + ([handoff.counterpart] if handoff.counterpart else [])
    link = schedule_link(base_url, schedule_row.id)
    if handoff.kind == "end":
        names = repo.display_names(tx, people)
        message = handoff_rules.end_message(
            schedule=schedule_row.name, handoff=handoff, zone=user.time_zone, names=names, link=link
        )
        return Outgoing(user.id, user.email, message)
    candidates = [
        (convert.user_key(n.from_user_id), n.for_shift_start_at, n)
        for n in repo.list_handoff_notes(tx, schedule_row.id)
    ]
    wanted = handoff_rules.notes_for(
        handoff,
        [(a, f, handoff_rules.Note(a, n.text, n.created_at)) for a, f, n in candidates],
    )
    note_id = _first_note_id(candidates, wanted)
    names = repo.display_names(tx, people + [n.author for n in wanted])
    message = handoff_rules.start_message(
        schedule=schedule_row.name,
        handoff=handoff,
        zone=user.time_zone,
        names=names,
        notes=wanted,
        link=link,
    )
    return Outgoing(user.id, user.email, message, note_id)


def _first_note_id(
    candidates: Sequence[tuple[str, datetime | None, HandoffNote]],
    wanted: Sequence[handoff_rules.Note],
) -> uuid.UUID | None:
    if not wanted:
        return None
    first = wanted[0]
    for author, _, note in candidates:
        if (
            author == first.author
            and note.text == first.text
            and note.created_at == first.created_at
        ):
            return note.id
    return None


def settle(
    tx: Session, row: HandoffRow, *, now: datetime, sent: bool, note_id: uuid.UUID | None = None
) -> bool:
    """Move ``row`` from pending to sent (or skipped); False if another instance did."""
    changed = rowcount(
        tx.execute(
            update(HandoffRow)
            .where(
                HandoffRow.id == row.id,
                HandoffRow.version == row.version,
                HandoffRow.status == "pending",
            )
            .values(
                status="sent" if sent else "skipped",
                note_id=note_id,
                version=row.version + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
    )
    return changed == 1


def unasked_cover_requests(tx: Session, *, limit: int) -> Sequence[CoverRequest]:
    """Open cover requests whose teammates have not been asked yet, oldest first."""
    stmt = (
        select(CoverRequest)
        .where(CoverRequest.status == "open", CoverRequest.notified_at.is_(None))
        .order_by(CoverRequest.created_at, CoverRequest.id)
        .limit(limit)
    )
    return tx.execute(stmt).scalars().all()


def claim_cover_asks(
    tx: Session, request: CoverRequest, *, now: datetime, base_url: str
) -> list[Outgoing]:
    """Mark the request asked (once: compare-and-set on ``notified_at``) and return one
    ask per teammate in the rotation; empty when another instance got there first.
    """
    changed = rowcount(
        tx.execute(
            update(CoverRequest)
            .where(
                CoverRequest.id == request.id,
                CoverRequest.status == "open",
                CoverRequest.notified_at.is_(None),
            )
            .values(notified_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        return []
    schedule_row = repo.get_schedule(tx, request.schedule_id)
    mates = [u for u in convert.participants_of(schedule_row) if u != request.requester_id]
    people = repo.users_by_id(tx, [request.requester_id, *mates])
    requester = people.get(request.requester_id)
    out: list[Outgoing] = []
    for mate in mates:
        user = people.get(mate)
        if user is None or not user.is_active:
            continue
        message = handoff_rules.cover_message(
            schedule=schedule_row.name,
            requester=requester.name if requester else "A teammate",
            start_at=request.start_at,
            end_at=request.end_at,
            reason=request.reason,
            zone=user.time_zone,
            link=schedule_link(base_url, schedule_row.id),
        )
        out.append(Outgoing(user.id, user.email, message))
    return out
