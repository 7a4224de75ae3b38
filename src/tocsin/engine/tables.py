"""ORM rows of the engine: module leases, running instances and watchdog alarms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base


class EngineLease(Base):
    """One row per engine module: which instance holds it, until when, at which version."""

    __tablename__ = "engine_leases"

    module: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int]
    holder: Mapped[str | None] = mapped_column(String(100))
    lease_expires_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class EngineInstance(Base):
    """A running engine process and its last completed cycle (read by /readyz and the watchdog)."""

    __tablename__ = "engine_instances"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime]
    last_cycle_at: Mapped[datetime | None] = mapped_column(index=True)
    last_cycle_ms: Mapped[float | None]


class EngineAlarm(Base):
    """A watchdog alarm: raised when paging falls behind, cleared when it catches up.

    One row per kind (overdue_escalations, stuck_dispatcher, engine_lag); ``notified_at``
    throttles the second-path pages to admins.
    """

    __tablename__ = "engine_alarms"

    kind: Mapped[str] = mapped_column(String(64), primary_key=True)
    raised_at: Mapped[datetime | None]
    cleared_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(default=0)
