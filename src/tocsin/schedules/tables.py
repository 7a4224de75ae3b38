"""ORM rows of the schedules slice: schedules, layers, overrides, time off, cover, handoffs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tocsin.db.base import Base, id_column


class ScheduleRow(Base):
    """A schedule: an IANA zone, owning teams and ordered layers (see ``model.Schedule``).

    ``holiday_country`` (ISO 3166 alpha-2) and ``holiday_subdivision`` name the public
    holiday calendar layers may treat specially; both None means no holiday calendar.
    """

    __tablename__ = "schedules"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    time_zone: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(String(2000), default="")
    holiday_country: Mapped[str | None] = mapped_column(String(8))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    teams: Mapped[list[ScheduleTeam]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="ScheduleTeam.team_id"
    )
    layers: Mapped[list[LayerRow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LayerRow.position"
    )


class ScheduleTeam(Base):
    """A team that owns a schedule (declared by table name: no slice import)."""

    __tablename__ = "schedule_teams"

    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), primary_key=True
    )
    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class LayerRow(Base):
    """One rotation layer; ``position`` orders layers (a later layer wins).

    ``handoff_time`` is wall clock ``"HH:MM"`` in the schedule's zone; ``restrictions``
    is a list of ``{"start": "HH:MM", "end": "HH:MM", "start_day", "end_day"}``
    (days None for a daily window); ``on_holidays`` is normal, off or only.
    """

    __tablename__ = "schedule_layers"

    id: Mapped[uuid.UUID] = id_column()
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(100), default="")
    turn_hours: Mapped[int] = mapped_column(Integer)
    start_date: Mapped[date] = mapped_column(Date)
    handoff_time: Mapped[str] = mapped_column(String(5))
    restrictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    end_at: Mapped[datetime | None]
    on_holidays: Mapped[str] = mapped_column(String(8), default="normal")

    participants: Mapped[list[LayerParticipant]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LayerParticipant.position"
    )
    shadows: Mapped[list[LayerShadow]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="LayerShadow.id"
    )


class LayerParticipant(Base):
    """The person at ``position`` in a layer's rotation (a person may appear twice)."""

    __tablename__ = "layer_participants"

    layer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedule_layers.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )


class LayerShadow(Base):
    """``user_id`` rides along whenever ``shadows_user_id`` is on call from this layer."""

    __tablename__ = "layer_shadows"

    id: Mapped[uuid.UUID] = id_column()
    layer_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedule_layers.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    shadows_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))


class OverrideRow(Base):
    """``user_id`` is on call for the schedule from ``start_at`` to ``end_at``."""

    __tablename__ = "schedule_overrides"

    id: Mapped[uuid.UUID] = id_column()
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]


class TimeOffRow(Base):
    """A person is away; every rotation skips them for the turns this touches."""

    __tablename__ = "time_off"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]


class CoverRequest(Base):
    """A request to cover a period; ``status`` open → accepted | cancelled.

    The first teammate to accept wins: acceptance is compare-and-set on ``version``.
    """

    __tablename__ = "cover_requests"

    id: Mapped[uuid.UUID] = id_column()
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    start_at: Mapped[datetime]
    end_at: Mapped[datetime]
    reason: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    accepted_by: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    override_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("schedule_overrides.id", ondelete="SET NULL")
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # When the engine asked the teammates (None: not yet); set once, never reset.
    notified_at: Mapped[datetime | None]


class CalendarFeedToken(Base):
    """A person's calendar feed token; only its SHA-256 is stored, shown once on rotation."""

    __tablename__ = "calendar_feed_tokens"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]


class HandoffNote(Base):
    """What the outgoing person tells the incoming one (what is flapping, what may return).

    ``for_shift_start_at`` is the handoff it belongs to (None: the next one).
    """

    __tablename__ = "handoff_notes"

    id: Mapped[uuid.UUID] = id_column()
    schedule_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    from_user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(String(4000))
    for_shift_start_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


# pending -> sent | skipped (the shift changed before it was due, or it is long past)
HANDOFF_STATUSES = ("pending", "sent", "skipped")


class HandoffRow(Base):
    """A due handoff: ``user_id``'s shift on a schedule starts or ends ``at``.

    The engine plans rows a day ahead (unique per schedule, person, kind and instant,
    so planning twice inserts nothing) and delivers each once: the move from pending
    is compare-and-set on ``version``. ``note_id`` is the handoff note delivered with
    a start, if any.
    """

    __tablename__ = "handoffs"
    __table_args__ = (
        UniqueConstraint("schedule_id", "user_id", "kind", "at", name="uq_handoffs_instant"),
        Index("ix_handoffs_due", "status", "at"),
        Index("ix_handoffs_user_at", "user_id", "at"),
    )

    id: Mapped[uuid.UUID] = id_column()
    schedule_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"))
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    version: Mapped[int] = mapped_column(Integer, default=1)
    note_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("handoff_notes.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
