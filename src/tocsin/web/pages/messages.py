"""The message log: what Tocsin sent (or tried to send) to whom, and how it went."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.responses import Response

from tocsin.incidents.tables import Incident
from tocsin.notifications import repo as notifications_repo
from tocsin.notifications.tables import STATUSES, OutboundMessage
from tocsin.people import contact_rules
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import Viewer
from tocsin.web.pages.render import render

router = APIRouter()


def sees_all_messages(viewer: Principal) -> bool:
    """Whether the viewer reads everyone's messages (the outbox's rule), not just their own."""
    return viewer.actor.role in notifications_repo.SEES_ALL_MESSAGES


NOT_CONFIGURED = "is not configured"


@dataclass(frozen=True)
class Row:
    """One message as the log shows it: masked address, result in words, latency."""

    msg: OutboundMessage
    to: str
    incident_number: int | None
    result: str
    result_class: str  # ok | failed | neutral | pending
    latency: str
    body: str


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _row(msg: OutboundMessage, viewer: Principal, numbers: dict[object, int]) -> Row:
    own = msg.user_id == viewer.user.id
    to = msg.recipient if own else contact_rules.mask(msg.channel, msg.recipient)
    error = msg.last_error or ""
    if msg.status == "sent":
        result, css = "Sent", "ok"
    elif msg.status == "failed" and NOT_CONFIGURED in error:
        result, css = "Not sent — channel not configured", "neutral"
    elif msg.status == "failed":
        result, css = f"Failed: {error}" if error else "Failed", "failed"
    elif msg.status == "retry":
        result, css = f"Retrying: {error}" if error else "Retrying", "pending"
    else:
        result, css = msg.status.capitalize(), "pending"
    latency = ""
    if msg.sent_at is not None:
        seconds = (_aware(msg.sent_at) - _aware(msg.created_at)).total_seconds()
        latency = f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    body = msg.body
    if msg.kind == "verify" and not own:
        body = "(a verification code: shown only to its owner)"
    return Row(
        msg=msg,
        to=to,
        incident_number=numbers.get(msg.incident_id) if msg.incident_id else None,
        result=result,
        result_class=css,
        latency=latency,
        body=body,
    )


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
        wanted = {m.incident_id for m in messages if m.incident_id}
        numbers: dict[object, int] = (
            {
                i: n
                for i, n in tx.execute(
                    select(Incident.id, Incident.number).where(Incident.id.in_(wanted))
                ).all()
            }
            if wanted
            else {}
        )
        return render(
            request,
            "messages.html",
            viewer,
            {
                "section": "messages",
                "messages": messages,
                "rows": [_row(m, viewer, numbers) for m in messages],
                "everyone": everyone,
                "status": status,
                "statuses": STATUSES,
                "default_max_attempts": services.settings.max_attempts,
            },
        )
