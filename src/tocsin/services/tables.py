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
    auto_resolve_minutes: Mapped[int | None] = mapped_column(Integer)
    runbook_links: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
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
    created_at: Mapped[datetime]

    service: Mapped[Service] = relationship(back_populates="integrations", lazy="selectin")
