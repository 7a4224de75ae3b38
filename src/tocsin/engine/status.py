"""Engine heartbeats: each instance records its cycles; readiness reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.engine.tables import EngineInstance


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
