"""Schedule forms: overrides (preview, then save), time off, cover requests, notes, feed token.

Times are typed on the viewer's wall clock (``datetime-local``) and read in their zone.
Bad input re-renders the schedule view with messages next to the fields; nothing is saved.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, FieldError, NotFound, TocsinError, ValidationFailed
from tocsin.schedules import actions, calendar, personal
from tocsin.web.deps import AppServices, Principal, Services
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, field_messages, parse_id, text
from tocsin.web.pages.render import zone
from tocsin.web.pages.schedules import detail_page

router = APIRouter()


def read_local(value: str, zone_name: str, field: str) -> datetime:
    """A ``datetime-local`` value on the wall clock of ``zone_name`` as an aware UTC instant."""
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed.one(
            field, "Give a date and time, such as 2026-12-24 09:00."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone(zone_name))
    return parsed.astimezone(UTC)


def _interval(form: FormData, prefix: str, zone_name: str) -> tuple[datetime, datetime]:
    errors: list[FieldError] = []
    found: list[datetime] = []
    for name in ("start_at", "end_at"):
        try:
            found.append(read_local(text(form, f"{prefix}_{name}"), zone_name, name))
        except ValidationFailed as exc:
            errors.extend(exc.fields)
    if errors:
        raise ValidationFailed("The times are invalid.", errors)
    return found[0], found[1]


def _prefixed(exc: TocsinError, prefix: str) -> dict[str, str]:
    return {f"{prefix}_{k}": v for k, v in field_messages(exc).items()}


def _invalid(
    request: Request,
    viewer: Principal,
    services: Services,
    schedule_id: uuid.UUID,
    form_name: str,
    exc: TocsinError,
    values: Mapping[str, str],
) -> Response:
    return detail_page(
        request,
        viewer,
        services,
        schedule_id,
        status=FORM_INVALID,
        errors=_prefixed(exc, form_name),
        values=dict(values),
        forms={form_name: exc.message},
    )


def _done(schedule_id: uuid.UUID, notice: str, anchor: str = "") -> Response:
    return RedirectResponse(f"/schedules/{schedule_id}?notice={notice}{anchor}", status_code=303)


def _values(form: FormData, prefix: str, names: tuple[str, ...]) -> dict[str, str]:
    return {f"{prefix}_{n}": text(form, f"{prefix}_{n}") for n in names}


@router.post("/schedules/{schedule_id}/overrides")
def add_override(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str
) -> Response:
    """``intent=preview`` shows what would change and saves nothing; ``intent=save`` saves."""
    sid = parse_id(schedule_id, "schedule")
    values = _values(form, "override", ("user_id", "start_at", "end_at", "reason"))
    now = services.clock.now()
    try:
        start_at, end_at = _interval(form, "override", viewer.user.time_zone)
        try:
            user_id = uuid.UUID(values["override_user_id"])
        except ValueError:
            raise ValidationFailed.one("user_id", "Choose who takes the pager.") from None
        args: dict[str, Any] = {
            "schedule_id": sid,
            "user_id": user_id,
            "start_at": start_at,
            "end_at": end_at,
            "reason": values["override_reason"].strip(),
            "actor": viewer.actor,
            "now": now,
        }
        if text(form, "intent") == "preview":
            with services.db.read() as tx:
                found = actions.preview_add_override(tx, **args)
            return detail_page(request, viewer, services, sid, values=values, preview=found.summary)
        with services.db.transaction() as tx:
            actions.add_override(tx, **args)
    except (ValidationFailed, Conflict) as exc:
        return _invalid(request, viewer, services, sid, "override", exc, values)
    services.wake()
    return _done(sid, "override")


@router.post("/schedules/{schedule_id}/time-off")
def add_time_off(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str
) -> Response:
    """Time off for the viewer themselves (every rotation they are in skips them)."""
    sid = parse_id(schedule_id, "schedule")
    values = _values(form, "off", ("start_at", "end_at", "reason"))
    try:
        start_at, end_at = _interval(form, "off", viewer.user.time_zone)
        with services.db.transaction() as tx:
            personal.add_time_off(
                tx,
                user_id=viewer.user.id,
                start_at=start_at,
                end_at=end_at,
                reason=values["off_reason"].strip(),
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except (ValidationFailed, Conflict) as exc:
        return _invalid(request, viewer, services, sid, "off", exc, values)
    services.wake()
    return _done(sid, "time_off")


@router.post("/schedules/{schedule_id}/overrides/{override_id}/remove")
def remove_override(
    viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str, override_id: str
) -> Response:
    """Take an override away; the layers decide again for its time. Gone already: no harm."""
    sid = parse_id(schedule_id, "schedule")
    oid = parse_id(override_id, "override")
    with services.db.transaction() as tx:
        actions.remove_override(tx, override_id=oid, actor=viewer.actor, now=services.clock.now())
    services.wake()
    return _done(sid, "override_removed", "#overrides")


@router.post("/schedules/{schedule_id}/time-off/{time_off_id}/remove")
def remove_time_off(
    viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str, time_off_id: str
) -> Response:
    """Take back your own time off (managers and admins may take back anyone's)."""
    sid = parse_id(schedule_id, "schedule")
    tid = parse_id(time_off_id, "time off")
    with services.db.transaction() as tx:
        personal.remove_time_off(tx, time_off_id=tid, actor=viewer.actor, now=services.clock.now())
    services.wake()
    return _done(sid, "time_off_removed", "#time-off")


@router.post("/schedules/{schedule_id}/cover-requests")
def request_cover(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str
) -> Response:
    sid = parse_id(schedule_id, "schedule")
    values = _values(form, "cover", ("start_at", "end_at", "reason"))
    try:
        start_at, end_at = _interval(form, "cover", viewer.user.time_zone)
        with services.db.transaction() as tx:
            personal.request_cover(
                tx,
                schedule_id=sid,
                start_at=start_at,
                end_at=end_at,
                reason=values["cover_reason"].strip(),
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except (ValidationFailed, Conflict) as exc:
        return _invalid(request, viewer, services, sid, "cover", exc, values)
    services.wake()
    return _done(sid, "cover")


@router.post("/schedules/{schedule_id}/cover-requests/{request_id}/{verb}")
def settle_cover(
    request: Request,
    viewer: Viewer,
    services: AppServices,
    form: CheckedForm,
    schedule_id: str,
    request_id: str,
    verb: str,
) -> Response:
    """``accept`` (first wins: a later accept is told it was taken) or ``cancel``."""
    sid = parse_id(schedule_id, "schedule")
    rid = parse_id(request_id, "cover_request")
    if verb not in ("accept", "cancel"):
        raise NotFound("page", verb)
    try:
        with services.db.transaction() as tx:
            if verb == "accept":
                personal.accept_cover(
                    tx, request_id=rid, actor=viewer.actor, now=services.clock.now()
                )
            else:
                personal.cancel_cover(
                    tx, request_id=rid, actor=viewer.actor, now=services.clock.now()
                )
    except (ValidationFailed, Conflict) as exc:
        return _invalid(request, viewer, services, sid, "covers", exc, {})
    services.wake()
    return _done(sid, "accepted" if verb == "accept" else "cancelled")


@router.post("/schedules/{schedule_id}/handoff-notes")
def leave_note(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str
) -> Response:
    sid = parse_id(schedule_id, "schedule")
    values = {"note_text": text(form, "note_text")}
    try:
        with services.db.transaction() as tx:
            personal.leave_handoff_note(
                tx,
                schedule_id=sid,
                text=values["note_text"],
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except (ValidationFailed, Conflict) as exc:
        return _invalid(request, viewer, services, sid, "note", exc, values)
    return _done(sid, "note")


@router.post("/schedules/{schedule_id}/calendar-token")
def rotate_feed_token(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm, schedule_id: str
) -> Response:
    """A new feed token for the viewer; the page shows the feed URLs once (not cached)."""
    del form  # the CSRF check is the point
    sid = parse_id(schedule_id, "schedule")
    with services.db.transaction() as tx:
        token = personal.rotate_calendar_token(
            tx, user_id=viewer.user.id, actor=viewer.actor, now=services.clock.now()
        )
    urls = calendar.feed_urls(services.settings.base_url, token, [sid])
    shown = {"user": urls["user"], "schedule": urls[str(sid)]}
    return detail_page(request, viewer, services, sid, feed_urls=shown)
