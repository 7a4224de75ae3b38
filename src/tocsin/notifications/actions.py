"""Outbox use cases: enqueue in the caller's transaction; claim, record and expire for the engine.

Every transition after enqueue is a compare-and-set on ``version``: when zero rows
change, another engine instance already moved the message and we do nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, insert, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import PermissionDenied, ValidationFailed
from tocsin.kernel.ids import new_id
from tocsin.notifications import repo, rules
from tocsin.notifications.tables import MessageAttempt, OutboundMessage
from tocsin.people import repo as people_repo

DUE_STATUSES = ("pending", "retry")


def enqueue(
    tx: Session,
    *,
    dedup_key: str,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    now: datetime,
    user_id: uuid.UUID | None = None,
    context: dict[str, Any] | None = None,
    max_attempts: int | None = None,
    not_before: datetime | None = None,
    kind: str = "message",
    incident_id: uuid.UUID | None = None,
) -> OutboundMessage:
    """Insert a message to send, in the caller's transaction.

    Idempotent: a second call with the same ``dedup_key`` returns the first message
    unchanged (also when two transactions race, thanks to the unique index).
    """
    if not dedup_key or len(dedup_key) > 255:
        raise ValidationFailed.one("dedup_key", "A dedup key of 1 to 255 characters is required.")
    existing = repo.find_message_by_dedup_key(tx, dedup_key)
    if existing is not None:
        return existing
    message = OutboundMessage(
        dedup_key=dedup_key,
        channel=channel,
        recipient=recipient,
        user_id=user_id,
        kind=kind,
        incident_id=incident_id,
        subject=subject[:500],
        body=body,
        context=context or {},
        status="pending",
        attempts=0,
        max_attempts=max_attempts,
        next_attempt_at=not_before or now,
        version=0,
        created_at=now,
        updated_at=now,
    )
    try:
        with tx.begin_nested():
            tx.add(message)
            tx.flush()
    except IntegrityError:
        found = repo.find_message_by_dedup_key(tx, dedup_key)
        if found is None:
            raise
        return found
    return message


@dataclass(frozen=True)
class Claim:
    """A message this instance has claimed and must send before ``expires_at``."""

    message_id: uuid.UUID
    version: int
    attempt: int
    max_attempts: int
    attempt_id: uuid.UUID
    expires_at: datetime
    dedup_key: str
    channel: str
    recipient: str
    subject: str
    body: str
    context: dict[str, Any]
    kind: str = "message"
    incident_id: uuid.UUID | None = None
    user_id: uuid.UUID | None = None
    queued_at: datetime | None = None


def claim_due(
    tx: Session,
    *,
    now: datetime,
    holder: str,
    claim_for: timedelta,
    limit: int,
    default_max_attempts: int = 5,
    skip_locked: bool = False,
) -> list[Claim]:
    """Claim up to ``limit`` due messages (oldest due first) for ``holder``.

    Each claim bumps ``attempts`` and ``version``; a message claimed by someone else
    in the meantime is skipped. ``skip_locked`` (PostgreSQL) lets parallel
    dispatchers pick disjoint batches instead of colliding.
    """
    stmt = (
        select(OutboundMessage.id, OutboundMessage.version)
        .where(OutboundMessage.status.in_(DUE_STATUSES), OutboundMessage.next_attempt_at <= now)
        .order_by(OutboundMessage.next_attempt_at, OutboundMessage.id)
        .limit(limit)
    )
    expires_at = now + claim_for
    if skip_locked or tx.get_bind().dialect.name == "sqlite":
        # The rows are ours alone until commit (locked on PostgreSQL; SQLite's write
        # transactions begin IMMEDIATE), so one UPDATE and one INSERT claim them all.
        return _claim_locked(
            tx,
            stmt.with_only_columns(OutboundMessage).with_for_update(skip_locked=True)
            if skip_locked
            else stmt.with_only_columns(OutboundMessage),
            now=now,
            holder=holder,
            expires_at=expires_at,
            default_max_attempts=default_max_attempts,
        )
    candidates = tx.execute(stmt).all()
    claims: list[Claim] = []
    for message_id, version in candidates:
        changed = rowcount(
            tx.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id == message_id,
                    OutboundMessage.version == version,
                    OutboundMessage.status.in_(DUE_STATUSES),
                )
                .values(
                    status="sending",
                    claim_expires_at=expires_at,
                    claimed_by=holder,
                    attempts=OutboundMessage.attempts + 1,
                    version=OutboundMessage.version + 1,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
        )
        if changed != 1:
            continue
        message = tx.get(OutboundMessage, message_id, populate_existing=True)
        assert message is not None
        attempt = MessageAttempt(
            message_id=message.id, number=message.attempts, engine_instance=holder, started_at=now
        )
        tx.add(attempt)
        tx.flush()
        claims.append(
            Claim(
                message_id=message.id,
                version=message.version,
                attempt=message.attempts,
                max_attempts=message.max_attempts or default_max_attempts,
                attempt_id=attempt.id,
                expires_at=expires_at,
                dedup_key=message.dedup_key,
                channel=message.channel,
                recipient=message.recipient,
                subject=message.subject,
                body=message.body,
                context=dict(message.context),
                kind=message.kind,
                incident_id=message.incident_id,
                user_id=message.user_id,
                queued_at=message.created_at,
            )
        )
    return claims


def _claim_locked(
    tx: Session,
    stmt: Select[Any],
    *,
    now: datetime,
    holder: str,
    expires_at: datetime,
    default_max_attempts: int,
) -> list[Claim]:
    rows: Sequence[OutboundMessage] = tx.execute(stmt).scalars().all()
    if not rows:
        return []
    tx.execute(
        update(OutboundMessage)
        .where(OutboundMessage.id.in_([row.id for row in rows]))
        .values(
            status="sending",
            claim_expires_at=expires_at,
            claimed_by=holder,
            attempts=OutboundMessage.attempts + 1,
            version=OutboundMessage.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    attempt_ids = [new_id() for _ in rows]
    attempts = [
        {
            "id": attempt_id,
            "message_id": row.id,
            "number": row.attempts + 1,
            "engine_instance": holder,
            "started_at": now,
        }
        for row, attempt_id in zip(rows, attempt_ids, strict=True)
    ]
    tx.execute(insert(MessageAttempt), attempts)
    return [
        Claim(
            message_id=row.id,
            version=row.version + 1,
            attempt=row.attempts + 1,
            max_attempts=row.max_attempts or default_max_attempts,
            attempt_id=attempt_id,
            expires_at=expires_at,
            dedup_key=row.dedup_key,
            channel=row.channel,
            recipient=row.recipient,
            subject=row.subject,
            body=row.body,
            context=dict(row.context),
            kind=row.kind,
            incident_id=row.incident_id,
            user_id=row.user_id,
            queued_at=row.created_at,
        )
        for row, attempt_id in zip(rows, attempt_ids, strict=True)
    ]


def record_sent(tx: Session, *, claim: Claim, provider_ref: str | None, now: datetime) -> bool:
    """Mark a claimed message sent. False if the claim had expired and someone else moved it."""
    changed = _transition(
        tx,
        claim,
        status="sent",
        now=now,
        sent_at=now,
        provider_ref=provider_ref,
        last_error=None,
        claim_expires_at=None,
    )
    _finish_attempt(tx, claim, now=now, outcome="sent", error=None)
    return changed


def record_sent_many(
    tx: Session, *, sent: Sequence[tuple[Claim, str | None]], now: datetime
) -> set[uuid.UUID]:
    """``record_sent`` for a whole wave in two statements; returns the ids still ours (the
    others' claims had expired and someone else moved them)."""
    if not sent:
        return set()
    refs = {claim.message_id: ref for claim, ref in sent}
    fresh = set(
        tx.execute(
            update(OutboundMessage)
            .where(
                tuple_(OutboundMessage.id, OutboundMessage.version).in_(
                    [(claim.message_id, claim.version) for claim, _ in sent]
                ),
                OutboundMessage.status == "sending",
            )
            .values(
                status="sent",
                version=OutboundMessage.version + 1,
                updated_at=now,
                sent_at=now,
                provider_ref=case(refs, value=OutboundMessage.id, else_=None),
                last_error=None,
                claim_expires_at=None,
            )
            .returning(OutboundMessage.id)
            .execution_options(synchronize_session=False)
        ).scalars()
    )
    tx.execute(
        update(MessageAttempt)
        .where(MessageAttempt.id.in_([claim.attempt_id for claim, _ in sent]))
        .values(finished_at=now, outcome="sent", error=None)
        .execution_options(synchronize_session=False)
    )
    return fresh


def record_failure(
    tx: Session,
    *,
    claim: Claim,
    error: str,
    temporary: bool,
    policy: rules.RetryPolicy,
    now: datetime,
) -> str | None:
    """Record a failed attempt; returns the new status (retry or failed), None if stale."""
    nxt = rules.after_failure(
        attempts=claim.attempt,
        max_attempts=claim.max_attempts,
        temporary=temporary,
        now=now,
        policy=policy,
    )
    values: dict[str, Any] = {"last_error": error[:1000], "claim_expires_at": None}
    if nxt.next_attempt_at is not None:
        values["next_attempt_at"] = nxt.next_attempt_at
    changed = _transition(tx, claim, status=nxt.status, now=now, **values)
    outcome = "temporary_failure" if temporary else "permanent_failure"
    _finish_attempt(tx, claim, now=now, outcome=outcome, error=error)
    return nxt.status if changed else None


def expire_claims(tx: Session, *, now: datetime, limit: int, default_max_attempts: int = 5) -> int:
    """Put messages whose claim ran out (sender crashed or hung) back in line; returns how many."""
    stmt = (
        select(OutboundMessage)
        .where(OutboundMessage.status == "sending", OutboundMessage.claim_expires_at < now)
        .order_by(OutboundMessage.claim_expires_at)
        .limit(limit)
    )
    moved = 0
    for message in tx.execute(stmt).scalars().all():
        nxt = rules.after_expired_claim(
            attempts=message.attempts,
            max_attempts=message.max_attempts or default_max_attempts,
            now=now,
        )
        values: dict[str, Any] = {
            "status": nxt.status,
            "claim_expires_at": None,
            "last_error": f"claim by {message.claimed_by} expired without a result",
            "version": OutboundMessage.version + 1,
            "updated_at": now,
        }
        if nxt.next_attempt_at is not None:
            values["next_attempt_at"] = nxt.next_attempt_at
        changed = rowcount(
            tx.execute(
                update(OutboundMessage)
                .where(OutboundMessage.id == message.id, OutboundMessage.version == message.version)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
        )
        if changed == 1:
            moved += 1
            tx.execute(
                update(MessageAttempt)
                .where(
                    MessageAttempt.message_id == message.id,
                    MessageAttempt.number == message.attempts,
                    MessageAttempt.outcome.is_(None),
                )
                .values(
                    outcome="claim_expired",
                    finished_at=now,
                    error="no result before the claim deadline",
                )
                .execution_options(synchronize_session=False)
            )
    return moved


def cancel_pages(tx: Session, *, incident_id: uuid.UUID, now: datetime) -> int:
    """Cancel pages about an incident not yet sent (it was acknowledged or resolved).

    A message already being sent is left alone: its claim decides. Returns how many.
    """
    return rowcount(
        tx.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.incident_id == incident_id,
                OutboundMessage.kind == "page",
                OutboundMessage.status.in_(DUE_STATUSES),
            )
            .values(
                status="cancelled",
                version=OutboundMessage.version + 1,
                updated_at=now,
                last_error="cancelled: the incident was acknowledged or resolved",
            )
            .execution_options(synchronize_session=False)
        )
    )


def cancel_claim(tx: Session, *, claim: Claim, now: datetime, why: str) -> bool:
    """Cancel a message this instance claimed but will not send."""
    changed = _transition(
        tx,
        claim,
        status="cancelled",
        now=now,
        claim_expires_at=None,
        last_error=f"cancelled: {why}",
    )
    _finish_attempt(tx, claim, now=now, outcome="cancelled", error=why)
    return changed


def hurry(tx: Session, *, message_id: uuid.UUID, now: datetime) -> bool:
    """Make a waiting message due now (a fallback after another method failed)."""
    return (
        rowcount(
            tx.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id == message_id,
                    OutboundMessage.status.in_(DUE_STATUSES),
                    OutboundMessage.next_attempt_at > now,
                )
                .values(next_attempt_at=now, version=OutboundMessage.version + 1, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        )
        == 1
    )


def send_test_email(
    tx: Session, *, user_id: uuid.UUID, actor: Actor, now: datetime, base_url: str
) -> OutboundMessage:
    """Queue a test email to a person (themselves, or anyone for an admin)."""
    if actor.user_id != user_id and actor.role != "admin":
        raise PermissionDenied("You may only send test messages to yourself.", code="auth.role")
    if actor.scope != "write":
        raise PermissionDenied(
            "This API token is read-only; use a write-scoped token.", code="auth.scope"
        )
    user = people_repo.get_user(tx, user_id)
    return enqueue(
        tx,
        dedup_key=f"test-email:{user.id}:{now.isoformat()}",
        channel="email",
        recipient=user.email,
        user_id=user.id,
        subject="Tocsin test message",
        body=(
            f"Hello {user.name},\n\nThis is a test message from Tocsin, requested by {actor.name} "
            f"at {now:%Y-%m-%d %H:%M} UTC.\nIf you can read it, Tocsin can reach you by email.\n\n"
            f"{base_url}\n"
        ),
        context={"kind": "test", "requested_by": actor.name},
        now=now,
    )


def _transition(tx: Session, claim: Claim, *, status: str, now: datetime, **values: Any) -> bool:
    changed = rowcount(
        tx.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.id == claim.message_id,
                OutboundMessage.version == claim.version,
                OutboundMessage.status == "sending",
            )
            .values(status=status, version=OutboundMessage.version + 1, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
    )
    return changed == 1


def _finish_attempt(
    tx: Session, claim: Claim, *, now: datetime, outcome: str, error: str | None
) -> None:
    tx.execute(
        update(MessageAttempt)
        .where(MessageAttempt.id == claim.attempt_id)
        .values(finished_at=now, outcome=outcome, error=error[:1000] if error else None)
        .execution_options(synchronize_session=False)
    )
