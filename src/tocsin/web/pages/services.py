"""Service pages: the list, a service's settings and integrations, and the forms to add and edit.

Form inputs are named after the action's field paths (``support_hours.windows[0].end``,
``runbook_links[1].url``) so a validation error lands next to the input that caused it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, FieldError, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.people.tables import Team
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo
from tocsin.services import rules as service_rules
from tocsin.services.tables import Service
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, parse_id, text, texts
from tocsin.web.pages.render import render

router = APIRouter()

SERVICE_LIMIT = 500
TEAM_LIMIT = 500
FORM_SLOTS = 3  # support-hours windows and runbook links offered by the form

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
KIND_WORDS = {
    "events_v2": "Events API v2",
    "alertmanager": "Alertmanager",
    "generic_webhook": "Generic webhook",
    "heartbeat": "Heartbeat",
}

_INDEX = re.compile(r"^(support_hours\.windows|runbook_links)\[(\d+)\]")


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


@dataclass
class ServiceForm:
    """What the form submitted, as typed, and what it means for the action."""

    values: dict[str, Any]
    arguments: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    window_slots: list[int] = field(default_factory=list)
    link_slots: list[int] = field(default_factory=list)


def _slot_count(form: FormData, prefix: str, existing: int = 0) -> int:
    indexes = [
        int(m.group(1)) for k in form if (m := re.match(rf"^{re.escape(prefix)}\[(\d+)\]", k))
    ]
    return max([FORM_SLOTS, existing, *(i + 1 for i in indexes if i < 50)])


def _minutes(raw: str, path: str, errors: list[FieldError]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(FieldError(path, "Give a whole number of minutes, or leave it blank."))
        return None


def read_service_form(form: FormData) -> ServiceForm:
    """Typed values (kept for a re-render) and the action's arguments from the submitted form."""
    values: dict[str, Any] = {
        k: text(form, k)
        for k in (
            "name",
            "description",
            "owner_team_id",
            "urgency_rule",
            "outside_hours",
            "ack_timeout_minutes",
            "auto_resolve_minutes",
            "support_hours.time_zone",
        )
    }
    parsed = ServiceForm(values=values)
    errors = parsed.errors
    owner: uuid.UUID | None = None
    if values["owner_team_id"]:
        try:
            owner = uuid.UUID(values["owner_team_id"])
        except ValueError:
            errors.append(FieldError("owner_team_id", "Pick a team from the list."))
    windows: list[dict[str, Any]] = []
    for slot in range(_slot_count(form, "support_hours.windows")):
        path = f"support_hours.windows[{slot}]"
        days = texts(form, f"{path}.days")
        start, end = text(form, f"{path}.start"), text(form, f"{path}.end")
        values[f"{path}.days"] = days
        values[f"{path}.start"], values[f"{path}.end"] = start, end
        if not days and not start and not end:
            continue  # an unused slot
        parsed.window_slots.append(slot)
        windows.append({"days": [int(d) for d in days if d.isdigit()], "start": start, "end": end})
    time_zone = values["support_hours.time_zone"].strip()
    rule = values["urgency_rule"]
    hours: dict[str, Any] | None = None
    # Hours are kept whenever a window was given; only their rule requires them.
    if windows or (rule == "support_hours" and time_zone):
        hours = {"time_zone": time_zone, "windows": windows}
    links: list[dict[str, str]] = []
    for slot in range(_slot_count(form, "runbook_links")):
        path = f"runbook_links[{slot}]"
        title, url = text(form, f"{path}.title"), text(form, f"{path}.url")
        values[f"{path}.title"], values[f"{path}.url"] = title, url
        if not title.strip() and not url.strip():
            continue
        parsed.link_slots.append(slot)
        links.append({"title": title, "url": url})
    parsed.arguments = {
        "name": values["name"],
        "description": values["description"],
        "owner_team_id": owner,
        "urgency_rule": rule,
        "support_hours": hours,
        "outside_hours": values["outside_hours"] or "low",
        "ack_timeout_minutes": _minutes(
            values["ack_timeout_minutes"], "ack_timeout_minutes", errors
        ),
        "auto_resolve_minutes": _minutes(
            values["auto_resolve_minutes"], "auto_resolve_minutes", errors
        ),
        "runbook_links": links,
    }
    return parsed


def service_values(service: Service) -> dict[str, Any]:
    """The edit form's values for a stored service."""
    values: dict[str, Any] = {
        "name": service.name,
        "description": service.description,
        "owner_team_id": str(service.owner_team_id) if service.owner_team_id else "",
        "urgency_rule": service.urgency_rule,
        "outside_hours": service.outside_hours,
        "ack_timeout_minutes": str(service.ack_timeout_minutes or ""),
        "auto_resolve_minutes": str(service.auto_resolve_minutes or ""),
        "support_hours.time_zone": (service.support_hours or {}).get("time_zone", ""),
    }
    for i, window in enumerate((service.support_hours or {}).get("windows", [])):
        path = f"support_hours.windows[{i}]"
        values[f"{path}.days"] = [str(d) for d in window.get("days", [])]
        values[f"{path}.start"], values[f"{path}.end"] = window.get("start"), window.get("end")
    for i, link in enumerate(service.runbook_links or []):
        values[f"runbook_links[{i}].title"] = link.get("title", "")
        values[f"runbook_links[{i}].url"] = link.get("url", "")
    return values


def form_errors(parsed: ServiceForm, exc: ValidationFailed | Conflict) -> dict[str, str]:
    """Messages keyed by the input's field path, with list indexes mapped back to form slots."""
    slots = {
        "support_hours.windows": parsed.window_slots,
        "runbook_links": parsed.link_slots,
    }
    out: dict[str, str] = {}
    for f in exc.fields:
        path = f.field
        match = _INDEX.match(path)
        if match:
            kept = slots[match.group(1)]
            index = int(match.group(2))
            slot = kept[index] if index < len(kept) else index
            path = f"{match.group(1)}[{slot}]{path[match.end() :]}"
        out.setdefault(path, f.message)
    return out


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
        slots = {"windows": FORM_SLOTS, "links": FORM_SLOTS}
        for key, prefix in (("windows", "support_hours.windows"), ("links", "runbook_links")):
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
                "values": values,
                "errors": errors or {},
                "message": message,
                "window_count": slots["windows"],
                "link_count": slots["links"],
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


# --- A service and its integrations -----------------------------------------------------

NOTICES = {
    "created": "Service created with an Events API v2 integration.",
    "saved": "Changes saved.",
    "integration": "Integration added.",
}


def _detail_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    service_id: uuid.UUID,
    *,
    notice: str | None = None,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    with services.db.read() as tx:
        service = service_repo.get_service(tx, service_id)
        owner = None
        if service.owner_team_id is not None:
            owner = _teams_by_id(people_repo.list_teams(tx, limit=TEAM_LIMIT)).get(
                service.owner_team_id
            )
        integrations = sorted(service.integrations, key=lambda i: (i.created_at, i.name))
        return render(
            request,
            "service_detail.html",
            viewer,
            {
                "section": "services",
                "service": service,
                "owner": owner,
                "integrations": integrations,
                "urgency": URGENCY_WORDS.get(service.urgency_rule, service.urgency_rule),
                "outside": OUTSIDE_WORDS.get(service.outside_hours, service.outside_hours),
                "hours": hours_in_words(service.support_hours),
                "ack_timeout": minutes_in_words(service.ack_timeout_minutes),
                "auto_resolve": minutes_in_words(service.auto_resolve_minutes),
                "kind_words": KIND_WORDS,
                "kinds": [(k, KIND_WORDS[k]) for k in service_rules.INTEGRATION_KINDS],
                "endpoint": f"{services.settings.base_url.rstrip('/')}/v2/enqueue",
                "notice": notice,
                "values": values or {"kind": "events_v2"},
                "errors": errors or {},
                "message": message,
            },
            status=status,
        )


@router.get("/services/{service_id}")
def service_detail(
    request: Request, viewer: Viewer, services: AppServices, service_id: str, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "services.read")
    sid = parse_id(service_id, "service")
    return _detail_page(request, viewer, services, sid, notice=NOTICES.get(notice))


@router.post("/services/{service_id}/integrations")
def integration_add(
    request: Request, viewer: Viewer, services: AppServices, service_id: str, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    values = {k: text(form, k) for k in ("kind", "name")}
    try:
        with services.db.transaction() as tx:
            service_actions.add_integration(
                tx,
                service_id=sid,
                kind=values["kind"],
                name=values["name"],
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except (ValidationFailed, Conflict) as exc:
        errors: dict[str, str] = {}
        for f in exc.fields:
            errors.setdefault(f"integration-{f.field}", f.message)
        return _detail_page(
            request,
            viewer,
            services,
            sid,
            values=values,
            errors=errors,
            message=exc.message,
            status=FORM_INVALID,
        )
    return RedirectResponse(f"/services/{sid}?notice=integration#integrations", status_code=303)
