"""Reaching one person: pages by their notification rules, verification codes, test pages.

Everything leaves through the outbox in the caller's transaction. Per-method throttles
(at most one SMS or call a minute to one number, by default) defer a message; pages to
the same number that fall within the throttle are bundled into one message.
"""

from __future__ import annotations

import statistics
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from tocsin.kernel.ids import new_id
from tocsin.people import contact_rules as cr
from tocsin.people import contacts
from tocsin.people.tables import ContactMethod, TestPage, User

from .actions import enqueue
from .tables import OutboundMessage

DEFAULT_THROTTLES: Final = {"sms": timedelta(seconds=60), "voice": timedelta(seconds=60)}
SMS_LIMIT: Final = 320


@dataclass(frozen=True)
class PageContent:
    """What a page says: what broke, where, how bad, the runbook, and how to act."""

    incident_id: uuid.UUID
    number: int
    title: str
    service: str
    urgency: str
    severity: int | None = None
    runbook_url: str | None = None
    reason: str = ""  # "Escalation level 2 of Payments" / "Added as a responder by Ana"


@dataclass(frozen=True)
class Throttles:
    per_method: Mapping[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_THROTTLES))

    def of(self, kind: str) -> timedelta | None:
        value = self.per_method.get(kind)
        return value if value and value > timedelta(0) else None


def _severity(content: PageContent) -> str:
    return (
        f"SEV-{content.severity}" if content.severity is not None else content.urgency + " urgency"
    )


# Placeholders the dispatcher fills at send time with signed links (see ``links.expand``):
# the secret stays in the engine, and a link's lifetime starts when it is sent.
ACK, RESOLVE, ESCALATE, OPEN = "{ack_url}", "{resolve_url}", "{escalate_url}", "{incident_url}"


def render_page(content: PageContent, *, kind: str) -> tuple[str, str]:
    """Subject and body of one page for one channel (SMS is short; others are full)."""
    ack_url, resolve_url, incident_url = ACK, RESOLVE, OPEN
    subject = f"[#{content.number}] {content.title}"[:500]
    if kind in ("sms", "voice"):
        body = (
            f"Tocsin #{content.number} {_severity(content)} {content.service}: {content.title}"[
                :200
            ]
            + f"\nReply ack {content.number} / resolve {content.number} / esc {content.number}"
            + f"\n{ack_url}"
        )
        return subject, body[:SMS_LIMIT]
    lines = [
        f"{content.title}",
        "",
        f"Incident #{content.number} on {content.service} ({_severity(content)}).",
    ]
    if content.reason:
        lines.append(content.reason)
    if content.runbook_url:
        lines.append(f"Runbook: {content.runbook_url}")
    lines += [
        "",
        f"Acknowledge: {ack_url}",
        f"Resolve: {resolve_url}",
        f"Open: {incident_url}",
        "",
        "Each link asks you to confirm before it acts, and stops working after a while.",
    ]
    return subject, "\n".join(lines)


def render_bundle(numbers: Sequence[int], titles: Sequence[str]) -> str:
    listed = "; ".join(f"#{n} {t[:60]}" for n, t in zip(numbers, titles, strict=False))
    return (
        f"Tocsin: {len(numbers)} incidents need you: {listed}"[:240]
        + "\nReply ack <number> for each.\n{base_url}/incidents"
    )[:SMS_LIMIT]


def page_user(
    tx: Session,
    *,
    user: User,
    content: PageContent,
    step_key: str,
    paged_at: datetime,
    now: datetime,
    throttles: Throttles,
    escalation_minutes: int = 5,
    methods: Sequence[ContactMethod] | None = None,
) -> list[OutboundMessage]:
    """Queue this person's notifications for one page, by their rules for the urgency.

    Idempotent per ``step_key``: the dedup key names the step, person and rule.
    Returns the messages (new, bundled or already queued); empty when the person has
    no verified method (the caller reports them unreachable).
    """
    plan = contacts.effective_plan(
        tx, user, content.urgency, escalation_minutes=escalation_minutes, methods=methods
    )
    out: list[OutboundMessage] = []
    for i, notice in enumerate(plan):
        method = notice.method
        due = paged_at + timedelta(minutes=notice.delay_minutes)
        subject, body = render_page(content, kind=method.kind)
        context: dict[str, Any] = {
            "kind": "page",
            "incident_id": str(content.incident_id),
            "incident_number": content.number,
            "link_user_id": str(user.id),
            "priority": content.urgency,
            "method_id": str(method.id),
            "method_kind": method.kind,
            "step": step_key,
            "rule": i,
        }
        dedup_key = f"page:{step_key}:{user.id}:{i}:{method.id}"
        limit = throttles.of(method.kind)
        if limit is not None:
            merged = _bundle_or_defer(tx, method=method, content=content, due=due, limit=limit)
            if isinstance(merged, OutboundMessage):
                out.append(merged)
                continue
            due = merged
        out.append(
            enqueue(
                tx,
                dedup_key=dedup_key,
                channel=method.kind,
                recipient=method.address,
                user_id=user.id,
                subject=subject,
                body=body,
                context=context,
                now=now,
                not_before=due,
                kind="page",
                incident_id=content.incident_id,
            )
        )
    return out


def _bundle_or_defer(
    tx: Session,
    *,
    method: ContactMethod,
    content: PageContent,
    due: datetime,
    limit: timedelta,
) -> OutboundMessage | datetime:
    """A waiting page to the same number within the throttle absorbs this one (bundled);
    else the page is deferred until the throttle allows it. Returns the message or the due."""
    recent = tx.execute(
        select(OutboundMessage)
        .where(
            OutboundMessage.channel == method.kind,
            OutboundMessage.recipient == method.address,
            OutboundMessage.kind.in_(("page", "bundle")),
            OutboundMessage.status.in_(("pending", "retry", "sending", "sent")),
            OutboundMessage.next_attempt_at > due - limit,
        )
        .order_by(OutboundMessage.next_attempt_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    if recent is None:
        return due
    same = recent.incident_id == content.incident_id and recent.kind == "page"
    if not same and recent.status == "pending" and recent.next_attempt_at <= due + limit:
        bundle = dict(recent.context.get("bundle") or {})
        if not bundle:
            bundle = {
                "numbers": [recent.context.get("incident_number")],
                "titles": [recent.subject],
            }
        if content.number not in bundle["numbers"]:
            bundle["numbers"] = [*bundle["numbers"], content.number]
            bundle["titles"] = [*bundle["titles"], content.title]
        body = render_bundle(bundle["numbers"], bundle["titles"])
        changed = rowcount(
            tx.execute(
                update(OutboundMessage)
                .where(
                    OutboundMessage.id == recent.id,
                    OutboundMessage.version == recent.version,
                    OutboundMessage.status == "pending",
                )
                .values(
                    kind="bundle",
                    body=body,
                    subject=f"Tocsin: {len(bundle['numbers'])} incidents",
                    context={**recent.context, "kind": "bundle", "bundle": bundle},
                    version=OutboundMessage.version + 1,
                )
                .execution_options(synchronize_session=False)
            )
        )
        if changed == 1:
            tx.expire(recent)
            return recent
    return max(due, recent.next_attempt_at + limit)


# -- verification codes -------------------------------------------------------------------


def add_method(
    tx: Session,
    *,
    user_id: uuid.UUID,
    kind: str,
    address: str,
    label: str = "",
    actor: Actor,
    now: datetime,
    allow_private: bool = False,
) -> tuple[ContactMethod, OutboundMessage]:
    """Add a contact method and send it a verification code (through the outbox)."""
    method = contacts.add_method(
        tx,
        user_id=user_id,
        kind=kind,
        address=address,
        label=label,
        actor=actor,
        now=now,
        allow_private=allow_private,
    )
    return method, send_code(tx, method=method, actor=actor, now=now)


def send_code(
    tx: Session, *, method: ContactMethod, actor: Actor, now: datetime
) -> OutboundMessage:
    """Send a fresh code to an unverified method (the old code stops working)."""
    if method.verified_at is not None:
        raise ValidationFailed.one("code", "This method is already verified.")
    code = contacts.issue_code(tx, method=method, now=now)
    text = (
        f"Your Tocsin verification code is {code}. Type it on your profile page to start "
        f"getting pages here. It expires in {int(cr.CODE_TTL.total_seconds() // 60)} minutes."
    )
    return enqueue(
        tx,
        dedup_key=f"verify:{method.id}:{new_id()}",  # every code is a new message
        channel=method.kind,
        recipient=method.address,
        user_id=method.user_id,
        subject="Tocsin verification code",
        body=text,
        context={"kind": "verify", "method_id": str(method.id), "requested_by": actor.name},
        now=now,
        kind="verify",
        max_attempts=3,
    )


# -- test pages -------------------------------------------------------------------------


def send_test_page(tx: Session, *, method_id: uuid.UUID, actor: Actor, now: datetime) -> TestPage:
    """Send a test page to one of your methods; acknowledging it records how long it took."""
    method = contacts.get_method(tx, method_id)
    if actor.user_id != method.user_id:
        raise PermissionDenied("You can send test pages only to yourself.", code="auth.role")
    if actor.scope != "write":
        raise PermissionDenied("This needs a write-scoped token.", code="auth.scope")
    test = TestPage(
        user_id=method.user_id, contact_method_id=method.id, kind=method.kind, created_at=now
    )
    tx.add(test)
    tx.flush()
    enqueue(
        tx,
        dedup_key=f"test:{test.id}",
        channel=method.kind,
        recipient=method.address,
        user_id=method.user_id,
        subject="Tocsin test page",
        body=(
            "This is a Tocsin test page. Acknowledge it to measure how fast pages reach you "
            "here:\n{test_ack_url}\n(or reply: ack test)"
        ),
        context={
            "kind": "test",
            "test_id": str(test.id),
            "link_user_id": str(method.user_id),
            "priority": "high",
        },
        now=now,
        kind="test",
        max_attempts=3,
    )
    return test


def acknowledge_test_page(
    tx: Session, *, test_id: uuid.UUID, user_id: uuid.UUID, now: datetime
) -> TestPage:
    """Record the acknowledgement of a test page (safe to call twice: the first time counts)."""
    test = tx.get(TestPage, test_id)
    if test is None or test.user_id != user_id:
        raise NotFound("test_page", test_id)
    if test.acknowledged_at is None:
        test.acknowledged_at = now
    return test


def latest_open_test(tx: Session, *, user_id: uuid.UUID, kind: str) -> TestPage | None:
    return tx.execute(
        select(TestPage)
        .where(
            TestPage.user_id == user_id, TestPage.kind == kind, TestPage.acknowledged_at.is_(None)
        )
        .order_by(TestPage.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


@dataclass(frozen=True)
class TestStats:
    __test__ = False  # not a pytest test class

    method_id: uuid.UUID
    tests: int
    acknowledged: int
    median_seconds: float | None
    last_test_at: datetime | None


def test_stats(tx: Session, *, user_id: uuid.UUID, last: int = 5) -> dict[uuid.UUID, TestStats]:
    """Per method: the median time from sending to acknowledgement over the last tests."""
    rows = (
        tx.execute(
            select(TestPage)
            .where(TestPage.user_id == user_id)
            .order_by(TestPage.created_at.desc())
            .limit(500)
        )
        .scalars()
        .all()
    )
    by_method: dict[uuid.UUID, list[TestPage]] = {}
    for row in rows:
        by_method.setdefault(row.contact_method_id, []).append(row)
    out: dict[uuid.UUID, TestStats] = {}
    for method_id, tests in by_method.items():
        acked = [t for t in tests if t.acknowledged_at is not None][:last]
        seconds = [
            (t.acknowledged_at - t.created_at).total_seconds() for t in acked if t.acknowledged_at
        ]
        out[method_id] = TestStats(
            method_id=method_id,
            tests=len(tests),
            acknowledged=len(acked),
            median_seconds=statistics.median(seconds) if seconds else None,
            last_test_at=max((t.acknowledged_at for t in acked if t.acknowledged_at), default=None),
        )
    return out
