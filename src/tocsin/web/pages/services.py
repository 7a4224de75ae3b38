"""Service pages: the list and the forms to add and edit a service (one service: service_detail).

Form inputs are named after the action's field paths (``support_hours.windows[0].end``,
``runbook_links[1].url``) so a validation error lands next to the input that caused it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tocsin.escalation import repo as escalation_repo
from tocsin.kernel.errors import Conflict, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.people.tables import Team
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo
from tocsin.services import rules as service_rules
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, parse_id
from tocsin.web.pages.render import render
from tocsin.web.pages.service_form import (
    FORM_SLOTS,
    form_errors,
    read_service_form,
    service_values,
)

router = APIRouter()

SERVICE_LIMIT = 500
TEAM_LIMIT = 500

DASH = "\N{EN DASH}"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
URGENCY_WORDS = {
    "high": "High urgency, always",
    "low": "Low urgency, always",
    "severity": "By event severity",
    "support_hours": "By support hours",
}
URGENCY_HINTS = {
    "high": "Every event pages at high urgency, whatever its severity or the hour.",
    "low": "Every event notifies at low urgency.",
    "severity": "critical and error events are high urgency; warning and info are low.",
    "support_hours": "High urgency inside the support hours below; outside them, as chosen below.",
}
OUTSIDE_WORDS = {
    "low": "Notify at low urgency",
    "hold": "Hold the alert, then page at high urgency when support hours begin",
}
GROUPING_WORDS = {
    "none": "One incident per alert",
    "time": "Group alerts that arrive within a time window",
    "fields": "Group alerts that share chosen fields, within a time window",
}
KIND_WORDS = {
    "events_v2": "Events API v2",
    "alertmanager": "Alertmanager",
    "generic_webhook": "Generic webhook",
    "heartbeat": "Heartbeat",
}


def dom_id(path: str) -> str:
    """An HTML id for a field path: ``runbook_links[1].url`` → ``runbook_links-1-url``."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", path).strip("-")


def days_in_words(days: Sequence[int]) -> str:
    """``[0, 1, 2, 3, 4]`` → ``Mon-Fri`` (en dash); ``[0, 2]`` → ``Mon, Wed``; runs of 3+ join."""
    ordered = sorted(set(days))
    parts: list[str] = []
    run: list[int] = []
    for day in [*ordered, None]:
        if day is not None and run and day == run[-1] + 1:
            run.append(day)
            continue
        if len(run) >= 3:
            parts.append(f"{DAYS[run[0]]}{DASH}{DAYS[run[-1]]}")
        else:
            parts.extend(DAYS[d] for d in run)
        run = [day] if day is not None else []
    return ", ".join(parts)


def hours_in_words(hours: Mapping[str, Any] | None) -> list[str]:
    """One line per window, e.g. ``Mon-Fri 09:00-17:00`` (en dashes); empty without hours."""
    if not hours:
        return []
    return [
        f"{days_in_words(w.get('days', []))} {w.get('start')}{DASH}{w.get('end')}"
        for w in hours.get("windows", [])
    ]


def minutes_in_words(minutes: int | None) -> str:
    if minutes is None:
        return "Never"
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _teams_by_id(teams: Sequence[Team]) -> dict[uuid.UUID, Team]:
    return {t.id: t for t in teams}


@router.get("/services")
def service_list(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "services.read")
    with services.db.read() as tx:
        rows = service_repo.list_services(tx, limit=SERVICE_LIMIT)
        teams = _teams_by_id(people_repo.list_teams(tx, limit=TEAM_LIMIT))
        return render(
            request,
            "services_list.html",
            viewer,
            {
                "section": "services",
                "services": rows,
                "teams": teams,
                "urgency_words": URGENCY_WORDS,
            },
        )


# --- The new and edit forms -------------------------------------------------------------


def _form_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    *,
    service_id: uuid.UUID | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    with services.db.read() as tx:
        teams = people_repo.list_teams(tx, limit=TEAM_LIMIT)
        policies = escalation_repo.list_policies(tx)
        slots = {"windows": FORM_SLOTS, "links": FORM_SLOTS, "rules": FORM_SLOTS}
        for key, prefix in (
            ("windows", "support_hours.windows"),
            ("links", "runbook_links"),
            ("rules", "event_rules"),
        ):
            used = [
                int(m.group(1))
                for k in values
                if (m := re.match(rf"^{re.escape(prefix)}\[(\d+)\]", k))
            ]
            slots[key] = max([FORM_SLOTS, *(i + 1 for i in used)])
        return render(
            request,
            "service_form.html",
            viewer,
            {
                "section": "services",
                "service_id": service_id,
                "teams": teams,
                "policies": policies,
                "values": values,
                "errors": errors or {},
                "message": message,
                "window_count": slots["windows"],
                "link_count": slots["links"],
                "rule_count": slots["rules"],
                "grouping_modes": GROUPING_WORDS,
                "grouping_fields": service_rules.GROUPING_FIELDS,
                "rule_fields": service_rules.RULE_FIELDS,
                "rule_ops": service_rules.RULE_OPS,
                "priorities": service_rules.PRIORITIES,
                "event_severities": service_rules.SEVERITIES,
                "window_range": service_rules.GROUP_WINDOW_RANGE,
                "storm_range": service_rules.STORM_RANGE,
                "days": DAYS,
                "urgency_rules": [
                    (r, URGENCY_WORDS[r], URGENCY_HINTS[r]) for r in service_rules.URGENCY_RULES
                ],
                "outside_choices": [(o, OUTSIDE_WORDS[o]) for o in service_rules.OUTSIDE_HOURS],
                "time_zones": sorted(people_rules.known_time_zones()),
                "dom_id": dom_id,
                "ack_range": service_rules.ACK_TIMEOUT_RANGE,
                "resolve_range": service_rules.AUTO_RESOLVE_RANGE,
            },
            status=status,
        )


@router.get("/services/new")
def service_new_form(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    return _form_page(
        request,
        viewer,
        services,
        service_id=None,
        values={
            "urgency_rule": "high",
            "outside_hours": "low",
            "support_hours.time_zone": viewer.user.time_zone,
            "grouping.mode": "none",
            "storm_threshold": "20",
        },
    )


@router.post("/services/new")
def service_create(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    parsed = read_service_form(form)
    try:
        if parsed.errors:
            raise ValidationFailed("Some values are not valid.", parsed.errors)
        with services.db.transaction() as tx:
            service = service_actions.create_service(
                tx, **parsed.arguments, actor=viewer.actor, now=services.clock.now()
            )
            service_id = service.id
    except (ValidationFailed, Conflict) as exc:
        return _form_page(
            request,
            viewer,
            services,
            service_id=None,
            values=parsed.values,
            errors=form_errors(parsed, exc),
            message=exc.message,
            status=FORM_INVALID,
        )
    return RedirectResponse(f"/services/{service_id}?notice=created", status_code=303)


@router.get("/services/{service_id}/edit")
def service_edit_form(
    request: Request, viewer: Viewer, services: AppServices, service_id: str
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    with services.db.read() as tx:
        values = service_values(service_repo.get_service(tx, sid))
    return _form_page(request, viewer, services, service_id=sid, values=values)


@router.post("/services/{service_id}/edit")
def service_update(
    request: Request, viewer: Viewer, services: AppServices, service_id: str, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    parsed = read_service_form(form)
    try:
        if parsed.errors:
            raise ValidationFailed("Some values are not valid.", parsed.errors)
        with services.db.transaction() as tx:
            service_actions.update_service(
                tx, service_id=sid, **parsed.arguments, actor=viewer.actor, now=services.clock.now()
            )
    except (ValidationFailed, Conflict) as exc:
        return _form_page(
            request,
            viewer,
            services,
            service_id=sid,
            values=parsed.values,
            errors=form_errors(parsed, exc),
            message=exc.message,
            status=FORM_INVALID,
        )
    return RedirectResponse(f"/services/{sid}?notice=saved", status_code=303)
