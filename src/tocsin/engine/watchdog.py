"""Watchdog module: notices when paging falls behind and tells the admins by a second path.

Each cycle it measures the oldest due escalation step and the oldest due outbound
message, raises or clears an ``EngineAlarm`` row per kind (compare-and-set on
``version``), and while an alarm is raised pages the Tocsin admins *directly* through
the channels, never through the outbox (the outbox may be exactly what is stuck).
While nothing is wrong it may GET a heartbeat URL, so an outside monitor notices
when the whole engine goes quiet (a dead man's switch).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from tocsin.channels.base import Channel, Envelope
from tocsin.db.session import rowcount
from tocsin.engine.module import CycleContext
from tocsin.engine.tables import EngineAlarm, EngineInstance
from tocsin.escalation import repo as escalation_repo
from tocsin.escalation.tables import EscalationState
from tocsin.incidents.tables import Incident
from tocsin.kernel.logging import get_logger
from tocsin.notifications.actions import DUE_STATUSES
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import contacts
from tocsin.people.tables import User

log = get_logger("tocsin.engine.watchdog")

OVERDUE: Final = "overdue_escalations"
STUCK: Final = "stuck_dispatcher"
KINDS: Final = (OVERDUE, STUCK)
# The order an admin is tried in: the first method that takes the message wins.
METHOD_ORDER: Final = ("sms", "voice", "ntfy", "push", "slack", "teams", "webhook", "email")
HEARTBEAT_TIMEOUT: Final = 5.0


@dataclass(frozen=True)
class WatchdogConfig:
    overdue_after: timedelta = timedelta(seconds=60)
    stuck_after: timedelta = timedelta(seconds=120)
    repeat_every: timedelta = timedelta(minutes=15)
    emails: tuple[str, ...] = ()
    heartbeat_url: str | None = None
    heartbeat_every: timedelta = timedelta(seconds=30)
    send_timeout: float = 15.0

    def __post_init__(self) -> None:
        if self.heartbeat_url is not None:
            parts = urlsplit(self.heartbeat_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("watchdog_heartbeat_url must be an http:// or https:// URL")


@dataclass(frozen=True)
class PagingHealth:
    """How far behind paging is, right now (read by /metrics and the watchdog)."""

    escalations_overdue: int
    escalation_oldest_due_seconds: float
    oldest_overdue_incident: int | None
    outbox_due: int
    outbox_stuck: int
    outbox_oldest_due_seconds: float
    outbox_failed: int
    cycle_ms: float | None = None
    alarms: Mapping[str, bool] = field(default_factory=dict)


def measure(
    tx: Session,
    *,
    now: datetime,
    overdue_after: timedelta,
    stuck_after: timedelta = timedelta(seconds=120),
    instance_id: str | None = None,
) -> PagingHealth:
    """Read paging's backlog: overdue steps, due and failed messages, and the alarms."""
    oldest_step = escalation_repo.oldest_due(tx, now=now)
    overdue = escalation_repo.count_overdue(tx, before=now - overdue_after)
    oldest_incident = tx.execute(
        select(Incident.number)
        .join(EscalationState, EscalationState.incident_id == Incident.id)
        .where(
            EscalationState.status == "active",
            EscalationState.next_step_at < now - overdue_after,
        )
        .order_by(EscalationState.next_step_at)
        .limit(1)
    ).scalar_one_or_none()
    due = OutboundMessage.status.in_(DUE_STATUSES), OutboundMessage.next_attempt_at <= now
    oldest_message, due_count = tx.execute(
        select(func.min(OutboundMessage.next_attempt_at), func.count()).where(*due)
    ).one()
    stuck = tx.execute(
        select(func.count()).where(
            OutboundMessage.status.in_(DUE_STATUSES),
            OutboundMessage.next_attempt_at < now - stuck_after,
        )
    ).scalar_one()
    failed = tx.execute(select(func.count()).where(OutboundMessage.status == "failed")).scalar_one()
    cycle_ms = None
    if instance_id is not None:
        cycle_ms = tx.execute(
            select(EngineInstance.last_cycle_ms).where(EngineInstance.id == instance_id)
        ).scalar_one_or_none()
    raised = {
        kind: raised_at is not None
        for kind, raised_at in tx.execute(select(EngineAlarm.kind, EngineAlarm.raised_at)).all()
    }
    return PagingHealth(
        escalations_overdue=overdue,
        escalation_oldest_due_seconds=_age(now, oldest_step),
        oldest_overdue_incident=oldest_incident,
        outbox_due=int(due_count),
        outbox_stuck=int(stuck),
        outbox_oldest_due_seconds=_age(now, oldest_message),
        outbox_failed=int(failed),
        cycle_ms=cycle_ms,
        alarms={kind: raised.get(kind, False) for kind in sorted({*KINDS, *raised})},
    )


def _age(now: datetime, then: datetime | None) -> float:
    return 0.0 if then is None else max(0.0, (now - then).total_seconds())


def span(seconds: float) -> str:
    """A duration the way a person says it: 45 s, 4 min, 2 h 5 min."""
    if seconds < 60:
        return f"{int(seconds)} s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def problems(health: PagingHealth, config: WatchdogConfig) -> dict[str, str]:
    """What is wrong, per alarm kind, in a sentence with numbers; absent kinds are fine."""
    out: dict[str, str] = {}
    if health.escalations_overdue:
        steps = "step is" if health.escalations_overdue == 1 else "steps are"
        sentence = (
            f"{health.escalations_overdue} escalation {steps} overdue by up to "
            f"{span(health.escalation_oldest_due_seconds)}"
        )
        if health.oldest_overdue_incident is not None:
            sentence += f"; the oldest is incident #{health.oldest_overdue_incident}"
        out[OVERDUE] = sentence + "."
    if health.outbox_stuck:
        messages = "message is" if health.outbox_stuck == 1 else "messages are"
        out[STUCK] = (
            f"{health.outbox_stuck} outbound {messages} waiting to be sent for more than "
            f"{span(config.stuck_after.total_seconds())}; the oldest has waited "
            f"{span(health.outbox_oldest_due_seconds)} (the dispatcher may be stuck)."
        )
    return out


@dataclass(frozen=True)
class Alert:
    """An alarm to page about now (raised, or still raised after the repeat interval)."""

    kind: str
    sentence: str
    raised_at: datetime
    repeat: bool


class Watchdog:
    """Raises and clears alarms, pages admins directly, beats the dead man's switch."""

    name = "watchdog"
    version = 1

    def __init__(
        self,
        channels: Mapping[str, Channel],
        config: WatchdogConfig,
        *,
        http: httpx.Client | None = None,
    ) -> None:
        self.channels = channels  # the container's dict: tests may swap transports in it
        self.config = config
        self.http = http
        self.last_beat_at: datetime | None = None

    def run(self, ctx: CycleContext) -> int:
        now = ctx.clock.now()
        with ctx.db.transaction() as tx:
            health = measure(
                tx,
                now=now,
                overdue_after=self.config.overdue_after,
                stuck_after=self.config.stuck_after,
                instance_id=ctx.instance_id,
            )
            wrong = problems(health, self.config)
            alerts = [
                a
                for kind in KINDS
                if (a := self._judge(tx, kind, wrong.get(kind), health, now)) is not None
            ]
            any_raised = bool(
                tx.execute(
                    select(func.count()).where(EngineAlarm.raised_at.is_not(None))
                ).scalar_one()
            )
        sent = 0
        if alerts:
            sent = self._page_admins(ctx, alerts)
        if not any_raised:
            self._beat(now)
        return len(alerts) + sent

    # -- alarms ---------------------------------------------------------------------------

    def _judge(
        self, tx: Session, kind: str, sentence: str | None, health: PagingHealth, now: datetime
    ) -> Alert | None:
        """Raise, keep or clear one alarm (compare-and-set); an Alert when admins need a page."""
        row = tx.get(EngineAlarm, kind)
        detail: dict[str, Any] = {
            "message": sentence or "",
            "escalations_overdue": health.escalations_overdue,
            "escalation_oldest_due_seconds": round(health.escalation_oldest_due_seconds, 1),
            "oldest_overdue_incident": health.oldest_overdue_incident,
            "outbox_stuck": health.outbox_stuck,
            "outbox_oldest_due_seconds": round(health.outbox_oldest_due_seconds, 1),
            "cycle_ms": health.cycle_ms,
        }
        if sentence is None:
            if row is None or row.raised_at is None:
                return None
            raised_at = row.raised_at
            if self._cas(tx, row, raised_at=None, cleared_at=now, detail=detail):
                log.warning(
                    "watchdog.alarm_cleared",
                    kind=kind,
                    raised_for=(now - raised_at).total_seconds(),
                )
            return None
        if row is None:
            tx.execute(
                insert(EngineAlarm).values(
                    kind=kind,
                    raised_at=now,
                    cleared_at=None,
                    notified_at=now,
                    detail=detail,
                    version=0,
                )
            )
            log.error("watchdog.alarm_raised", kind=kind, message=sentence)
            return Alert(kind, sentence, now, repeat=False)
        if row.raised_at is None:
            if self._cas(tx, row, raised_at=now, cleared_at=None, notified_at=now, detail=detail):
                log.error("watchdog.alarm_raised", kind=kind, message=sentence)
                return Alert(kind, sentence, now, repeat=False)
            return None
        raised_at = row.raised_at
        due = row.notified_at is None or now - row.notified_at >= self.config.repeat_every
        if due:
            if self._cas(tx, row, notified_at=now, detail=detail):
                return Alert(kind, sentence, raised_at, repeat=True)
            return None
        self._cas(tx, row, detail=detail)
        return None

    @staticmethod
    def _cas(tx: Session, row: EngineAlarm, **values: Any) -> bool:
        """Change ``row`` only if nobody else did since we read it (exactly one row = mine)."""
        result = tx.execute(
            update(EngineAlarm)
            .where(EngineAlarm.kind == row.kind, EngineAlarm.version == row.version)
            .values(**values, version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        tx.expire(row)
        return rowcount(result) == 1

    # -- the second path ------------------------------------------------------------------

    def _page_admins(self, ctx: CycleContext, alerts: Sequence[Alert]) -> int:
        """Send straight through the channels: each admin by the first method that works."""
        subject = "Tocsin paging is behind: " + ", ".join(a.kind for a in alerts)
        lines = [
            ("Still: " if a.repeat else "") + a.sentence + f" (since {a.raised_at:%H:%M} UTC)"
            for a in alerts
        ]
        body = (
            "Tocsin's watchdog found paging falling behind:\n\n"
            + "\n".join(f"- {line}" for line in lines)
            + "\n\nPeople may not be paged on time. Check the engine (tocsin engine logs, "
            "/readyz, /metrics) and the outbound messages."
        )
        key = f"watchdog:{ctx.clock.now().isoformat()}"
        with ctx.db.read() as tx:
            admins = list(
                tx.execute(
                    select(User).where(User.role == "admin", User.is_active).order_by(User.email)
                ).scalars()
            )
            methods = contacts.methods_of(tx, [a.id for a in admins])
            plans = [
                (
                    admin.email,
                    [
                        (m.kind, m.address)
                        for m in sorted(
                            (m for m in methods.get(admin.id, []) if m.verified_at is not None),
                            key=lambda m: _rank(m.kind),
                        )
                        if m.kind in METHOD_ORDER
                    ],
                )
                for admin in admins
            ]
        plans += [(address, [("email", address)]) for address in self.config.emails]
        reached = 0
        for who, ways in plans:
            for kind, address in ways:
                if self._send(key, kind, address, subject, body):
                    reached += 1
                    log.info("watchdog.admin_paged", to=who, channel=kind)
                    break
            else:
                log.error("watchdog.admin_unreachable", to=who, tried=[k for k, _ in ways])
        return reached

    def _send(self, key: str, kind: str, address: str, subject: str, body: str) -> bool:
        channel = self.channels.get(kind)
        if channel is None:
            return False
        envelope = Envelope(
            message_id=str(uuid.uuid4()),
            dedup_key=f"{key}:{kind}:{address}",
            channel=kind,
            recipient=address,
            subject=subject,
            body=body if kind not in ("sms", "voice") else subject + ". " + body.split("\n\n")[1],
            context={"kind": "watchdog"},
        )
        try:
            channel.send(envelope, timeout=self.config.send_timeout)
        except Exception as exc:  # any failure: try this person's next method
            log.warning("watchdog.page_failed", channel=kind, error=str(exc)[:200])
            return False
        return True

    # -- dead man's switch ----------------------------------------------------------------

    def _beat(self, now: datetime) -> None:
        url = self.config.heartbeat_url
        if url is None:
            return
        if self.last_beat_at is not None and now - self.last_beat_at < self.config.heartbeat_every:
            return
        self.last_beat_at = now
        try:
            if self.http is not None:
                response = self.http.get(url, timeout=HEARTBEAT_TIMEOUT)
            else:
                response = httpx.get(url, timeout=HEARTBEAT_TIMEOUT)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("watchdog.heartbeat_failed", error=str(exc)[:200])


def _rank(kind: str) -> int:
    return METHOD_ORDER.index(kind) if kind in METHOD_ORDER else len(METHOD_ORDER)
