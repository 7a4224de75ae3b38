"""One incident's page: state, actions, alerts, context, merges, severity history, timeline.

The summary and the timeline are also served as HTML fragments that ``live.js``
re-fetches every few seconds, so an open page shows changes without a reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.incidents import repo as incident_repo
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.incidents.timeline import KINDS
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.services import repo as service_repo
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import Viewer
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
}


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


def summary_context(tx: Session, incident: Incident, now: datetime) -> dict[str, Any]:
    assignee = people_repo.find_user(tx, incident.assignee_id) if incident.assignee_id else None
    return {
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
