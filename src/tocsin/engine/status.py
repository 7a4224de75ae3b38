"""Engine heartbeats: each instance records its cycles; readiness reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.db.session import Database, rowcount
from tocsin.engine.tables import EngineInstance
from tocsin.escalation.tables import EscalationState
from tocsin.notifications.tables import OutboundMessage


def record_cycle(
    tx: Session,
    *,
    instance_id: str,
    hostname: str,
    pid: int,
    started_at: datetime,
    now: datetime,
    duration_ms: float,
) -> None:
    """Upsert this instance's heartbeat."""
    row = tx.get(EngineInstance, instance_id)
    if row is None:
        row = EngineInstance(id=instance_id, hostname=hostname, pid=pid, started_at=started_at)
        tx.add(row)
    row.last_cycle_at = now
    row.last_cycle_ms = duration_ms


def forget(tx: Session, *, instance_id: str) -> None:
    tx.execute(delete(EngineInstance).where(EngineInstance.id == instance_id))


def purge_stale(tx: Session, *, now: datetime, older_than: timedelta) -> int:
    result = tx.execute(
        delete(EngineInstance).where(EngineInstance.last_cycle_at < now - older_than)
    )
    return rowcount(result)


@dataclass(frozen=True)
class EngineHealth:
    """Whether any engine instance completed a cycle recently, and how many did."""

    last_cycle_at: datetime | None
    instances: int
    ok: bool
    lag_seconds: float | None


def engine_health(tx: Session, *, now: datetime, ready_within: timedelta) -> EngineHealth:
    last = tx.execute(
        select(EngineInstance.last_cycle_at)
        .where(EngineInstance.last_cycle_at.is_not(None))
        .order_by(EngineInstance.last_cycle_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    # Only instances that cycled recently count; a killed engine's row lingers until purged.
    count = tx.execute(
        select(func.count())
        .select_from(EngineInstance)
        .where(EngineInstance.last_cycle_at >= now - ready_within)
    ).scalar_one()
    lag = (now - last).total_seconds() if last is not None else None
    return EngineHealth(
        last_cycle_at=last,
        instances=int(count),
        ok=lag is not None and lag <= ready_within.total_seconds(),
        lag_seconds=lag,
    )


def next_due(db: Database, now: datetime) -> datetime | None:
    """The earliest due escalation step or message attempt (two indexed MIN queries)."""
    with db.read() as tx:
        step = tx.execute(
            select(func.min(EscalationState.next_step_at)).where(EscalationState.status == "active")
        ).scalar_one()
        message = tx.execute(
            select(func.min(OutboundMessage.next_attempt_at)).where(
                OutboundMessage.status.in_(("pending", "retry"))
            )
        ).scalar_one()
    found = [t for t in (step, message) if t is not None]
    return min(found) if found else None
