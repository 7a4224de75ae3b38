"""The message log: what Tocsin sent (or tried to send) to whom, and how it went."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tocsin.notifications import repo as notifications_repo
from tocsin.notifications.tables import STATUSES
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import Viewer
from tocsin.web.pages.render import render

router = APIRouter()


def sees_all_messages(viewer: Principal) -> bool:
    """Whether the viewer reads everyone's messages (the outbox's rule), not just their own."""
    return viewer.actor.role in notifications_repo.SEES_ALL_MESSAGES


@router.get("/messages")
def message_log(
    request: Request, viewer: Viewer, services: AppServices, status: str = ""
) -> Response:
    status = status if status in STATUSES else ""
    everyone = sees_all_messages(viewer)
    with services.db.read() as tx:
        messages = notifications_repo.list_visible_messages(
            tx, actor=viewer.actor, limit=200, status=status or None
        )
        return render(
            request,
            "messages.html",
            viewer,
            {
                "section": "messages",
                "messages": messages,
                "everyone": everyone,
                "status": status,
                "statuses": STATUSES,
                "default_max_attempts": services.settings.max_attempts,
            },
        )
