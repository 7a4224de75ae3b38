"""Incident pages: the live list with its filters, and the form to trigger an incident by hand.

The list is also served as an HTML fragment (``?partial=1``) that ``live.js`` re-fetches
every few seconds, so an open list shows new incidents without a reload. One incident's
page is ``incident_detail``; its actions are POST forms in ``incident_actions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.incidents import actions as incident_actions
from tocsin.incidents import repo as incident_repo
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.tables import Incident
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.people.tables import User
from tocsin.services import repo as service_repo
from tocsin.services.tables import Service
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, field_messages, text
from tocsin.web.pages.render import render

router = APIRouter()

LIST_LIMIT = 100
USER_LIMIT = 1000
SERVICE_LIMIT = 500
LIVE_SECONDS = 5
OPEN = ("triggered", "acknowledged")
STATUS_CHOICES = {
    "open": "Open",
    "triggered": "Triggered",
    "acknowledged": "Acknowledged",
    "resolved": "Resolved",
    "all": "All",
}
FRAGMENT_HEADERS = {"Cache-Control": "no-store", "X-Tocsin-Fragment": "1"}


def age_in_words(since: datetime, now: datetime) -> str:
    """``42 s``, ``5 min``, ``3 h 10 min``, ``2 d 4 h``: short enough for a phone row."""
    seconds = max(0, int((now - since).total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def severity_levels() -> list[tuple[int, str, str]]:
    return [(n, label, meaning) for n, label, meaning in incident_rules.SEVERITY_SCALE]


def users_by_id(tx: Session) -> dict[uuid.UUID, User]:
    return {u.id: u for u in people_repo.list_users(tx, limit=USER_LIMIT)}


def _services(tx: Session) -> dict[uuid.UUID, Service]:
    return {s.id: s for s in service_repo.list_services(tx, limit=SERVICE_LIMIT)}


# --- The list -----------------------------------------------------------------------------


def _list_query(
    status: str, service: str, severity: str, urgency: str
) -> tuple[dict[str, str], incident_repo.IncidentFilter, bool]:
    """Checked filter values (unknown ones dropped), the repo filter, and open-first mode."""
    chosen = {
        "status": status if status in STATUS_CHOICES else "open",
        "service": "",
        "severity": "",
        "urgency": urgency if urgency in incident_rules.URGENCIES else "",
    }
    service_id: uuid.UUID | None = None
    try:
        service_id = uuid.UUID(service) if service else None
        chosen["service"] = service
    except ValueError:
        service_id = None
    level: int | None = None
    major = severity == "major"
    if major:
        chosen["severity"] = "major"
    elif severity.isdigit() and any(int(severity) == n for n, _l, _m in severity_levels()):
        level = int(severity)
        chosen["severity"] = severity
    statuses: tuple[str, ...] = {
        "open": OPEN,
        "all": (),
    }.get(chosen["status"], (chosen["status"],))
    flt = incident_repo.IncidentFilter(
        statuses=statuses,
        service_id=service_id,
        severity=level,
        urgency=chosen["urgency"] or None,
        major_only=major,
    )
    return chosen, flt, chosen["status"] == "all"


def _query_string(chosen: Mapping[str, str]) -> str:
    return "&".join(
        f"{k}={v}" for k, v in chosen.items() if v and not (k == "status" and v == "open")
    )


def _needs_action_first(rows: Sequence[Incident]) -> list[Incident]:
    """Triggered (nobody on it yet) before acknowledged; newest first within each (stable)."""
    return sorted(rows, key=lambda i: i.status != "triggered")


def list_rows(
    tx: Session, flt: incident_repo.IncidentFilter, open_first: bool
) -> Sequence[Incident]:
    """Open first (triggered, then acknowledged), then resolved; newest first within each."""
    if not open_first:
        rows = incident_repo.list_incidents(tx, filter=flt, limit=LIST_LIMIT)
        return _needs_action_first(rows) if set(flt.statuses) == set(OPEN) else rows
    opened = _needs_action_first(
        incident_repo.list_incidents(
            tx,
            filter=replace(flt, statuses=OPEN),
            limit=LIST_LIMIT,
        )
    )
    closed = incident_repo.list_incidents(
        tx,
        filter=replace(flt, statuses=("resolved",)),
        limit=max(0, LIST_LIMIT - len(opened)),
    )
    return [*opened, *closed]


def table_context(tx: Session, rows: Sequence[Incident], now: datetime) -> dict[str, Any]:
    return {
        "incidents": rows,
        "users": users_by_id(tx),
        "services_by_id": _services(tx),
        "now": now,
        "age": age_in_words,
        "severity_label": incident_rules.severity_label,
        "is_major": incident_rules.is_major,
    }


@router.get("/incidents")
def incident_list(
    request: Request,
    viewer: Viewer,
    services: AppServices,
    status: str = "open",
    service: str = "",
    severity: str = "",
    urgency: str = "",
    partial: str = "",
) -> Response:
    people_rules.authorize(viewer.actor, "incidents.read")
    chosen, flt, open_first = _list_query(status, service, severity, urgency)
    now = services.clock.now()
    with services.db.read() as tx:
        rows = list_rows(tx, flt, open_first)
        context = table_context(tx, rows, now)
        if partial:
            return render(
                request, "_incidents_table.html", viewer, context, headers=FRAGMENT_HEADERS
            )
        query = _query_string(chosen)
        context.update(
            {
                "section": "incidents",
                "chosen": chosen,
                "status_choices": STATUS_CHOICES,
                "services": sorted(context["services_by_id"].values(), key=lambda s: s.name),
                "severities": severity_levels(),
                "live_url": f"/incidents?partial=1{'&' + query if query else ''}",
                "live_seconds": LIVE_SECONDS,
                "open_count": incident_repo.count_incidents(
                    tx, filter=incident_repo.IncidentFilter(statuses=OPEN)
                ),
            }
        )
        return render(request, "incidents_list.html", viewer, context)


# --- The trigger form -----------------------------------------------------------------------

TRIGGER_FIELDS = ("service_id", "title", "description", "urgency", "severity")


def _trigger_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    *,
    values: Mapping[str, str],
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    with services.db.read() as tx:
        rows = sorted(_services(tx).values(), key=lambda s: s.name)
        return render(
            request,
            "incident_new.html",
            viewer,
            {
                "section": "incidents",
                "services": rows,
                "severities": severity_levels(),
                "values": values,
                "errors": errors or {},
                "message": message,
            },
            status=status,
        )


@router.get("/incidents/new")
def incident_new_form(
    request: Request, viewer: Viewer, services: AppServices, service: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "incidents.trigger")
    return _trigger_page(
        request, viewer, services, values={"urgency": "high", "service_id": service}
    )


@router.post("/incidents/new")
def incident_trigger(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "incidents.trigger")
    values = {k: text(form, k) for k in TRIGGER_FIELDS}
    try:
        try:
            service_id = uuid.UUID(values["service_id"])
        except ValueError:
            raise ValidationFailed.one("service_id", "Pick the service that is affected.") from None
        with services.db.transaction() as tx:
            incident = incident_actions.trigger_incident(
                tx,
                title=values["title"],
                service_id=service_id,
                description=values["description"],
                urgency=values["urgency"],
                severity=values["severity"] or None,
                actor=viewer.actor,
                now=services.clock.now(),
            )
            number = incident.number
    except ValidationFailed as exc:
        return _trigger_page(
            request,
            viewer,
            services,
            values=values,
            errors=field_messages(exc),
            message=exc.message,
            status=FORM_INVALID,
        )
    services.wake()
    return RedirectResponse(f"/incidents/{number}?notice=triggered", status_code=303)


def open_incidents(tx: Session, now: datetime, limit: int) -> dict[str, Any]:
    """The dashboard's view: how many incidents are open and the latest of them."""
    flt = incident_repo.IncidentFilter(statuses=OPEN)
    rows = incident_repo.list_incidents(tx, filter=flt, limit=limit)
    return {
        "open_incident_count": incident_repo.count_incidents(tx, filter=flt),
        **table_context(tx, rows, now),
    }
