"""The dashboard: engine health, teams, people and the latest outbound messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tocsin.notifications import repo as notifications_repo
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.web.deps import AppServices
from tocsin.web.pages.forms import Viewer
from tocsin.web.pages.messages import sees_all_messages
from tocsin.web.pages.render import render

router = APIRouter()

LIST_LIMIT = 8


@router.get("/")
def dashboard(request: Request, viewer: Viewer, services: AppServices) -> Response:
    health = services.engine_health()
    everyone = sees_all_messages(viewer)
    sees_people = people_rules.allows(viewer.actor.role, "people.read")
    with services.db.read() as tx:
        me = people_repo.get_user(tx, viewer.user.id)
        context = {
            "section": "dashboard",
            "health": health,
            "team_count": people_repo.count_teams(tx),
            "teams": people_repo.list_teams(tx, limit=LIST_LIMIT),
            "my_teams": sorted((m.team for m in me.memberships), key=lambda t: t.name),
            "sees_people": sees_people,
            "people_count": people_repo.count_users(tx) if sees_people else None,
            "people": people_repo.list_users(tx, limit=LIST_LIMIT) if sees_people else [],
            "everyone": everyone,
            "message_counts": notifications_repo.count_by_status(tx) if everyone else {},
            "messages": notifications_repo.list_visible_messages(
                tx, actor=viewer.actor, limit=LIST_LIMIT
            ),
            "list_limit": LIST_LIMIT,
        }
        return render(request, "dashboard.html", viewer, context)
