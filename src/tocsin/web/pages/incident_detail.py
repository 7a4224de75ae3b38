"""One incident's page: state, actions, alerts, context, merges, severity history, timeline.

The summary and the timeline are also served as HTML fragments that ``live.js``
re-fetches every few seconds, so an open page shows changes without a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.escalation import repo as escalation_repo
from tocsin.incidents import paging
from tocsin.incidents import repo as incident_repo
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.incidents.timeline import KINDS
from tocsin.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.schedules import repo as schedules_repo
from tocsin.services import repo as service_repo
from tocsin.web.deps import AppServices, Principal
from tocsin.web.errors import status_of
from tocsin.web.pages.forms import CheckedForm, Viewer, text, texts
from tocsin.web.pages.incidents import (
    FRAGMENT_HEADERS,
    LIVE_SECONDS,
    age_in_words,
    severity_levels,
    users_by_id,
)
from tocsin.web.pages.render import render

router = APIRouter()

SNOOZE_CHOICES = (15, 30, 60, 120, 240, 480)
# Forms folded under "More actions"; open it when one of them has a message.
MORE_FORMS = ("reassign-", "snooze-", "severity-severity", "urgency-", "priority-", "merge-")

NOTICES = {
    "triggered": "Incident triggered. The service's on-call people are being paged.",
    "acknowledged": "Acknowledged: escalation stopped. You own this incident now.",
    "note": "Note added to the timeline.",
    "resolved": "Resolved.",
    "reassigned": "Reassigned.",
    "snoozed": "Snoozed.",
    "severity": "Severity changed.",
    "urgency": "Urgency changed.",
    "priority": "Priority changed.",
    "merged": "Merged.",
    "escalated": "Escalating now: the level is being paged.",
    "responders": "Responders paged.",
}
PAGING_KINDS = ("incident.escalated", "incident.responders_added")


def _paged_lines(paged: list[dict[str, Any]]) -> list[tuple[str, str]]:
    lines = []
    for p in paged:
        via = {"schedule": "on call for ", "team": "member of "}.get(p.get("via", ""), "")
        how = ", ".join(p.get("methods") or []) or "no verified contact method"
        extra = f" ({via}{p.get('via_name')})" if via else ""
        lines.append(
            (
                "Paged" if p.get("reachable") else "Not reachable",
                f"{p.get('name')}{extra}{' · shadow' if p.get('shadow') else ''} · {how}",
            )
        )
    return lines


def describe(event: IncidentEvent) -> list[tuple[str, str]]:
    """The data of a timeline event as (label, text) lines people can read."""
    data = event.data or {}
    lines: list[tuple[str, str]] = []
    labels = {
        "text": "Note",
        "why": "Why",
        "reason": "Why it joined",
        "summary": "Alert",
        "source": "Source",
        "severity": "Severity",
        "dedup_key": "Dedup key",
        "to_name": "To",
        "from_name": "From",
        "minutes": "Minutes",
        "until": "Until",
        "primary_number": "Into",
        "child_number": "Incident",
        "title": "Title",
        "urgency": "Urgency",
        "priority": "Priority",
        "held_until": "Held until",
        "ack_timeout_at": "Ack timeout at",
        "by": "By",
    }
    if event.kind in ("incident.severity_changed", "incident.urgency_changed"):
        lines.append(("Change", f"{data.get('from') or 'none'} → {data.get('to') or 'none'}"))
        if data.get("major"):
            lines.append(("Major", "yes (SEV-2 or worse)"))
        return lines
    if event.kind in PAGING_KINDS:
        if data.get("level"):
            lines.append(("Level", f"{data['level']} of {data.get('levels') or '?'}"))
        if data.get("policy"):
            lines.append(("Policy", str(data["policy"])))
        if data.get("message"):
            lines.append(("Message", str(data["message"])))
        paged = data.get("paged") or []
        return lines + (_paged_lines(paged) if paged else [("Paged", "nobody")])
    if event.kind.startswith("notification.") and event.kind != "notification.cancelled":
        for key, label in (
            ("name", "To"),
            ("channel", "Channel"),
            ("failed", "Failed"),
            ("next", "Trying"),
            ("to", "Address"),
            ("attempt", "Attempt"),
            ("seconds_since_queued", "Seconds after queued"),
            ("error", "Error"),
        ):
            if data.get(key) not in (None, ""):
                lines.append((label, str(data[key])))
        return lines
    if event.kind == "notification.cancelled":
        return [("Cancelled", f"{data.get('count', 0)} not yet sent")]
    if event.kind == "incident.escalate_requested":
        return [("Level", str(data.get("level", "")))]
    if event.kind == "incident.unreachable":
        lines = [("Why", str(data.get("why") or ""))] if data.get("why") else []
        for c in data.get("call") or []:
            lines.append(
                ("Call", f"{c.get('name')}: {', '.join(c.get('phones') or []) or 'no phone'}")
            )
        return lines
    if event.kind == "incident.priority_changed":
        lines.append(("Change", f"{data.get('from') or 'none'} → {data.get('to') or 'none'}"))
        return lines
    for key, label in labels.items():
        value = data.get(key)
        if value in (None, "", []):
            continue
        if key in ("primary_number", "child_number"):
            value = f"#{value}"
        if key == "severity" and isinstance(value, int):
            value = incident_rules.severity_label(value)
        lines.append((label, str(value)))
    flags = data.get("quality_flags") or []
    if flags:
        lines.append(("Quality", "; ".join(incident_rules.QUALITY_FLAGS.get(f, f) for f in flags)))
    return lines


def timeline_context(tx: Session, incident: Incident) -> dict[str, Any]:
    events = incident_repo.timeline(tx, incident.id, limit=2000)
    return {
        "incident": incident,
        "events": events,
        "kinds": KINDS,
        "describe": describe,
    }


def escalation_context(tx: Session, incident: Incident, now: datetime) -> dict[str, Any]:
    """The escalation panel: policy, where it stands, who was paged last, who to call."""
    state = escalation_repo.find_state(tx, incident.id)
    if state is None:
        return {"escalation": None}
    levels = len(state.snapshot.get("levels", []))
    last_paged = None
    paged: list[dict[str, Any]] = []
    for event in reversed(incident_repo.timeline(tx, incident.id, limit=2000)):
        if event.kind == "incident.escalated":
            paged = list((event.data or {}).get("paged") or [])
            last_paged = event
            break
    responders = [
        p
        for e in incident_repo.timeline(tx, incident.id, limit=2000)
        if e.kind == "incident.responders_added" and (last_paged is None or e.at >= last_paged.at)
        for p in (e.data or {}).get("paged") or []
    ]
    next_at = state.next_step_at
    if next_at is not None and next_at.tzinfo is None:
        next_at = next_at.replace(tzinfo=UTC)
    return {
        "escalation": {
            "state": state,
            "next_at": next_at,
            "next_in": age_in_words(now, next_at) if next_at and next_at > now else None,
            "levels": levels,
            "last_level": (state.level - 1) % levels + 1 if levels and state.step else None,
            "next_level": state.level + 1 if levels else None,
            "paged": paged,
            "responders": responders,
            "last_paged_at": last_paged.at if last_paged else None,
        }
    }


def summary_context(tx: Session, incident: Incident, now: datetime) -> dict[str, Any]:
    assignee = people_repo.find_user(tx, incident.assignee_id) if incident.assignee_id else None
    return {
        **escalation_context(tx, incident, now),
        "incident": incident,
        "assignee": assignee,
        "now": now,
        "age": age_in_words,
        "severity_label": incident_rules.severity_label,
        "major": incident_rules.is_major(incident.severity),
    }


def detail_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    ref: str,
    *,
    notice: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    """The incident page; actions re-render it with their messages when they are refused."""
    people_rules.authorize(viewer.actor, "incidents.read")
    now = services.clock.now()
    with services.db.read() as tx:
        incident = incident_repo.get_incident_ref(tx, ref)
        service = (
            service_repo.find_service(tx, incident.service_id) if incident.service_id else None
        )
        alerts = incident_repo.list_alerts(tx, limit=200, incident_id=incident.id)
        suppressed, changes = (
            incident_repo.context_for(tx, service.id, incident.created_at)
            if service is not None
            else ((), ())
        )
        parent = incident_repo.get_incident(tx, incident.parent_id) if incident.parent_id else None
        people = sorted(
            (u for u in users_by_id(tx).values() if u.is_active), key=lambda u: u.name.lower()
        )
        context: dict[str, Any] = {
            "section": "incidents",
            "service": service,
            "alerts": alerts,
            "suppressed": suppressed,
            "changes": changes,
            "parent": parent,
            "children": incident_repo.children(tx, incident.id),
            "severity_history": incident_repo.severity_history(tx, incident.id),
            "severities": severity_levels(),
            "quality_advice": incident_rules.QUALITY_FLAGS,
            "people": people,
            "snooze_choices": SNOOZE_CHOICES,
            "priorities": incident_rules.PRIORITIES[:3],
            "notice": notice,
            "values": values or {},
            "errors": errors or {},
            "message": message,
            "live_seconds": LIVE_SECONDS,
            **timeline_context(tx, incident),
            **summary_context(tx, incident, now),
        }
        me = viewer.user.id
        context["is_assignee"] = incident.assignee_id == me
        context["may_ack"] = incident.status == "triggered" and incident.assignee_id in (None, me)
        context["may_work"] = people_rules.allows(viewer.actor.role, "incidents.write")
        context["more_open"] = any(k.startswith(MORE_FORMS) for k in errors or {})
        context["page_open"] = any(k.startswith(("escalate-", "responders-")) for k in errors or {})
        context["schedules"] = schedules_repo.list_schedules(tx, limit=500)
        context["teams"] = people_repo.list_teams(tx, limit=500)
        return render(request, "incident_detail.html", viewer, context, status=status)


@router.get("/incidents/{ref}")
def incident_detail(
    request: Request, viewer: Viewer, services: AppServices, ref: str, notice: str = ""
) -> Response:
    return detail_page(request, viewer, services, ref, notice=NOTICES.get(notice))


@router.get("/incidents/{ref}/live/{part}")
def incident_fragment(
    request: Request, viewer: Viewer, services: AppServices, ref: str, part: str
) -> Response:
    """The summary or the timeline of an incident as a fragment for live updates."""
    people_rules.authorize(viewer.actor, "incidents.read")
    now = services.clock.now()
    with services.db.read() as tx:
        incident = incident_repo.get_incident_ref(tx, ref)
        if part == "timeline":
            context = timeline_context(tx, incident)
            return render(
                request, "_incident_timeline.html", viewer, context, headers=FRAGMENT_HEADERS
            )
        context = summary_context(tx, incident, now)
        return render(request, "_incident_summary.html", viewer, context, headers=FRAGMENT_HEADERS)


# --- Paging by hand -------------------------------------------------------------------------


def _page_by_hand(
    request: Request,
    viewer: Principal,
    services: AppServices,
    ref: str,
    *,
    form_name: str,
    values: dict[str, str],
    notice: str,
    run: Any,
) -> Response:
    try:
        with services.db.transaction() as tx:
            incident = incident_repo.get_incident_ref(tx, ref)
            number = incident.number
            run(tx, incident.id)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        errors: dict[str, str] = {}
        for f in exc.fields:
            name = f.field.split("[")[0].split(".")[0]
            errors.setdefault(f"{form_name}-{name if name in values else 'form'}", f.message)
        errors.setdefault(f"{form_name}-form", exc.message)
        return detail_page(
            request,
            viewer,
            services,
            ref,
            values={f"{form_name}-{k}": v for k, v in values.items()},
            errors=errors,
            message=exc.message,
            status=status_of(exc),
        )
    services.wake()
    return RedirectResponse(f"/incidents/{number}?notice={notice}#escalation", status_code=303)


@router.post("/incidents/{ref}/escalate")
def escalate(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    """Page the next level now, or a chosen level (counted from 1)."""
    raw = text(form, "level").strip()
    now = services.clock.now()

    def run(tx: Session, incident_id: Any) -> None:
        level = None
        if raw:
            if not raw.isdigit():
                raise ValidationFailed.one("level", "Choose a level from the list.")
            level = int(raw)
        paging.escalate(tx, incident_id=incident_id, actor=viewer.actor, now=now, to_level=level)

    return _page_by_hand(
        request,
        viewer,
        services,
        ref,
        form_name="escalate",
        values={"level": raw},
        notice="escalated",
        run=run,
    )


@router.post("/incidents/{ref}/responders")
def add_responders(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    """Page people, schedules' on-call or whole teams for this incident now."""
    picked = texts(form, "target")
    message = text(form, "message")
    now = services.clock.now()

    def run(tx: Session, incident_id: Any) -> None:
        targets = []
        for value in picked:
            kind, _, tid = value.partition(":")
            targets.append({"kind": kind, "id": tid})
        if not targets:
            raise ValidationFailed.one("targets", "Choose at least one person, schedule or team.")
        paging.add_responders(
            tx,
            incident_id=incident_id,
            targets=targets,
            message=message,
            actor=viewer.actor,
            now=now,
            config=services.paging,
        )

    return _page_by_hand(
        request,
        viewer,
        services,
        ref,
        form_name="responders",
        values={"targets": ",".join(picked), "message": message},
        notice="responders",
        run=run,
    )
