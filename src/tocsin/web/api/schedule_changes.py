"""Changes people make around schedules: overrides, time off, cover, handoff notes, feeds."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Response

from tocsin.kernel.errors import Unauthenticated
from tocsin.people.rules import authorize
from tocsin.schedules import actions, calendar, personal, repo
from tocsin.web.api.schedule_schemas import (
    CalendarTokenOut,
    CoverAccept,
    CoverIn,
    CoverList,
    CoverOut,
    NoteIn,
    NoteList,
    NoteOut,
    OverrideIn,
    OverrideList,
    OverrideOut,
    PreviewList,
    PreviewOut,
    TimeOffIn,
    TimeOffList,
    TimeOffOut,
)
from tocsin.web.api.schedules import DryRun, Weeks, checked_range, preview_out
from tocsin.web.deps import AppServices, CurrentPrincipal, Principal

router = APIRouter(tags=["schedules"])


def _me(principal: Principal) -> uuid.UUID:
    if principal.actor.user_id is None:
        raise Unauthenticated()
    return principal.actor.user_id


# Overrides -------------------------------------------------------------------------------


@router.get("/schedules/{schedule_id}/overrides", summary="Overrides meeting a range")
def list_overrides(
    schedule_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    start: datetime | None = None,
    end: datetime | None = None,
) -> OverrideList:
    authorize(principal.actor, "schedules.read")
    low, high = checked_range(start, end, services.clock.now())
    with services.db.read() as tx:
        row = repo.get_schedule(tx, schedule_id)
        found = repo.list_overrides(tx, [row.id], ending_after=low, starting_before=high)
        return OverrideList(data=[OverrideOut.model_validate(o) for o in found])


@router.post(
    "/schedules/{schedule_id}/overrides",
    status_code=201,
    summary="Put someone on call for an interval; ?dry_run=true previews it",
)
def add_override(
    schedule_id: uuid.UUID,
    body: OverrideIn,
    principal: CurrentPrincipal,
    services: AppServices,
    response: Response,
    dry_run: DryRun = False,
    weeks: Weeks = actions.PREVIEW_WEEKS,
) -> OverrideOut | PreviewOut:
    now = services.clock.now()
    values = body.model_dump()
    if dry_run:
        response.status_code = 200
        with services.db.read() as tx:
            found = actions.preview_add_override(
                tx, schedule_id=schedule_id, actor=principal.actor, now=now, weeks=weeks, **values
            )
            return preview_out(tx, schedule_id, found, now, weeks)
    with services.db.transaction() as tx:
        override = actions.add_override(
            tx, schedule_id=schedule_id, actor=principal.actor, now=now, **values
        )
        return OverrideOut.model_validate(override)


@router.delete(
    "/schedules/{schedule_id}/overrides/{override_id}",
    responses={204: {"description": "Removed (without dry_run)"}},
    summary="Remove an override; ?dry_run=true previews it",
    response_model=None,
)
def remove_override(
    schedule_id: uuid.UUID,
    override_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    dry_run: DryRun = False,
    weeks: Weeks = actions.PREVIEW_WEEKS,
) -> Response | PreviewOut:
    now = services.clock.now()
    with services.db.read() as tx:
        if repo.get_override(tx, override_id).schedule_id != schedule_id:
            repo.get_override(tx, uuid.UUID(int=0))  # NotFound, same as an unknown id
        if dry_run:
            found = actions.preview_remove_override(
                tx, override_id=override_id, actor=principal.actor, now=now, weeks=weeks
            )
            return preview_out(tx, schedule_id, found, now, weeks)
    with services.db.transaction() as tx:
        actions.remove_override(tx, override_id=override_id, actor=principal.actor, now=now)
    return Response(status_code=204)


# Time off --------------------------------------------------------------------------------


@router.get("/users/{user_id}/time-off", summary="A person's time off that has not ended")
def list_time_off(
    user_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> TimeOffList:
    authorize(principal.actor, "schedules.read")
    with services.db.read() as tx:
        found = repo.list_time_off(tx, [user_id], ending_after=services.clock.now())
        return TimeOffList(data=[TimeOffOut.model_validate(t) for t in found])


@router.post(
    "/users/{user_id}/time-off",
    status_code=201,
    summary="Record time off (rotations skip the person); ?dry_run=true previews it",
)
def add_time_off(
    user_id: uuid.UUID,
    body: TimeOffIn,
    principal: CurrentPrincipal,
    services: AppServices,
    response: Response,
    dry_run: DryRun = False,
    weeks: Weeks = actions.PREVIEW_WEEKS,
) -> TimeOffOut | PreviewList:
    now = services.clock.now()
    values = body.model_dump()
    if dry_run:
        response.status_code = 200
        with services.db.read() as tx:
            found = personal.preview_add_time_off(
                tx, user_id=user_id, actor=principal.actor, now=now, weeks=weeks, **values
            )
            return PreviewList(
                data=[preview_out(tx, sid, p, now, weeks) for sid, p in found.items()]
            )
    with services.db.transaction() as tx:
        row = personal.add_time_off(tx, user_id=user_id, actor=principal.actor, now=now, **values)
        return TimeOffOut.model_validate(row)


@router.delete(
    "/users/{user_id}/time-off/{time_off_id}",
    responses={204: {"description": "Removed (without dry_run)"}},
    summary="Remove time off; ?dry_run=true previews it",
    response_model=None,
)
def remove_time_off(
    user_id: uuid.UUID,
    time_off_id: uuid.UUID,
    principal: CurrentPrincipal,
    services: AppServices,
    dry_run: DryRun = False,
    weeks: Weeks = actions.PREVIEW_WEEKS,
) -> Response | PreviewList:
    now = services.clock.now()
    with services.db.read() as tx:
        if repo.get_time_off(tx, time_off_id).user_id != user_id:
            repo.get_time_off(tx, uuid.UUID(int=0))
        if dry_run:
            found = personal.preview_remove_time_off(
                tx, time_off_id=time_off_id, actor=principal.actor, now=now, weeks=weeks
            )
            return PreviewList(
                data=[preview_out(tx, sid, p, now, weeks) for sid, p in found.items()]
            )
    with services.db.transaction() as tx:
        personal.remove_time_off(tx, time_off_id=time_off_id, actor=principal.actor, now=now)
    return Response(status_code=204)


# Cover requests and handoff notes --------------------------------------------------------


@router.get("/schedules/{schedule_id}/cover-requests", summary="Cover requests of a schedule")
def list_cover_requests(
    schedule_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> CoverList:
    authorize(principal.actor, "schedules.read")
    with services.db.read() as tx:
        repo.get_schedule(tx, schedule_id)
        found = repo.list_cover_requests(tx, schedule_id)
        return CoverList(data=[CoverOut.model_validate(c) for c in found])


@router.post(
    "/schedules/{schedule_id}/cover-requests",
    status_code=201,
    summary="Ask teammates in the rotation to cover a period (first to accept wins)",
)
def request_cover(
    schedule_id: uuid.UUID, body: CoverIn, principal: CurrentPrincipal, services: AppServices
) -> CoverOut:
    with services.db.transaction() as tx:
        row = personal.request_cover(
            tx,
            schedule_id=schedule_id,
            actor=principal.actor,
            now=services.clock.now(),
            **body.model_dump(),
        )
        return CoverOut.model_validate(row)


@router.post("/cover-requests/{request_id}/accept", summary="Take a cover request (first wins)")
def accept_cover(
    request_id: uuid.UUID, body: CoverAccept, principal: CurrentPrincipal, services: AppServices
) -> CoverOut:
    with services.db.transaction() as tx:
        row = personal.accept_cover(
            tx,
            request_id=request_id,
            actor=principal.actor,
            now=services.clock.now(),
            expected_version=body.expected_version,
        )
        return CoverOut.model_validate(row)


@router.post("/cover-requests/{request_id}/cancel", summary="Withdraw an open cover request")
def cancel_cover(
    request_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> CoverOut:
    with services.db.transaction() as tx:
        personal.cancel_cover(
            tx, request_id=request_id, actor=principal.actor, now=services.clock.now()
        )
        return CoverOut.model_validate(repo.get_cover_request(tx, request_id))


@router.get("/schedules/{schedule_id}/handoff-notes", summary="Handoff notes, newest first")
def list_notes(
    schedule_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> NoteList:
    authorize(principal.actor, "schedules.read")
    with services.db.read() as tx:
        repo.get_schedule(tx, schedule_id)
        found = repo.list_handoff_notes(tx, schedule_id)
        return NoteList(data=[NoteOut.model_validate(n) for n in found])


@router.post(
    "/schedules/{schedule_id}/handoff-notes",
    status_code=201,
    summary="Leave a note for the next person on call",
)
def leave_note(
    schedule_id: uuid.UUID, body: NoteIn, principal: CurrentPrincipal, services: AppServices
) -> NoteOut:
    with services.db.transaction() as tx:
        note = personal.leave_handoff_note(
            tx,
            schedule_id=schedule_id,
            text=body.text,
            for_shift_start_at=body.for_shift_start_at,
            actor=principal.actor,
            now=services.clock.now(),
        )
        return NoteOut.model_validate(note)


@router.post(
    "/me/calendar-token",
    summary="Rotate my calendar feed token; returns it and the feed URLs once",
)
def rotate_calendar_token(principal: CurrentPrincipal, services: AppServices) -> CalendarTokenOut:
    base = services.settings.base_url
    with services.db.transaction() as tx:
        token = personal.rotate_calendar_token(
            tx, user_id=_me(principal), actor=principal.actor, now=services.clock.now()
        )
        ids = [s.id for s in repo.list_schedules(tx, limit=100_000)]
    urls = calendar.feed_urls(base, token, ids)
    user_url = urls.pop("user")
    return CalendarTokenOut(token=token, user_feed_url=user_url, schedule_feed_urls=urls)
