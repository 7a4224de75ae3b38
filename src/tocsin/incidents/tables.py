"""ORM rows of the incidents slice: accepted events, alerts, incidents and their timeline."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, id_column


class InboundEvent(Base):
    """An accepted event, committed before the sender hears 202; the engine processes it.

    This is the durable intake queue: the HTTP handler only validates and inserts
    (many requests per commit), so accepting is cheap and nothing accepted is lost;
    ``processed_at`` is set in the same transaction as the alert/incident changes.
    """

    __tablename__ = "inbound_events"
    __table_args__ = (Index("ix_inbound_events_pending", "processed_at", "id"),)

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    kind: Mapped[str] = mapped_column(String(16))  # events_v2 | change | alertmanager | webhook …
    body: Mapped[dict[str, Any]] = mapped_column(JSON)  # events.Event.to_json()
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(200))


class Incident(Base):
    """Something a person must act on: triggered → acknowledged → resolved.

    Due-time columns (``ack_deadline_at``, ``auto_resolve_at``, ``snoozed_until``)
    are durable timers read by the engine; ``version`` makes their transitions
    compare-and-set.
    """

    __tablename__ = "incidents"

    id: Mapped[uuid.UUID] = id_column()
    number: Mapped[int] = mapped_column(Integer, unique=True)
    title: Mapped[str] = mapped_column(String(1024))
    description: Mapped[str] = mapped_column(Text, default="")
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("services.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), index=True)
    urgency: Mapped[str] = mapped_column(String(8))
    priority: Mapped[str | None] = mapped_column(String(16))
    severity: Mapped[int | None] = mapped_column(Integer)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    parent_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    group_key: Mapped[str | None] = mapped_column(String(500))
    storm: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_alert_at: Mapped[datetime | None]
    held_until: Mapped[datetime | None]  # outside support hours with the "hold" rule
    snoozed_until: Mapped[datetime | None]
    ack_deadline_at: Mapped[datetime | None] = mapped_column(index=True)
    auto_resolve_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)


class Alert(Base):
    """One deduplicated problem reported by a source; joins an incident (or is suppressed).

    ``open_key`` equals ``dedup_key`` while the alert is open and is NULL once it is
    resolved, so "one open alert per dedup key and service" is a plain unique
    constraint on both databases (NULLs never collide).
    """

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("service_id", "open_key", name="uq_alerts_service_open_key"),
        Index("ix_alerts_service_created", "service_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    integration_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("integrations.id", ondelete="SET NULL")
    )
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    dedup_key: Mapped[str] = mapped_column(String(255))
    open_key: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))  # triggered | acknowledged | resolved
    priority: Mapped[str] = mapped_column(String(16))  # high | medium | low | notification
    suppressed: Mapped[bool] = mapped_column(Boolean, default=False)
    suppressed_reason: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(1024))
    severity: Mapped[str] = mapped_column(String(16))
    component: Mapped[str | None] = mapped_column(String(1024))
    event_group: Mapped[str | None] = mapped_column(String(1024))
    event_class: Mapped[str | None] = mapped_column(String(1024))
    custom_details: Mapped[Any] = mapped_column(JSON, nullable=True)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    images: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    client: Mapped[str | None] = mapped_column(String(1024))
    client_url: Mapped[str | None] = mapped_column(String(2048))
    quality_flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    join_reason: Mapped[str] = mapped_column(String(500), default="")
    event_count: Mapped[int] = mapped_column(Integer, default=1)
    source_time_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]


class IncidentEvent(Base):
    """One line of an incident's timeline: what happened, who did it, when, with data."""

    __tablename__ = "incident_events"
    __table_args__ = (Index("ix_incident_events_incident_at", "incident_id", "at"),)

    id: Mapped[uuid.UUID] = id_column()
    incident_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SeverityChange(Base):
    """Severity history: every change with who and when (the final one is set after resolve)."""

    __tablename__ = "incident_severity_changes"

    id: Mapped[uuid.UUID] = id_column()
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), index=True
    )
    severity: Mapped[int | None] = mapped_column(Integer)
    previous: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_name: Mapped[str] = mapped_column(String(200))


class ChangeEvent(Base):
    """A deploy or configuration change (``/v2/change/enqueue``): context, never a page."""

    __tablename__ = "change_events"
    __table_args__ = (Index("ix_change_events_service_at", "service_id", "at"),)

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(String(1024))
    source: Mapped[str] = mapped_column(String(1024), default="")
    custom_details: Mapped[Any] = mapped_column(JSON, nullable=True)
    links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    at: Mapped[datetime]
    received_at: Mapped[datetime]
