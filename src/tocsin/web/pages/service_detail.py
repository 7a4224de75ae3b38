"""One service's page: settings, integrations and their URLs, webhook field mappings with a
preview, recent events, alert quality, maintenance windows and heartbeat monitors.

Every form posts to its own route and comes back here (POST-redirect-GET); a refused
form re-renders this page with the messages next to its inputs and writes nothing.
Maintenance windows and heartbeats are added in ``service_upkeep``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from tocsin.escalation.tables import EscalationPolicy
from tocsin.incidents import heartbeats
from tocsin.incidents import repo as incident_repo
from tocsin.incidents import rules as incident_rules
from tocsin.incidents.integrations import MappingPreview, preview_mapping, set_webhook_mapping
from tocsin.incidents.mapping import MAPPED_FIELDS
from tocsin.kernel.errors import Conflict, NotFound, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo
from tocsin.services import rules as service_rules
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, parse_id, text
from tocsin.web.pages.render import render
from tocsin.web.pages.services import (
    KIND_WORDS,
    OUTSIDE_WORDS,
    URGENCY_WORDS,
    hours_in_words,
    minutes_in_words,
)

router = APIRouter()

QUALITY_DAYS = 7
RECENT_LIMIT = 20
MAINTENANCE_DURATIONS = (30, 60, 120, 240, 480, 1440)
MAPPING_PATHS = (*MAPPED_FIELDS, "runbook_url")
MAPPING_WORDS = {
    "summary": "Summary (required)",
    "source": "Source",
    "severity": "Severity",
    "dedup_key": "Dedup key",
    "action": "Action (trigger or resolve)",
    "description": "Description",
    "runbook_url": "Runbook URL",
}
SAMPLE = '{"alert": {"title": "Disk 95% full on db-1", "host": "db-1", "level": "P1"}}'

NOTICES = {
    "created": "Service created with an Events API v2 integration.",
    "saved": "Changes saved.",
    "integration": "Integration added.",
    "mapping": "Field mapping saved.",
    "maintenance": "Maintenance window added: events are recorded, nobody is paged.",
    "maintenance_ended": "Maintenance window ended.",
    "heartbeat": "Heartbeat monitor added. It starts watching after its first ping.",
}


def integration_url(base: str, kind: str, key: str) -> str | None:
    """Where a sender posts for an integration of ``kind`` (None: not posted to)."""
    if kind == "events_v2":
        return f"{base}/v2/enqueue"
    if kind == "alertmanager":
        return f"{base}/integrations/alertmanager/{key}"
    if kind == "generic_webhook":
        return f"{base}/integrations/webhook/{key}"
    return None


def mapping_values(prefix: str, mapping: Mapping[str, Any] | None) -> dict[str, str]:
    """A stored mapping as the editor's inputs (``map-<id>-<name>``)."""
    mapping = mapping or {}
    values = {f"{prefix}{name}": str(mapping.get(name) or "") for name in MAPPING_PATHS}
    table = mapping.get("severity_map") or {}
    values[f"{prefix}severity_map"] = "\n".join(f"{k}={v}" for k, v in table.items())
    values[f"{prefix}resolve_values"] = ", ".join(mapping.get("resolve_values") or [])
    values[f"{prefix}default_severity"] = str(mapping.get("default_severity") or "error")
    return values


def read_mapping(form: FormData) -> tuple[dict[str, Any], dict[str, str]]:
    """The mapping the editor describes, and the typed values (keyed by input name)."""
    typed = {
        name: text(form, name)
        for name in (*MAPPING_PATHS, "severity_map", "resolve_values", "default_severity")
    }
    mapping: dict[str, Any] = {n: typed[n].strip() for n in MAPPING_PATHS if typed[n].strip()}
    table: dict[str, str] = {}
    for line in typed["severity_map"].splitlines():
        if "=" in line:
            key, _, value = line.partition("=")
            if key.strip():
                table[key.strip()] = value.strip()
    if table:
        mapping["severity_map"] = table
    resolve = [v.strip() for v in typed["resolve_values"].split(",") if v.strip()]
    if resolve:
        mapping["resolve_values"] = resolve
    if typed["default_severity"]:
        mapping["default_severity"] = typed["default_severity"]
    return mapping, typed


def _detail_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    service_id: uuid.UUID,
    *,
    notice: str | None = None,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    preview: tuple[uuid.UUID, MappingPreview] | None = None,
    status: int = 200,
) -> Response:
    now = services.clock.now()
    base = services.settings.base_url.rstrip("/")
    with services.db.read() as tx:
        service = service_repo.get_service(tx, service_id)
        owner = None
        if service.owner_team_id is not None:
            owner = next(
                (t for t in people_repo.list_teams(tx, limit=500) if t.id == service.owner_team_id),
                None,
            )
        policy = (
            tx.get(EscalationPolicy, service.escalation_policy_id)
            if service.escalation_policy_id
            else None
        )
        integrations = sorted(service.integrations, key=lambda i: (i.created_at, i.name))
        shown: dict[str, Any] = {"kind": "events_v2", "heartbeat-interval_minutes": "5"}
        for i in integrations:
            if i.kind == "generic_webhook":
                prefix = f"map-{i.id}-"
                shown.update(mapping_values(prefix, i.mapping))
                shown[f"{prefix}sample"] = SAMPLE
        shown.update(values or {})
        flagged, total = incident_repo.quality_counts(
            tx, service.id, now - timedelta(days=QUALITY_DAYS)
        )
        breakdown = incident_repo.quality_breakdown(
            tx, service.id, now - timedelta(days=QUALITY_DAYS)
        )
        _suppressed, changes = incident_repo.context_for(
            tx, service.id, now, hours=24 * QUALITY_DAYS, limit=RECENT_LIMIT
        )
        return render(
            request,
            "service_detail.html",
            viewer,
            {
                "section": "services",
                "service": service,
                "owner": owner,
                "policy": policy,
                "integrations": integrations,
                "urls": {i.id: integration_url(base, i.kind, i.routing_key) for i in integrations},
                "urgency": URGENCY_WORDS.get(service.urgency_rule, service.urgency_rule),
                "outside": OUTSIDE_WORDS.get(service.outside_hours, service.outside_hours),
                "hours": hours_in_words(service.support_hours),
                "ack_timeout": minutes_in_words(service.ack_timeout_minutes),
                "auto_resolve": minutes_in_words(service.auto_resolve_minutes),
                "kind_words": KIND_WORDS,
                "kinds": [(k, KIND_WORDS[k]) for k in service_rules.INTEGRATION_KINDS],
                "mapping_paths": [(n, MAPPING_WORDS[n]) for n in MAPPING_PATHS],
                "event_severities": service_rules.SEVERITIES,
                "preview": preview,
                "quality_advice": incident_rules.QUALITY_FLAGS,
                "alerts": incident_repo.list_alerts(tx, limit=RECENT_LIMIT, service_id=service.id),
                "changes": changes,
                "quality": {
                    "flagged": flagged,
                    "total": total,
                    "percent": round(100 * (total - flagged) / total) if total else None,
                    "breakdown": sorted(breakdown.items(), key=lambda kv: -kv[1]),
                    "days": QUALITY_DAYS,
                },
                "windows": service_repo.list_maintenance_windows(
                    tx, service.id, current_or_future_at=now
                ),
                "durations": MAINTENANCE_DURATIONS,
                "now": now,
                "heartbeats": heartbeats.list_heartbeats(tx, service.id),
                "ping_base": f"{base}/integrations/heartbeat/",
                "grouping": service.grouping or {"mode": "none"},
                "notice": notice,
                "values": shown,
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


def refused(
    request: Request,
    viewer: Principal,
    services: AppServices,
    sid: uuid.UUID,
    exc: ValidationFailed | Conflict,
    *,
    prefix: str,
    values: Mapping[str, Any],
    rename: Mapping[str, str] | None = None,
) -> Response:
    errors: dict[str, str] = {}
    for f in exc.fields:
        name = (rename or {}).get(f.field, f.field)
        errors.setdefault(f"{prefix}{name}", f.message)
    if not errors:
        errors[f"{prefix}form"] = exc.message
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
        return refused(request, viewer, services, sid, exc, prefix="integration-", values=values)
    return RedirectResponse(f"/services/{sid}?notice=integration#integrations", status_code=303)


def _webhook(services: AppServices, sid: uuid.UUID, integration_id: str) -> uuid.UUID:
    """The id of a generic webhook integration of this service (404 otherwise)."""
    iid = parse_id(integration_id, "integration")
    with services.db.read() as tx:
        integration = service_repo.get_integration(tx, iid)
        if integration.service_id != sid or integration.kind != "generic_webhook":
            raise NotFound("integration", iid)
    return iid


def _mapping_form(form: FormData, iid: uuid.UUID) -> tuple[dict[str, Any], dict[str, str], str]:
    mapping, typed = read_mapping(form)
    prefix = f"map-{iid}-"
    values = {f"{prefix}{k}": v for k, v in typed.items()}
    values[f"{prefix}sample"] = text(form, "sample")
    return mapping, values, prefix


def _mapping_errors(exc: ValidationFailed) -> dict[str, str]:
    """``mapping.severity_map.P1`` → ``severity_map``: the editor's input for that path."""
    return {f.field: f.field.removeprefix("mapping.").split(".")[0] for f in exc.fields}


@router.post("/services/{service_id}/integrations/{integration_id}/mapping")
def mapping_save(
    request: Request,
    viewer: Viewer,
    services: AppServices,
    service_id: str,
    integration_id: str,
    form: CheckedForm,
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    iid = _webhook(services, sid, integration_id)
    mapping, values, prefix = _mapping_form(form, iid)
    try:
        with services.db.transaction() as tx:
            set_webhook_mapping(
                tx,
                integration_id=iid,
                mapping=mapping,
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except ValidationFailed as exc:
        return refused(
            request,
            viewer,
            services,
            sid,
            exc,
            prefix=prefix,
            values=values,
            rename=_mapping_errors(exc),
        )
    return RedirectResponse(f"/services/{sid}?notice=mapping#mapping-{iid}", status_code=303)


@router.post("/services/{service_id}/integrations/{integration_id}/preview")
def mapping_preview(
    request: Request,
    viewer: Viewer,
    services: AppServices,
    service_id: str,
    integration_id: str,
    form: CheckedForm,
) -> Response:
    """Try the mapping on a sample payload: shows the alert and dedup key; writes nothing."""
    people_rules.authorize(viewer.actor, "services.read")
    sid = parse_id(service_id, "service")
    iid = _webhook(services, sid, integration_id)
    mapping, values, prefix = _mapping_form(form, iid)
    try:
        try:
            sample = json.loads(values[f"{prefix}sample"])
        except ValueError as exc:
            raise ValidationFailed.one("sample", f"The sample is not valid JSON: {exc}.") from None
        preview = preview_mapping(mapping, sample)
    except ValidationFailed as exc:
        return refused(
            request,
            viewer,
            services,
            sid,
            exc,
            prefix=prefix,
            values=values,
            rename=_mapping_errors(exc) | {"sample": "sample"},
        )
    return _detail_page(request, viewer, services, sid, values=values, preview=(iid, preview))
