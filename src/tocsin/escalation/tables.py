"""ORM rows of escalation: policies (levels as a JSON document) and per-incident state."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, id_column


class EscalationPolicy(Base):
    """Ordered levels of targets with a delay each; the whole policy repeats ``repeat`` times.

    ``levels`` is a list of ``{"delay_minutes", "round_robin", "targets": [{"kind", "id"}]}``
    validated by ``rules.check_policy``. It is copied into each incident's state when the
    incident opens, so later edits never disturb paging in flight.
    """

    __tablename__ = "escalation_policies"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    team_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    repeat: Mapped[int] = mapped_column(default=0)
    levels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class EscalationState(Base):
    """Where an incident's escalation stands; the engine advances it when ``next_step_at`` is due.

    ``status``: active (a step is due at ``next_step_at``), stopped (acknowledged or
    resolved), exhausted (every level and repeat paged, nobody acknowledged).
    ``level`` is the index of the next level to page. Every change is compare-and-set on
    ``version``: when two engines race, exactly one takes the step.
    """

    __tablename__ = "escalation_states"
    __table_args__ = (Index("ix_escalation_states_due", "status", "next_step_at"),)

    id: Mapped[uuid.UUID] = id_column()
    incident_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), unique=True
    )
    policy_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("escalation_policies.id", ondelete="SET NULL"), index=True
    )
    policy_name: Mapped[str] = mapped_column(String(100), default="")
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(default=0)
    loop: Mapped[int] = mapped_column(default=0)
    step: Mapped[int] = mapped_column(default=0)  # steps taken so far: part of message keys
    next_step_at: Mapped[datetime | None]
    # Round-robin position per level index (as a string key).
    rotation: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    paged_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    unreachable_at: Mapped[datetime | None]
    unreachable: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
