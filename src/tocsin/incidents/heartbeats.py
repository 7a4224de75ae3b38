"""Heartbeat monitors: a missed ping opens an alert ("no data" is a failure); a ping resolves it.

Both directions go through ``intake.accept_events`` like any other event, so the
alert is deduplicated, grouped and timed exactly as a monitoring alert would be.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import NotFound, ValidationFailed
from tocsin.people.rules import authorize
from tocsin.services import repo as service_repo
from tocsin.services.tables import Heartbeat

from .events import Event
from .intake import Accepted, accept_events

INTERVAL_RANGE = (1, 7 * 24 * 60)
NAME_MAX = 100


def dedup_key(heartbeat: Heartbeat) -> str:
    return f"heartbeat:{heartbeat.id}"


def create_heartbeat(
    tx: Session,
    *,
    service_id: uuid.UUID,
    name: str,
    interval_minutes: int,
    actor: Actor,
    now: datetime,
) -> Heartbeat:
    """A new monitor, waiting for its first ping (it is not late before that)."""
    authorize(actor, "services.write")
    service = service_repo.get_service(tx, service_id)
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise ValidationFailed.one("name", f"Give a name of 1 to {NAME_MAX} characters.")
    low, high = INTERVAL_RANGE
    if (
        isinstance(interval_minutes, bool)
        or not isinstance(interval_minutes, int)
        or not low <= interval_minutes <= high
    ):
        raise ValidationFailed.one(
            "interval_minutes", f"Give a whole number of minutes from {low} to {high}."
        )
    heartbeat = Heartbeat(
        service_id=service.id,
        name=name,
        interval_minutes=interval_minutes,
        ping_key=secrets.token_hex(16),
        status="waiting",
        version=0,
        created_at=now,
    )
    tx.add(heartbeat)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="heartbeat.created",
        subject_type="service",
        subject_id=service.id,
        at=now,
        data={"heartbeat_id": str(heartbeat.id), "interval_minutes": interval_minutes},
    )
    return heartbeat


def list_heartbeats(tx: Session, service_id: uuid.UUID) -> Sequence[Heartbeat]:
    return (
        tx.execute(
            select(Heartbeat).where(Heartbeat.service_id == service_id).order_by(Heartbeat.id)
        )
        .scalars()
        .all()
    )


def ping(tx: Session, *, ping_key: str, now: datetime) -> Heartbeat:
    """Record a ping: the monitor is up until ``interval`` from now; resolves a missed one."""
    heartbeat = tx.execute(
        select(Heartbeat).where(Heartbeat.ping_key == ping_key)
    ).scalar_one_or_none()
    if heartbeat is None:
        raise NotFound("heartbeat", "this key")
    was_down = heartbeat.status == "down"
    heartbeat.last_ping_at = now
    heartbeat.next_due_at = now + timedelta(minutes=heartbeat.interval_minutes)
    heartbeat.status = "up"
    heartbeat.version += 1
    if was_down:
        accept_events(
            tx,
            items=[
                Accepted(
                    service_id=heartbeat.service_id,
                    integration_id=None,
                    kind="heartbeat",
                    event=Event(action="resolve", dedup_key=dedup_key(heartbeat)),
                )
            ],
            now=now,
        )
    tx.flush()
    return heartbeat


def check_due(tx: Session, *, now: datetime, limit: int = 100) -> int:
    """Open an alert for each monitor whose ping is overdue (compare-and-set per row)."""
    due = (
        tx.execute(
            select(Heartbeat)
            .where(Heartbeat.next_due_at <= now, Heartbeat.status == "up")
            .order_by(Heartbeat.next_due_at)
            .limit(limit)
        )
        .scalars()
        .all()
    )
    opened = 0
    for heartbeat in due:
        changed = tx.execute(
            update(Heartbeat)
            .where(Heartbeat.id == heartbeat.id, Heartbeat.version == heartbeat.version)
            .values(status="down", version=heartbeat.version + 1)
            .execution_options(synchronize_session=False)
        )
        if rowcount(changed) != 1:
            continue
        late = heartbeat.interval_minutes
        last = heartbeat.last_ping_at
        accept_events(
            tx,
            items=[
                Accepted(
                    service_id=heartbeat.service_id,
                    integration_id=None,
                    kind="heartbeat",
                    event=Event(
                        action="trigger",
                        dedup_key=dedup_key(heartbeat),
                        summary=f"No heartbeat from {heartbeat.name} for {late} minutes",
                        source=f"heartbeat:{heartbeat.name}",
                        severity="critical",
                        custom_details={
                            "description": (
                                f"The heartbeat {heartbeat.name} expects a ping every {late} "
                                f"minutes; the last one came at "
                                f"{'never' if last is None else last.isoformat()}. No data is "
                                "treated as a failure: check the sender and what it watches."
                            ),
                            "interval_minutes": late,
                            "last_ping_at": None if last is None else last.isoformat(),
                        },
                        client="Tocsin heartbeat",
                    ),
                )
            ],
            now=now,
        )
        opened += 1
    tx.flush()
    return opened
