"""The dashboard: open incidents, engine health, services, teams, people and latest messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tocsin.escalation import repo as escalation_repo
from tocsin.incidents.tables import Incident
from tocsin.notifications import repo as notifications_repo
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.services import repo as services_repo
from tocsin.web.deps import AppServices
from tocsin.web.pages.forms import Viewer
from tocsin.web.pages.incidents import open_incidents
from tocsin.web.pages.messages import sees_all_messages
from tocsin.web.pages.render import render
from tocsin.web.pages.schedule_view import all_gap_warnings

router = APIRouter()

LIST_LIMIT = 8


@router.get("/")
def dashboard(request: Request, viewer: Viewer, services: AppServices) -> Response:
    health = services.engine_health()
    everyone = sees_all_messages(viewer)
    sees_people = people_rules.allows(viewer.actor.role, "people.read")
    sees_services = people_rules.allows(viewer.actor.role, "services.read")
    with services.db.read() as tx:
        me = people_repo.get_user(tx, viewer.user.id)
        service_rows = services_repo.list_services(tx, limit=LIST_LIMIT) if sees_services else []
        owners = {t.id: t for t in people_repo.list_teams(tx, limit=500)} if service_rows else {}
        context = {
            "section": "dashboard",
            "health": health,
            "team_count": people_repo.count_teams(tx),
            "teams": people_repo.list_teams(tx, limit=LIST_LIMIT),
            "my_teams": sorted((m.team for m in me.memberships), key=lambda t: t.name),
            "sees_services": sees_services,
            "service_count": services_repo.count_services(tx) if sees_services else 0,
            "services": [
                (svc, owners.get(svc.owner_team_id) if svc.owner_team_id else None)
                for svc in service_rows
            ],
            "sees_people": sees_people,
            "people_count": people_repo.count_users(tx) if sees_people else None,
            "people": people_repo.list_users(tx, limit=LIST_LIMIT) if sees_people else [],
            "everyone": everyone,
            "message_counts": notifications_repo.count_by_status(tx) if everyone else {},
            "messages": notifications_repo.list_visible_messages(
                tx, actor=viewer.actor, limit=LIST_LIMIT
            ),
            "list_limit": LIST_LIMIT,
            "sees_incidents": people_rules.allows(viewer.actor.role, "incidents.read"),
        }
        if context["sees_incidents"]:
            context.update(open_incidents(tx, services.clock.now(), LIST_LIMIT))
            unreachable = []
            for state in escalation_repo.list_unreachable(tx):
                incident = tx.get(Incident, state.incident_id)
                if incident is not None and incident.status != "resolved":
                    unreachable.append((incident, state.unreachable or []))
            context["unreachable"] = unreachable
        if people_rules.allows(viewer.actor.role, "schedules.read"):
            context["gap_warnings"] = all_gap_warnings(tx, now=services.clock.now())
        return render(request, "dashboard.html", viewer, context)
