"""Maintenance windows and heartbeat monitors, added and ended from a service's page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from tocsin.incidents import heartbeats
from tocsin.kernel.errors import NotFound, ValidationFailed
from tocsin.people import rules as people_rules
from tocsin.services import actions as service_actions
from tocsin.services import repo as service_repo
from tocsin.web.deps import AppServices
from tocsin.web.pages.forms import CheckedForm, Viewer, parse_id, text
from tocsin.web.pages.render import zone
from tocsin.web.pages.service_detail import refused

router = APIRouter()


def _local_instant(raw: str, zone_name: str) -> datetime | None:
    """A ``datetime-local`` value read in the viewer's zone, as UTC (None: blank)."""
    raw = raw.strip()
    if not raw:
        return None
    local = datetime.fromisoformat(raw)
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone(zone_name))
    return local.astimezone(UTC)


@router.post("/services/{service_id}/maintenance")
def maintenance_add(
    request: Request, viewer: Viewer, services: AppServices, service_id: str, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    keys = ("start_at", "end_at", "duration", "reason")
    typed = {k: text(form, k) for k in keys}
    values = {f"maintenance-{k}": v for k, v in typed.items()}
    now = services.clock.now()
    try:
        zone_name = viewer.user.time_zone
        try:
            start = _local_instant(typed["start_at"], zone_name) or now
        except ValueError:
            raise ValidationFailed.one(
                "start_at", "Give a date and time, or leave it blank."
            ) from None
        try:
            end = _local_instant(typed["end_at"], zone_name)
        except ValueError:
            raise ValidationFailed.one(
                "end_at", "Give a date and time, or pick a duration."
            ) from None
        if end is None:
            if not typed["duration"].isdigit():
                raise ValidationFailed.one("end_at", "Pick a duration or give an end time.")
            end = start + timedelta(minutes=int(typed["duration"]))
        with services.db.transaction() as tx:
            service_actions.add_maintenance_window(
                tx,
                service_id=sid,
                start_at=start,
                end_at=end,
                reason=typed["reason"],
                actor=viewer.actor,
                now=now,
            )
    except ValidationFailed as exc:
        return refused(request, viewer, services, sid, exc, prefix="maintenance-", values=values)
    services.wake()
    return RedirectResponse(f"/services/{sid}?notice=maintenance#maintenance", status_code=303)


@router.post("/services/{service_id}/maintenance/{window_id}/end")
def maintenance_end(
    request: Request,
    viewer: Viewer,
    services: AppServices,
    service_id: str,
    window_id: str,
    form: CheckedForm,
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    wid = parse_id(window_id, "maintenance window")
    with services.db.transaction() as tx:
        windows = service_repo.list_maintenance_windows(tx, sid)
        if not any(w.id == wid for w in windows):
            raise NotFound("maintenance window", wid)
        service_actions.end_maintenance_window(
            tx, window_id=wid, actor=viewer.actor, now=services.clock.now()
        )
    return RedirectResponse(
        f"/services/{sid}?notice=maintenance_ended#maintenance", status_code=303
    )


@router.post("/services/{service_id}/heartbeats")
def heartbeat_add(
    request: Request, viewer: Viewer, services: AppServices, service_id: str, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "services.write")
    sid = parse_id(service_id, "service")
    typed = {k: text(form, k) for k in ("name", "interval_minutes")}
    values = {f"heartbeat-{k}": v for k, v in typed.items()}
    try:
        raw = typed["interval_minutes"].strip()
        if not raw.isdigit():
            raise ValidationFailed.one("interval_minutes", "Give a whole number of minutes.")
        with services.db.transaction() as tx:
            heartbeats.create_heartbeat(
                tx,
                service_id=sid,
                name=typed["name"],
                interval_minutes=int(raw),
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except ValidationFailed as exc:
        return refused(request, viewer, services, sid, exc, prefix="heartbeat-", values=values)
    return RedirectResponse(f"/services/{sid}?notice=heartbeat#heartbeats", status_code=303)
