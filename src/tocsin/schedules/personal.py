"""Actions people take for themselves: time off, cover requests, handoff notes, feed tokens.

Actions never commit; the adapter owns the transaction. Time off applies to every
schedule the person is in; ``preview_*`` return one preview per such schedule.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Final

from sqlalchemy import update
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from tocsin.kernel.ids import hash_secret, new_secret
from tocsin.people import repo as people_repo
from tocsin.people.rules import allows, authorize
from tocsin.schedules import actions, convert, model, preview, repo
from tocsin.schedules.actions import PREVIEW_WEEKS
from tocsin.schedules.checks import check_interval, check_weeks
from tocsin.schedules.tables import (
    CalendarFeedToken,
    CoverRequest,
    HandoffNote,
    TimeOffRow,
)

NOTE_MAX: Final = 4000
TimeOffChange = Callable[[tuple[model.TimeOff, ...]], tuple[model.TimeOff, ...]]


def _authorize_for_person(actor: Actor, user_id: uuid.UUID, what: str = "time off") -> None:
    """People act for themselves; managers and admins for anyone."""
    authorize(actor, "schedules.write")
    if actor.user_id != user_id and not allows(actor.role, "teams.write"):
        raise PermissionDenied(f"You may only change your own {what}.", code="auth.role")


def add_time_off(
    tx: Session,
    *,
    user_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
) -> TimeOffRow:
    """Record a person's time off; every rotation skips them for the turns it touches."""
    _authorize_for_person(actor, user_id)
    check_interval(start_at, end_at, reason)
    people_repo.get_user(tx, user_id)
    row = TimeOffRow(
        user_id=user_id, start_at=start_at, end_at=end_at, reason=reason, created_at=now
    )
    tx.add(row)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="time_off.added",
        subject_type="user",
        subject_id=user_id,
        at=now,
        data={"time_off_id": str(row.id)},
    )
    return row


def preview_add_time_off(
    tx: Session,
    *,
    user_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
    weeks: int = PREVIEW_WEEKS,
) -> dict[uuid.UUID, preview.Preview]:
    """Per schedule the person is in: what the time off would change."""
    _authorize_for_person(actor, user_id)
    check_weeks(weeks)
    check_interval(start_at, end_at, reason)
    people_repo.get_user(tx, user_id)
    extra = model.TimeOff(convert.user_key(user_id), start_at, end_at)
    return _time_off_previews(tx, user_id, now, weeks, lambda t: (*t, extra))


def remove_time_off(tx: Session, *, time_off_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    row = repo.get_time_off(tx, time_off_id)
    _authorize_for_person(actor, row.user_id)
    audit.record(
        tx,
        actor=actor,
        kind="time_off.removed",
        subject_type="user",
        subject_id=row.user_id,
        at=now,
        data={"time_off_id": str(row.id)},
    )
    tx.delete(row)
    tx.flush()


def preview_remove_time_off(
    tx: Session,
    *,
    time_off_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    weeks: int = PREVIEW_WEEKS,
) -> dict[uuid.UUID, preview.Preview]:
    row = repo.get_time_off(tx, time_off_id)
    _authorize_for_person(actor, row.user_id)
    check_weeks(weeks)
    gone = convert.time_off_of(row)
    return _time_off_previews(
        tx, row.user_id, now, weeks, lambda t: tuple(x for x in t if x != gone)
    )


def _time_off_previews(
    tx: Session,
    user_id: uuid.UUID,
    now: datetime,
    weeks: int,
    change: TimeOffChange,
) -> dict[uuid.UUID, preview.Preview]:
    rows = [repo.get_schedule(tx, i) for i in repo.schedule_ids_with_user(tx, user_id)]
    loaded = repo.load_schedules(tx, rows, since=now)
    out: dict[uuid.UUID, preview.Preview] = {}
    for row in rows:
        before = loaded[row.id]
        after = model.Schedule(
            before.time_zone,
            before.layers,
            before.overrides,
            tuple(change(before.time_off)),
            before.holidays,
        )
        out[row.id] = actions.diff_over(tx, before, after, now, weeks)
    return out


def request_cover(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
    requester_id: uuid.UUID | None = None,
) -> CoverRequest:
    """Ask the schedule's other participants to cover a period; the first to accept wins.

    ``requester_id`` defaults to the actor. Delivery of the asks to teammates is the
    engine's job (it reads open requests); this records the request and audits it.
    """
    requester = requester_id or actor.user_id
    if requester is None:
        raise ValidationFailed.one("requester_id", "Say who needs cover.")
    _authorize_for_person(actor, requester, "cover requests")
    check_interval(start_at, end_at, reason)
    row = repo.get_schedule(tx, schedule_id)
    people_repo.get_user(tx, requester)
    request = CoverRequest(
        schedule_id=row.id,
        requester_id=requester,
        start_at=start_at,
        end_at=end_at,
        reason=reason,
        status="open",
        version=1,
        created_at=now,
        updated_at=now,
    )
    tx.add(request)
    tx.flush()
    asked = [str(u) for u in convert.participants_of(row) if u != requester]
    actions.audit_schedule(
        tx,
        actor,
        "cover.requested",
        row.id,
        now,
        {"cover_request_id": str(request.id), "asked": asked},
    )
    return request


def accept_cover(
    tx: Session,
    *,
    request_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    user_id: uuid.UUID | None = None,
    expected_version: int | None = None,
) -> CoverRequest:
    """``user_id`` (default the actor) takes the request: it becomes an override.

    The first accept wins: the request moves from open with a compare-and-set on
    ``version``; a later (or concurrent, losing) accept raises Conflict ``cover.taken``.
    """
    taker = user_id or actor.user_id
    if taker is None:
        raise ValidationFailed.one("user_id", "Say who takes the cover.")
    _authorize_for_person(actor, taker, "cover")
    request = repo.get_cover_request(tx, request_id)
    if taker == request.requester_id:
        raise ValidationFailed.one("user_id", "You cannot cover your own request.")
    version = request.version if expected_version is None else expected_version
    changed = rowcount(
        tx.execute(
            update(CoverRequest)
            .where(
                CoverRequest.id == request.id,
                CoverRequest.version == version,
                CoverRequest.status == "open",
            )
            .values(status="accepted", accepted_by=taker, version=version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    if changed != 1:
        raise Conflict("cover.taken", "This request was already taken or cancelled.")
    tx.refresh(request)
    override = actions.add_override(
        tx,
        schedule_id=request.schedule_id,
        user_id=taker,
        start_at=request.start_at,
        end_at=request.end_at,
        reason=f"Cover: {request.reason}".strip().rstrip(":")[:500],
        actor=actor,
        now=now,
    )
    request.override_id = override.id
    tx.flush()
    data = {"cover_request_id": str(request.id), "accepted_by": str(taker)}
    actions.audit_schedule(tx, actor, "cover.accepted", request.schedule_id, now, data)
    return request


def cancel_cover(tx: Session, *, request_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    """Withdraw an open request (the requester, or a manager). Safe to call twice."""
    request = repo.get_cover_request(tx, request_id)
    _authorize_for_person(actor, request.requester_id, "cover requests")
    if request.status == "cancelled":
        return
    if request.status != "open":
        raise Conflict("cover.taken", "This request was already taken; remove the override.")
    request.status = "cancelled"
    request.version += 1
    request.updated_at = now
    tx.flush()
    data = {"cover_request_id": str(request.id)}
    actions.audit_schedule(tx, actor, "cover.cancelled", request.schedule_id, now, data)


def leave_handoff_note(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    text: str,
    actor: Actor,
    now: datetime,
    for_shift_start_at: datetime | None = None,
    from_user_id: uuid.UUID | None = None,
) -> HandoffNote:
    """The outgoing person's summary for the next one (what is flapping, what may return)."""
    author = from_user_id or actor.user_id
    if author is None:
        raise ValidationFailed.one("from_user_id", "Say who leaves the note.")
    _authorize_for_person(actor, author, "handoff notes")
    body = text.strip()
    if not body or len(body) > NOTE_MAX:
        raise ValidationFailed.one("text", f"Write 1 to {NOTE_MAX} characters.")
    if for_shift_start_at is not None and not model.is_aware(for_shift_start_at):
        raise ValidationFailed.one("for_shift_start_at", "Give a time zone (aware datetime).")
    row = repo.get_schedule(tx, schedule_id)
    people_repo.get_user(tx, author)
    note = HandoffNote(
        schedule_id=row.id,
        from_user_id=author,
        text=body,
        for_shift_start_at=for_shift_start_at,
        created_at=now,
    )
    tx.add(note)
    tx.flush()
    actions.audit_schedule(tx, actor, "handoff.note_left", row.id, now, {"note_id": str(note.id)})
    return note


def rotate_calendar_token(tx: Session, *, user_id: uuid.UUID, actor: Actor, now: datetime) -> str:
    """A new calendar feed token for ``user_id``, returned once; the old one stops working.

    Anyone may rotate their own (every role may read schedules); admins anyone's.
    """
    authorize(actor, "tokens.own")
    if actor.user_id != user_id and not allows(actor.role, "people.write"):
        raise PermissionDenied("You may only rotate your own calendar token.", code="auth.role")
    people_repo.get_user(tx, user_id)
    raw = new_secret()
    row = repo.find_feed_token_of(tx, user_id)
    if row is None:
        tx.add(CalendarFeedToken(user_id=user_id, token_hash=hash_secret(raw), created_at=now))
    else:
        row.token_hash = hash_secret(raw)
        row.created_at = now
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="calendar.token_rotated",
        subject_type="user",
        subject_id=user_id,
        at=now,
        data={},
    )
    return raw
