"""Paging for incidents: escalation steps, responders, delivery results, fallbacks, "unreachable".

The engine calls ``run_due`` (take due escalation steps) and ``on_delivery`` (after each
send attempt of a page). Incident actions call ``begin``, ``halt`` and ``restart``. Every
change writes the timeline in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.escalation import actions as escalation
from tocsin.escalation import repo as escalation_repo
from tocsin.escalation import rules as escalation_rules
from tocsin.escalation.tables import EscalationPolicy, EscalationState
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import ValidationFailed
from tocsin.notifications import actions as outbox
from tocsin.notifications.actions import Claim
from tocsin.notifications.personal import PageContent, Throttles, page_user, render_page
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import contact_rules, contacts
from tocsin.people.rules import authorize
from tocsin.people.tables import ContactMethod, User
from tocsin.services.tables import Service

from . import repo
from .tables import Alert, Incident
from .timeline import append

ENGINE = Actor.system(name="Tocsin engine")


@dataclass(frozen=True)
class PagingConfig:
    throttles: Throttles = field(default_factory=Throttles)
    default_escalation_minutes: int = escalation_rules.DEFAULT_DELAY_MINUTES


def begin(tx: Session, incident: Incident, service: Service | None, *, now: datetime) -> None:
    """Start escalating a new incident by its service's policy (held incidents wait)."""
    if incident.held_until is not None:
        return
    policy = None
    if service is not None and service.escalation_policy_id is not None:
        policy = tx.get(EscalationPolicy, service.escalation_policy_id)
    state = escalation.start(tx, incident_id=incident.id, policy=policy, now=now)
    # An incident without a service pages whom its author chooses (``tocsin page``, a
    # trigger with an assignee): only a service without a policy is an alarm.
    if policy is None and service is not None and incident.assignee_id is None:
        append(
            tx,
            incident,
            kind="incident.unreachable",
            actor=ENGINE,
            at=now,
            data={"why": "The service has no escalation policy: nobody is paged."},
        )
        escalation.mark_unreachable(state, now=now, people=[])


def halt(tx: Session, incident: Incident, *, now: datetime) -> None:
    """Acknowledged, snoozed or resolved: stop escalating and cancel pages not yet sent."""
    escalation.stop(tx, incident_id=incident.id, now=now)
    cancelled = outbox.cancel_pages(tx, incident_id=incident.id, now=now)
    if cancelled:
        append(
            tx,
            incident,
            kind="notification.cancelled",
            actor=ENGINE,
            at=now,
            data={"count": cancelled},
        )


def restart(tx: Session, incident: Incident, *, now: datetime) -> None:
    """Triggered again (ack timeout, snooze over, support hours began): from the first level."""
    state = escalation_repo.find_state(tx, incident.id)
    if state is None:
        service = None if incident.service_id is None else tx.get(Service, incident.service_id)
        begin(tx, incident, service, now=now)
        return
    escalation.restart(tx, incident_id=incident.id, now=now)


def may_acknowledge(tx: Session, incident: Incident, user_id: uuid.UUID) -> bool:
    """The assignee, or anyone paged for this incident, acknowledges."""
    if incident.assignee_id in (None, user_id):
        return True
    state = escalation_repo.find_state(tx, incident.id)
    return state is not None and str(user_id) in state.paged_user_ids


def _content(tx: Session, incident: Incident, reason: str) -> PageContent:
    service = None if incident.service_id is None else tx.get(Service, incident.service_id)
    runbook: str | None = None
    first_alert = tx.execute(
        select(Alert).where(Alert.incident_id == incident.id).order_by(Alert.id).limit(1)
    ).scalar_one_or_none()
    if first_alert is not None:
        for link in first_alert.links or []:
            if "runbook" in (link.get("text") or "").lower():
                runbook = link.get("href")
                break
    if runbook is None and service is not None and service.runbook_links:
        runbook = service.runbook_links[0].get("url")
    return PageContent(
        incident_id=incident.id,
        number=incident.number,
        title=incident.title,
        service=service.name if service is not None else "no service",
        urgency=incident.urgency,
        severity=incident.severity,
        runbook_url=runbook,
        reason=reason,
    )


def _page_people(
    tx: Session,
    incident: Incident,
    recipients: Sequence[escalation_rules.Recipient],
    *,
    step_key: str,
    reason: str,
    now: datetime,
    config: PagingConfig,
    escalation_minutes: int,
) -> list[dict[str, Any]]:
    """Queue each recipient's notifications; returns who was paged and how, for the timeline."""
    ids = [uuid.UUID(r.user_id) for r in recipients]
    users = {u.id: u for u in tx.execute(select(User).where(User.id.in_(ids))).scalars()}
    methods = contacts.methods_of(tx, ids)
    content = _content(tx, incident, reason)
    names = escalation_repo.target_names(
        tx, {escalation_rules.Target(r.via, r.via_id) for r in recipients}
    )
    out: list[dict[str, Any]] = []
    for r in recipients:
        user = users.get(uuid.UUID(r.user_id))
        if user is None:
            continue
        messages = page_user(
            tx,
            user=user,
            content=content,
            step_key=step_key,
            paged_at=now,
            now=now,
            throttles=config.throttles,
            escalation_minutes=escalation_minutes,
            methods=methods.get(user.id, []),
        )
        out.append(
            {
                "user_id": str(user.id),
                "name": user.name,
                "via": r.via,
                "via_name": names.get(escalation_rules.Target(r.via, r.via_id), ""),
                "shadow": r.shadow,
                "methods": sorted({m.channel for m in messages}),
                "reachable": bool(messages),
                "phones": contacts.phones_of(methods.get(user.id, [])),
            }
        )
    return out


def _call_by_hand(paged: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"name": p["name"], "phones": p["phones"]} for p in paged if not p.get("shadow")]


def run_due(
    tx: Session,
    *,
    now: datetime,
    limit: int = 50,
    skip_locked: bool = False,
    config: PagingConfig | None = None,
) -> int:
    """Take every due escalation step (one engine wins each, by compare-and-set)."""
    cfg = config or PagingConfig()
    states = escalation.claim_due(tx, now=now, limit=limit, skip_locked=skip_locked)
    if not states:
        return 0
    incidents = {
        i.id: i
        for i in tx.execute(
            select(Incident).where(Incident.id.in_([s.incident_id for s in states]))
        ).scalars()
    }
    for state in states:
        incident = incidents.get(state.incident_id)
        if incident is None or incident.status != "triggered" or incident.held_until is not None:
            escalation.stop(tx, incident_id=state.incident_id, now=now)
            continue
        _take_step(tx, incident, state, now=now, config=cfg)
    tx.flush()
    return len(states)


def _take_step(
    tx: Session, incident: Incident, state: EscalationState, *, now: datetime, config: PagingConfig
) -> None:
    step = escalation.take_step(tx, state, now=now)
    levels = len(state.snapshot.get("levels", []))
    reason = f"Escalation level {step.level + 1} of {levels}"
    if state.policy_name:
        reason += f" ({state.policy_name})"
    if step.loop:
        reason += f", repeat {step.loop}"
    paged = _page_people(
        tx,
        incident,
        step.recipients,
        step_key=f"{incident.id}:{step.number}",
        reason=reason + ".",
        now=now,
        config=config,
        escalation_minutes=step.delay_minutes,
    )
    acting = [p for p in paged if not p["shadow"]]
    if acting and incident.assignee_id != uuid.UUID(acting[0]["user_id"]):
        incident.assignee_id = uuid.UUID(acting[0]["user_id"])
        incident.updated_at = now
    append(
        tx,
        incident,
        kind="incident.escalated",
        actor=ENGINE,
        at=now,
        data={
            "level": step.level + 1,
            "levels": levels,
            "loop": step.loop,
            "policy": state.policy_name,
            "paged": paged,
            "next_step_at": None if step.next_step_at is None else step.next_step_at.isoformat(),
            "last_level": step.exhausted,
        },
    )
    if not any(p["reachable"] for p in acting):
        why = (
            "This level reaches nobody: no one is on call for its targets."
            if not acting
            else "Nobody at this level has a verified contact method."
        )
        if incident.urgency == "high":
            # Low urgency never wakes anybody, so it is noted but not raised in red.
            escalation.mark_unreachable(state, now=now, people=_call_by_hand(paged))
        append(
            tx,
            incident,
            kind="incident.unreachable",
            actor=ENGINE,
            at=now,
            data={"why": why, "level": step.level + 1, "call": _call_by_hand(paged)},
        )
        if not step.exhausted:
            # Don't wait out the delay of a level that reaches nobody: try the next now.
            state.next_step_at = now


def add_responders(
    tx: Session,
    *,
    incident_id: uuid.UUID,
    targets: Sequence[dict[str, Any]],
    actor: Actor,
    now: datetime,
    message: str = "",
    config: PagingConfig | None = None,
) -> list[dict[str, Any]]:
    """Page people, the on-call of schedules, or whole teams for this incident, now."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    if incident.status == "resolved":
        raise ValidationFailed.one("targets", f"#{incident.number} is resolved.")
    level = escalation_rules.parse_levels(
        [{"delay_minutes": 5, "targets": list(targets)}], known=escalation_repo.known_targets(tx)
    )[0]
    recipients = escalation_repo.resolve_level(tx, level, at=now)
    reason = f"{actor.name} added you as a responder."
    if message.strip():
        reason += f" “{message.strip()[:500]}”"
    paged = _page_people(
        tx,
        incident,
        recipients,
        step_key=f"{incident.id}:r:{now.timestamp():.6f}",
        reason=reason,
        now=now,
        config=config or PagingConfig(),
        escalation_minutes=5,
    )
    _remember(tx, incident, paged)
    append(
        tx,
        incident,
        kind="incident.responders_added",
        actor=actor,
        at=now,
        data={"paged": paged, "message": message.strip()[:500]},
    )
    return paged


def page_assignee(
    tx: Session,
    incident: Incident,
    *,
    actor: Actor,
    now: datetime,
    config: PagingConfig | None = None,
) -> None:
    """Page the person an incident was just given to (reassignment)."""
    if incident.assignee_id is None:
        return
    paged = _page_people(
        tx,
        incident,
        [escalation_rules.Recipient(str(incident.assignee_id), "user", str(incident.assignee_id))],
        step_key=f"{incident.id}:a:{now.timestamp():.6f}",
        reason=f"{actor.name} assigned this incident to you.",
        now=now,
        config=config or PagingConfig(),
        escalation_minutes=5,
    )
    state = _remember(tx, incident, paged)
    if paged and paged[0]["reachable"] and state is not None:
        escalation.clear_unreachable(state, now=now)
    if paged and not paged[0]["reachable"]:
        append(
            tx,
            incident,
            kind="incident.unreachable",
            actor=ENGINE,
            at=now,
            data={
                "why": f"{paged[0]['name']} has no verified contact method.",
                "call": _call_by_hand(paged),
            },
        )


def _remember(
    tx: Session, incident: Incident, paged: Sequence[dict[str, Any]]
) -> EscalationState | None:
    """Everyone paged for an incident may acknowledge it."""
    state = escalation_repo.find_state(tx, incident.id)
    if state is not None:
        state.paged_user_ids = list(
            dict.fromkeys([*state.paged_user_ids, *(p["user_id"] for p in paged)])
        )
    return state


def escalate(
    tx: Session,
    *,
    incident_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    to_level: int | None = None,
) -> Incident:
    """Page the next level (or a chosen one) now instead of waiting out the delay."""
    authorize(actor, "incidents.write")
    incident = repo.get_incident(tx, incident_id)
    if incident.status == "resolved":
        raise ValidationFailed.one("level", f"#{incident.number} is resolved.")
    state = escalation.escalate_now(tx, incident_id=incident.id, now=now, to_level=to_level)
    if incident.status != "triggered":
        incident.status = "triggered"
        incident.acknowledged_at = None
        incident.ack_deadline_at = None
        incident.snoozed_until = None
    incident.updated_at = now
    incident.version += 1
    append(
        tx,
        incident,
        kind="incident.escalate_requested",
        actor=actor,
        at=now,
        data={"level": state.level + 1},
    )
    return incident


def drop_stale(tx: Session, claims: Sequence[Claim], *, now: datetime) -> list[Claim]:
    """Claims still worth sending: a page about an incident acknowledged or resolved since it
    was queued (an ack racing an escalation step) is cancelled instead. One query a batch."""
    pages = {c.incident_id for c in claims if c.kind == "page" and c.incident_id is not None}
    if not pages:
        return list(claims)
    done = set(
        tx.execute(
            select(Incident.id).where(Incident.id.in_(pages), Incident.status != "triggered")
        ).scalars()
    )
    keep: list[Claim] = []
    for claim in claims:
        if claim.kind == "page" and claim.incident_id in done:
            outbox.cancel_claim(tx, claim=claim, now=now, why="the incident was acknowledged")
        else:
            keep.append(claim)
    return keep


# -- delivery results ----------------------------------------------------------------------


def on_delivery(
    tx: Session, *, claim: Claim, outcome: str, error: str | None, now: datetime
) -> None:
    """After a page attempt: timeline, clear or raise "unreachable", fall back on failure.

    ``outcome`` is sent, retry (a temporary failure, to be tried again) or failed (final).
    """
    if claim.incident_id is None or claim.kind not in ("page", "bundle"):
        return
    incident = tx.get(Incident, claim.incident_id)
    if incident is None:
        return
    user = None if claim.user_id is None else tx.get(User, claim.user_id)
    latency = None if claim.queued_at is None else (now - claim.queued_at).total_seconds()
    data: dict[str, Any] = {
        "user_id": None if user is None else str(user.id),
        "name": None if user is None else user.name,
        "channel": claim.channel,
        "to": contact_rules.mask(claim.channel, claim.recipient),
        "attempt": claim.attempt,
        "message_id": str(claim.message_id),
    }
    if latency is not None:
        data["seconds_since_queued"] = round(latency, 3)
    if error:
        data["error"] = error[:300]
    kind = {
        "sent": "notification.sent",
        "retry": "notification.retrying",
        "failed": "notification.failed",
    }[outcome]
    append(tx, incident, kind=kind, actor=ENGINE, at=now, data=data)
    state = escalation_repo.find_state(tx, incident.id)
    if outcome == "sent":
        if state is not None:
            escalation.clear_unreachable(state, now=now)
        return
    if outcome != "failed" or user is None or incident.status == "resolved":
        return
    step = str(claim.context.get("step", ""))
    fallback = _fall_back(tx, incident, user, claim=claim, step=step, now=now)
    if fallback is not None:
        append(
            tx,
            incident,
            kind="notification.fallback",
            actor=ENGINE,
            at=now,
            data={
                "name": user.name,
                "failed": claim.channel,
                "next": fallback.channel,
                "to": contact_rules.mask(fallback.channel, fallback.recipient),
            },
        )
        return
    if state is not None and incident.status == "triggered" and not _anyone_reached(tx, step):
        people = [
            {"name": user.name, "phones": contacts.phones_of(contacts.list_methods(tx, user.id))}
        ]
        escalation.mark_unreachable(state, now=now, people=people)
        append(
            tx,
            incident,
            kind="incident.unreachable",
            actor=ENGINE,
            at=now,
            data={
                "why": f"Every way to reach {user.name} failed; the last was {claim.channel}.",
                "call": people,
            },
        )


def _step_messages(tx: Session, step: str) -> Sequence[OutboundMessage]:
    if not step:
        return []
    return (
        tx.execute(select(OutboundMessage).where(OutboundMessage.dedup_key.like(f"page:{step}:%")))
        .scalars()
        .all()
    )


def _anyone_reached(tx: Session, step: str) -> bool:
    """Was any page of this step sent, or is any still waiting or being sent?"""
    return any(
        m.status in ("sent", "pending", "retry", "sending") for m in _step_messages(tx, step)
    )


def _fall_back(
    tx: Session, incident: Incident, user: User, *, claim: Claim, step: str, now: datetime
) -> OutboundMessage | None:
    """The next method of this person for this step, now: a waiting rule made due at once,
    else a verified method not yet tried in this step."""
    mine = [m for m in _step_messages(tx, step) if m.user_id == user.id]
    waiting = sorted(
        (m for m in mine if m.status in ("pending", "retry") and m.next_attempt_at > now),
        key=lambda m: m.next_attempt_at,
    )
    for message in waiting:
        if message.channel != claim.channel and outbox.hurry(tx, message_id=message.id, now=now):
            tx.expire(message)
            return message
    tried = {(m.channel, m.recipient) for m in mine}
    candidates: list[ContactMethod] = [
        m
        for m in contacts.list_methods(tx, user.id)
        if m.verified_at is not None and (m.kind, m.address) not in tried
    ]
    if not candidates:
        return None
    method = candidates[0]
    context = {**claim.context, "method_id": str(method.id), "method_kind": method.kind}
    content = _content(tx, incident, "Another way to reach you failed.")
    subject, body = render_page(content, kind=method.kind)
    return outbox.enqueue(
        tx,
        dedup_key=f"page:{step}:{user.id}:fb:{method.id}",
        channel=method.kind,
        recipient=method.address,
        user_id=user.id,
        subject=subject,
        body=body,
        context=context,
        now=now,
        kind="page",
        incident_id=incident.id,
    )
