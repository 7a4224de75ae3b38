"""Audit log: one row per change, written by actions in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db.base import Base, id_column
from tocsin.kernel.actor import Actor


class AuditEvent(Base):
    """Who changed what, when; the audit page and API read only this."""

    __tablename__ = "audit_events"

    id: Mapped[uuid.UUID] = id_column()
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[uuid.UUID | None]
    actor_name: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(64), index=True)
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[uuid.UUID | None]
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


def record(
    tx: Session,
    *,
    actor: Actor,
    kind: str,
    subject_type: str,
    subject_id: uuid.UUID | None,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an audit event; never holds secrets (callers pass field names, not values)."""
    event = AuditEvent(
        at=at,
        actor_id=actor.user_id,
        actor_name=actor.name,
        via=actor.via,
        kind=kind,
        subject_type=subject_type,
        subject_id=subject_id,
        data=data or {},
    )
    tx.add(event)
    return event


def list_events(
    tx: Session, *, limit: int, before: uuid.UUID | None = None
) -> Sequence[AuditEvent]:
    """Newest first; ``before`` is the last id of the previous page (ids are UUIDv7, so unique
    and in insertion order, unlike ``at``)."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEvent.id < before)
    return tx.execute(stmt).scalars().all()
