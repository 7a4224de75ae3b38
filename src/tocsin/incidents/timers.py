"""Due incident timers, advanced by the engine: ack timeout, snooze end, auto-resolve, hold.

Each transition is compare-and-set on ``version`` (re-read under the batch's
transaction), so two engines or a retried cycle never apply one twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor

from . import paging, repo
from .tables import Incident
from .timeline import append
from .transitions import close_incident

ENGINE = Actor.system(name="Tocsin engine")


def _claim(tx: Session, incident: Incident) -> bool:
    """Bump the version if nobody else did since we read it (exactly one row = ours)."""
    result = tx.execute(
        update(Incident)
        .where(Incident.id == incident.id, Incident.version == incident.version)
        .values(version=incident.version + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) != 1:
        return False
    tx.refresh(incident)
    return True


def run_due(tx: Session, *, now: datetime, limit: int = 100) -> int:
    """Advance every incident whose timer has passed; returns how many changed."""
    done = 0
    for incident in repo.due_incidents(tx, now, limit):
        if not _claim(tx, incident):
            continue
        if incident.auto_resolve_at is not None and incident.auto_resolve_at <= now:
            close_incident(
                tx,
                incident,
                actor=ENGINE,
                now=now,
                why="Auto-resolved: no new alerts within the service's auto-resolve time.",
            )
        elif incident.ack_deadline_at is not None and incident.ack_deadline_at <= now:
            incident.status = "triggered"
            incident.acknowledged_at = None
            incident.ack_deadline_at = None
            incident.updated_at = now
            append(
                tx,
                incident,
                kind="incident.ack_timeout",
                actor=ENGINE,
                at=now,
                data={"why": "Acknowledged but not resolved within the ack timeout."},
            )
            paging.restart(tx, incident, now=now)
        elif incident.snoozed_until is not None and incident.snoozed_until <= now:
            incident.status = "triggered"
            incident.snoozed_until = None
            incident.acknowledged_at = None
            incident.updated_at = now
            append(tx, incident, kind="incident.unsnoozed", actor=ENGINE, at=now, data={})
            paging.restart(tx, incident, now=now)
        elif incident.held_until is not None and incident.held_until <= now:
            incident.held_until = None
            incident.urgency = "high"
            incident.updated_at = now
            append(
                tx,
                incident,
                kind="incident.released",
                actor=ENGINE,
                at=now,
                data={"why": "The service's support hours began: now high urgency."},
            )
            paging.restart(tx, incident, now=now)
        done += 1
    tx.flush()
    return done
