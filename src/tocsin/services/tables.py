"""ORM rows of the services slice."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tocsin.db.base import Base, id_column


class Service(Base):
    """A monitored service: where alerts arrive and how urgently they page.

    ``support_hours`` is ``{"time_zone": IANA, "windows": [{"days", "start", "end"}]}``
    as validated by ``rules.check_support_hours``; ``runbook_links`` is a list of
    ``{"title", "url"}``. The owner team is declared by table name (no slice import).
    """

    __tablename__ = "services"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    owner_team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    urgency_rule: Mapped[str] = mapped_column(String(16))
    support_hours: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outside_hours: Mapped[str] = mapped_column(String(8), default="low")
    ack_timeout_minutes: Mapped[int | None] = mapped_column(Integer)
    # Who is paged for this service's incidents (None: nobody; the service page says so).
    escalation_policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), index=True
    )
    auto_resolve_minutes: Mapped[int | None] = mapped_column(Integer)
    runbook_links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    # {"mode": "none"|"time"|"fields", "window_minutes", "fields"} (incidents.rules.check_grouping)
    grouping: Mapped[dict[str, Any]] = mapped_column(JSON, default=lambda: {"mode": "none"})
    # beyond this many new incidents a minute, alerts join one storm incident (None: off)
    # No column default: an explicit None (storms off) must be stored as NULL, and the
    # create action supplies 20 when the caller says nothing.
    storm_threshold: Mapped[int | None] = mapped_column(Integer)
    event_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    integrations: Mapped[list[Integration]] = relationship(
        back_populates="service",
        cascade="all, delete-orphan",
        lazy="selectin",
        order_by="Integration.id",
    )


class Integration(Base):
    """A way events reach a service; ``routing_key`` authenticates senders (like PagerDuty)."""

    __tablename__ = "integrations"

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    routing_key: Mapped[str] = mapped_column(String(32), unique=True)
    # generic webhooks: the field mapping (incidents.mapping.check_mapping); else None
    mapping: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime]

    service: Mapped[Service] = relationship(back_populates="integrations", lazy="selectin")


class MaintenanceWindow(Base):
    """While one is current, events on the service are recorded but page nobody."""

    __tablename__ = "maintenance_windows"

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class Heartbeat(Base):
    """A source must ping ``/integrations/heartbeat/<ping_key>`` every ``interval_minutes``.

    ``next_due_at`` is the durable timer: the engine opens an alert when it passes
    (no data is a failure); the next ping resolves it. ``version`` guards transitions.
    """

    __tablename__ = "heartbeats"

    id: Mapped[uuid.UUID] = id_column()
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    interval_minutes: Mapped[int] = mapped_column(Integer)
    ping_key: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting | up | down
    last_ping_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
