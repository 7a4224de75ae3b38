"""Contact methods, their verification codes, and personal notification rules.

Actions take the caller's transaction and never commit. Sending a verification code
or a test page goes through the outbox (``notifications.personal``); this module
only stores methods, issues and checks codes, and answers "how do I reach this person".
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from tocsin.kernel.ids import hash_secret

from . import contact_rules as cr
from . import repo
from .rules import allows
from .tables import ContactMethod, NotificationRule, User


def _authorize(actor: Actor, user_id: uuid.UUID) -> None:
    """People manage their own methods; admins (people.write) anybody's."""
    if actor.user_id == user_id and allows(actor.role, "contacts.own"):
        pass
    elif not allows(actor.role, "people.write"):
        raise PermissionDenied("You can change only your own contact methods.", code="auth.role")
    if actor.scope != "write":
        raise PermissionDenied("This needs a write-scoped token.", code="auth.scope")


def get_method(tx: Session, method_id: uuid.UUID) -> ContactMethod:
    method = tx.get(ContactMethod, method_id)
    if method is None:
        raise NotFound("contact_method", method_id)
    return method


def list_methods(tx: Session, user_id: uuid.UUID) -> Sequence[ContactMethod]:
    return (
        tx.execute(
            select(ContactMethod)
            .where(ContactMethod.user_id == user_id)
            .order_by(ContactMethod.created_at, ContactMethod.id)
        )
        .scalars()
        .all()
    )


def methods_of(tx: Session, user_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[ContactMethod]]:
    wanted = set(user_ids)
    out: dict[uuid.UUID, list[ContactMethod]] = {u: [] for u in wanted}
    if not wanted:
        return out
    rows = tx.execute(
        select(ContactMethod)
        .where(ContactMethod.user_id.in_(wanted))
        .order_by(ContactMethod.created_at, ContactMethod.id)
    ).scalars()
    for row in rows:
        out[row.user_id].append(row)
    return out


def find_verified_by_address(tx: Session, kind: str, address: str) -> Sequence[ContactMethod]:
    return (
        tx.execute(
            select(ContactMethod).where(
                ContactMethod.kind == kind,
                ContactMethod.address == address,
                ContactMethod.verified_at.is_not(None),
            )
        )
        .scalars()
        .all()
    )


def add_method(
    tx: Session,
    *,
    user_id: uuid.UUID,
    kind: str,
    address: str,
    label: str,
    actor: Actor,
    now: datetime,
    allow_private: bool = False,
    verified: bool = False,
) -> ContactMethod:
    """Store a new, unverified contact method (``verified``: only Tocsin itself, e.g. the demo)."""
    _authorize(actor, user_id)
    repo.get_user(tx, user_id)
    normalised = cr.check_address(kind, address, allow_private=allow_private)
    clean_label = cr.check_label(label)
    if kind in cr.ADMIN_ONLY_KINDS and not allows(actor.role, "people.write"):
        raise PermissionDenied(
            "Only an admin can add an Apprise URL: Apprise connects anywhere it is told.",
            code="auth.role",
        )
    if verified and actor.user_id is not None:
        raise PermissionDenied("A contact method is verified by the code sent to it.")
    for existing in list_methods(tx, user_id):
        if existing.kind == kind and existing.address == normalised:
            raise ValidationFailed.one("address", "You already have this contact method.")
    if len(list_methods(tx, user_id)) >= 20:
        raise ValidationFailed.one("address", "At most 20 contact methods per person.")
    method = ContactMethod(
        user_id=user_id,
        kind=kind,
        address=normalised,
        label=clean_label,
        verified_at=now if verified else None,
        code_attempts=0,
        created_at=now,
        updated_at=now,
    )
    tx.add(method)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="contact_method.added",
        subject_type="user",
        subject_id=user_id,
        at=now,
        data={"kind": kind, "method_id": str(method.id)},
    )
    return method


def issue_code(tx: Session, *, method: ContactMethod, now: datetime) -> str:
    """A fresh 6-digit code for ``method``; only its hash is stored. Returns the code."""
    code = f"{secrets.randbelow(10**cr.CODE_LENGTH):0{cr.CODE_LENGTH}d}"
    method.code_hash = hash_secret(f"{method.id}:{code}")
    method.code_expires_at = now + cr.CODE_TTL
    method.code_attempts = 0
    method.updated_at = now
    return code


def verify_method(
    tx: Session, *, method_id: uuid.UUID, code: str, actor: Actor, now: datetime
) -> ContactMethod:
    """Mark the method verified when ``code`` matches; five wrong tries void the code."""
    method = get_method(tx, method_id)
    _authorize(actor, method.user_id)
    if method.verified_at is not None:
        return method
    if method.code_hash is None or method.code_expires_at is None:
        raise ValidationFailed.one("code", "No code is pending: send a new one.")
    if method.code_expires_at <= now:
        raise ValidationFailed.one("code", "The code has expired: send a new one.")
    if method.code_attempts >= cr.MAX_CODE_ATTEMPTS:
        raise ValidationFailed.one("code", "Too many wrong codes: send a new one.")
    given = hash_secret(f"{method.id}:{code.strip()}")
    if not cr.codes_match(method.code_hash, given):
        method.code_attempts += 1
        method.updated_at = now
        raise ValidationFailed.one("code", "That code is not the one we sent.")
    method.verified_at = now
    method.code_hash = None
    method.code_expires_at = None
    method.updated_at = now
    audit.record(
        tx,
        actor=actor,
        kind="contact_method.verified",
        subject_type="user",
        subject_id=method.user_id,
        at=now,
        data={"kind": method.kind, "method_id": str(method.id)},
    )
    return method


def remove_method(tx: Session, *, method_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    method = get_method(tx, method_id)
    _authorize(actor, method.user_id)
    tx.execute(delete(NotificationRule).where(NotificationRule.contact_method_id == method.id))
    tx.delete(method)
    audit.record(
        tx,
        actor=actor,
        kind="contact_method.removed",
        subject_type="user",
        subject_id=method.user_id,
        at=now,
        data={"kind": method.kind, "method_id": str(method.id)},
    )


def list_rules(
    tx: Session, user_id: uuid.UUID, urgency: str | None = None
) -> Sequence[NotificationRule]:
    stmt = select(NotificationRule).where(NotificationRule.user_id == user_id)
    if urgency is not None:
        stmt = stmt.where(NotificationRule.urgency == urgency)
    stmt = stmt.order_by(
        NotificationRule.urgency, NotificationRule.delay_minutes, NotificationRule.position
    )
    return tx.execute(stmt).scalars().all()


def set_rules(
    tx: Session,
    *,
    user_id: uuid.UUID,
    urgency: str,
    steps: Sequence[tuple[int, uuid.UUID]],
    actor: Actor,
    now: datetime,
) -> Sequence[NotificationRule]:
    """Replace the person's rules for one urgency. An empty list returns to the recommended."""
    _authorize(actor, user_id)
    if urgency not in cr.URGENCIES:
        raise ValidationFailed.one("urgency", "Urgency is high or low.")
    methods = {str(m.id) for m in list_methods(tx, user_id)}
    cr.check_rule_steps([(d, str(m)) for d, m in steps], methods=sorted(methods))
    tx.execute(
        delete(NotificationRule).where(
            NotificationRule.user_id == user_id, NotificationRule.urgency == urgency
        )
    )
    for position, (delay, method_id) in enumerate(steps):
        tx.add(
            NotificationRule(
                user_id=user_id,
                urgency=urgency,
                delay_minutes=delay,
                contact_method_id=method_id,
                position=position,
            )
        )
    audit.record(
        tx,
        actor=actor,
        kind="notification_rules.set",
        subject_type="user",
        subject_id=user_id,
        at=now,
        data={"urgency": urgency, "count": len(steps)},
    )
    tx.flush()
    return list_rules(tx, user_id, urgency)


@dataclass(frozen=True)
class PlannedNotice:
    """Notify ``method`` ``delay_minutes`` after the page; ``recommended`` if no rule was set."""

    delay_minutes: int
    method: ContactMethod
    recommended: bool


def effective_plan(
    tx: Session,
    user: User,
    urgency: str,
    *,
    escalation_minutes: int = 5,
    methods: Sequence[ContactMethod] | None = None,
    rules: Sequence[NotificationRule] | None = None,
) -> list[PlannedNotice]:
    """How a person is notified at ``urgency``: their rules over verified methods, else the
    recommended default for the verified methods they have."""
    all_methods = list(methods) if methods is not None else list(list_methods(tx, user.id))
    verified = {m.id: m for m in all_methods if m.verified_at is not None}
    own = list(rules) if rules is not None else list(list_rules(tx, user.id, urgency))
    own = [r for r in own if r.urgency == urgency]
    plan = [
        PlannedNotice(r.delay_minutes, verified[r.contact_method_id], False)
        for r in own
        if r.contact_method_id in verified
    ]
    if own:
        return plan
    by_kind: dict[str, ContactMethod] = {}
    for m in verified.values():
        by_kind.setdefault(m.kind, m)
    steps = (
        cr.recommended_steps(list(by_kind), escalation_minutes=escalation_minutes)
        if urgency == "high"
        else cr.recommended_low_steps(list(by_kind))
    )
    return [PlannedNotice(s.delay_minutes, by_kind[s.method], True) for s in steps]


def phones_of(methods: Sequence[ContactMethod]) -> list[str]:
    """Phone numbers to call by hand, verified first, without repeats."""
    ordered = sorted(
        (m for m in methods if m.kind in cr.PHONE_KINDS), key=lambda m: m.verified_at is None
    )
    seen: list[str] = []
    for m in ordered:
        if m.address not in seen:
            seen.append(m.address)
    return seen
