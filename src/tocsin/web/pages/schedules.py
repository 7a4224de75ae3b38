"""Schedule pages: the on-call directory of every team, the schedule list and a schedule's view."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.schedules import calendar, convert, repo
from tocsin.schedules.repo import ScheduleOnCall
from tocsin.web.deps import AppServices, Principal, Services
from tocsin.web.pages import schedule_view as view
from tocsin.web.pages.forms import Viewer, parse_id
from tocsin.web.pages.render import render

router = APIRouter()

NOTICES = {
    "override": "Override saved.",
    "time_off": "Time off saved: your rotations skip you for the turns it touches.",
    "cover": "Cover requested: your teammates are being asked by email.",
    "accepted": "You took the cover: it is now an override.",
    "cancelled": "Cover request withdrawn.",
    "note": "Handoff note saved: the next person on call receives it with their handoff.",
    "override_removed": "Override removed: the layers decide again for that time.",
    "time_off_removed": "Time off removed: your rotations count on you again for that time.",
}


def _people(tx: Session, entries: Sequence[ScheduleOnCall], now: datetime) -> dict[str, Any]:
    keys: set[str] = set()
    for e in entries:
        keys |= {o.user for o in e.now}
        keys |= {s.user for s in (e.current, e.next) if s is not None}
    users = repo.users_by_id(tx, keys)
    return {convert.user_key(u.id): view.contact(u, now) for u in users.values()}


def _oncall_entry(e: ScheduleOnCall, contacts: dict[str, Any]) -> dict[str, Any]:
    return {
        "schedule": e.schedule,
        "now": [(o, contacts.get(o.user)) for o in e.now],
        "until": e.current.end_at if e.current else None,
        "next": contacts.get(e.next.user) if e.next else None,
        "next_at": e.next.start_at if e.next else None,
    }


@router.get("/oncall")
def directory(request: Request, viewer: Viewer, services: AppServices) -> Response:
    """Every team, who is on call for each of its schedules now and next, how to reach them."""
    people_rules.authorize(viewer.actor, "schedules.read")
    now = services.clock.now()
    with services.db.read() as tx:
        teams = people_repo.list_teams(tx, limit=10_000)
        rows = repo.list_schedules(tx, limit=100_000)
        entries = repo.oncall_of(tx, rows, at=now)
        contacts = _people(tx, entries, now)
        by_team: dict[uuid.UUID, list[dict[str, Any]]] = {}
        unowned: list[dict[str, Any]] = []
        for e in entries:
            entry = _oncall_entry(e, contacts)
            for link in e.schedule.teams:
                by_team.setdefault(link.team_id, []).append(entry)
            if not e.schedule.teams:
                unowned.append(entry)
        sections = [
            {
                "team": t,
                "schedules": by_team.get(t.id, []),
                "managers": [
                    view.contact(m.user, now)
                    for m in sorted(t.members, key=lambda m: m.user.name)
                    if m.is_manager
                ],
            }
            for t in teams
        ]
        return render(
            request,
            "directory.html",
            viewer,
            {
                "section": "oncall",
                "sections": sections,
                "unowned": unowned,
                "now": now,
                "local": view.local,
            },
        )


@router.get("/schedules")
def schedule_list(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "schedules.read")
    now = services.clock.now()
    with services.db.read() as tx:
        rows = repo.list_schedules(tx, limit=100_000)
        entries = repo.oncall_of(tx, rows, at=now)
        contacts = _people(tx, entries, now)
        warnings = view.gap_warnings(tx, rows, now=now, days=view.DAYS)
        teams = {t.id: t for t in people_repo.list_teams(tx, limit=10_000)}
        items = [
            {
                **_oncall_entry(e, contacts),
                "teams": [teams[x.team_id] for x in e.schedule.teams if x.team_id in teams],
                "gap": warnings.get(e.schedule.id),
            }
            for e in entries
        ]
        return render(
            request,
            "schedules_list.html",
            viewer,
            {
                "section": "schedules",
                "items": items,
                "gap_count": len(warnings),
                "days": view.DAYS,
                "now": now,
                "local": view.local,
                "duration": view.duration,
            },
        )


@router.get("/schedules/timeline.css")
def timeline_css(viewer: Viewer) -> Response:
    """Bar positions for timelines; behind sign-in like every page (the pages use it)."""
    del viewer
    return Response(
        view.timeline_css(),
        media_type="text/css",
        headers={"Cache-Control": "private, max-age=86400"},
    )


def detail_page(
    request: Request,
    viewer: Principal,
    services: Services,
    schedule_id: uuid.UUID,
    *,
    status: int = 200,
    **extra: Any,
) -> Response:
    """The schedule view; form handlers re-render it with errors, a preview or feed URLs."""
    people_rules.authorize(viewer.actor, "schedules.read")
    now = services.clock.now()
    zone_name = viewer.user.time_zone
    start, end = view.window(now, zone_name)
    with services.db.read() as tx:
        row = repo.get_schedule(tx, schedule_id)
        schedule = repo.load_schedule(tx, row, since=start - timedelta(days=1))
        keys = set(convert.participants_of(row))
        overrides = repo.list_overrides(tx, [row.id], ending_after=now)
        my_time_off = repo.list_time_off(tx, [viewer.user.id], ending_after=now)
        covers = repo.list_cover_requests(tx, row.id, status="open")
        notes = repo.list_handoff_notes(tx, row.id, limit=5)
        keys |= {o.user_id for o in overrides} | {c.requester_id for c in covers}
        keys |= {n.from_user_id for n in notes}
        users = repo.users_by_id(tx, keys)
        names = {convert.user_key(u.id): u.name for u in users.values()}
        people = [u for u in people_repo.list_users(tx, limit=1000) if u.is_active]
        [oncall] = repo.oncall_of(tx, [row], at=now)
        teams = {t.id: t for t in people_repo.list_teams(tx, limit=10_000)}
        context: dict[str, Any] = {
            "section": "schedules",
            "schedule": row,
            "teams": [teams[x.team_id] for x in row.teams if x.team_id in teams],
            "timeline": view.timeline(
                row, schedule, start, end, now=now, names=names, viewer_zone=zone_name
            ),
            "oncall": _oncall_entry(oncall, _people(tx, [oncall], now)),
            "overrides": overrides,
            "my_time_off": my_time_off,
            "covers": covers,
            "notes": notes,
            "users": users,
            "people": sorted(people, key=lambda u: u.name.lower()),
            "feed_pattern": calendar.schedule_feed_pattern(services.settings.base_url, row.id),
            "now": now,
            "local": view.local,
            "duration": view.duration,
            "days": view.DAYS,
            "notice": NOTICES.get(request.query_params.get("notice", "")),
            "values": {},
            "errors": {},
            "forms": {},
            "preview": None,
            "feed_urls": None,
        }
        context.update(extra)
        headers = {"Cache-Control": "no-store"} if context["feed_urls"] else None
        return render(
            request, "schedule_detail.html", viewer, context, status=status, headers=headers
        )


@router.get("/schedules/{schedule_id}")
def schedule_detail(
    request: Request, viewer: Viewer, services: AppServices, schedule_id: str
) -> Response:
    return detail_page(request, viewer, services, parse_id(schedule_id, "schedule"))
