"""ORM rows of the outbox: one row per message to send, one per delivery attempt."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tocsin.db.base import Base, id_column

# pending -> sending -> sent | retry -> (sending ...) -> failed; pending | retry -> cancelled
STATUSES = ("pending", "sending", "sent", "retry", "failed", "cancelled")
# page (an incident notification), bundle (several incidents in one), verify (a code),
# test (a test page), alarm (the watchdog), message (anything else: handoffs, test email)
KINDS = ("page", "bundle", "verify", "test", "alarm", "message")


class OutboundMessage(Base):
    """A message inserted by an action in the same transaction as its cause.

    ``dedup_key`` is unique: enqueuing the same message twice is a no-op.
    ``version`` makes every transition a compare-and-set.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_due", "status", "next_attempt_at"),)

    id: Mapped[uuid.UUID] = id_column()
    dedup_key: Mapped[str] = mapped_column(String(255), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(320))
    user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16), default="message")
    # The incident a page is about (declared by table name: the outbox imports no slice above it).
    incident_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), index=True
    )
    subject: Mapped[str] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    # None: the engine's configured default (TOCSIN_MAX_ATTEMPTS) applies.
    max_attempts: Mapped[int | None]
    next_attempt_at: Mapped[datetime]
    claim_expires_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(default=0)
    provider_ref: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class MessageAttempt(Base):
    """One try at sending a message: when, by whom, and what came of it."""

    __tablename__ = "message_attempts"

    id: Mapped[uuid.UUID] = id_column()
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("outbound_messages.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int]
    engine_instance: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    # sent | temporary_failure | permanent_failure | claim_expired
    outcome: Mapped[str | None] = mapped_column(String(32))
    error: Mapped[str | None] = mapped_column(String(1000))
