"""One-click links from messages: ``/a/{token}`` acts on an incident, ``/t/{token}`` a test page.

No session is needed: the signed token is the credential. It names one person, one
incident (or test page) and one action, expires (24 h by default) and is
unguessable (HMAC-SHA256 with the server's secret key), so it stands in for a login.

A GET never changes anything: mail scanners and link previews fetch links on their
own. It shows a confirmation page whose button POSTs back to the same URL. That
POST needs no session CSRF token: a cross-site form could only post a token its
author already holds, and holding the token is exactly the permission to act (it is
bound to its person and incident, and ``form-action 'self'`` keeps our own page from
posting elsewhere). Forged, altered and expired tokens are refused with a 403 page,
logged (without the token) and recorded in the audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.incidents import actions as incident_actions
from tocsin.incidents import paging
from tocsin.incidents import repo as incident_repo
from tocsin.incidents.tables import Incident
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, NotFound, TocsinError
from tocsin.kernel.logging import get_logger
from tocsin.kernel.signing import BadSignature
from tocsin.notifications import links, personal
from tocsin.people import actions as people_actions
from tocsin.people.tables import User
from tocsin.web.deps import Services, get_container
from tocsin.web.pages.render import render

log = get_logger("tocsin.web.links")
router = APIRouter(include_in_schema=False)

LINK_ACTOR: Final = Actor.system("link")
LABELS: Final = {"ack": "Acknowledge", "resolve": "Resolve", "escalate": "Escalate now"}
PAST: Final = {"ack": "acknowledged", "resolve": "resolved", "escalate": "escalated"}


@dataclass(frozen=True)
class Outcome:
    """What acting on an incident did, in words for a page, an SMS or a call."""

    ok: bool
    message: str
    number: int | None = None


def refuse(services: Services, *, kind: str, reason: str, now: datetime) -> None:
    """Log and audit a refused credential (never the token or number itself)."""
    log.warning(f"{kind}.refused", reason=reason)
    with services.db.transaction() as tx:
        audit.record(
            tx,
            actor=LINK_ACTOR if kind == "link" else Actor.system(kind),
            kind=f"{kind}.refused",
            subject_type=kind,
            subject_id=None,
            at=now,
            data={"reason": reason},
        )


def active_user(tx: Session, user_id: uuid.UUID) -> User | None:
    user = tx.get(User, user_id)
    return user if user is not None and user.is_active else None


def act(
    services: Services, *, incident_id: uuid.UUID, user_id: uuid.UUID, action: str, via: str
) -> Outcome:
    """Acknowledge, resolve or escalate as ``user_id``; a refusal is an Outcome, not an error.

    ``via`` only names the channel in the log. Safe to call twice: acknowledging an
    incident you already acknowledged changes nothing; resolving twice says it is resolved.
    """
    now = services.clock.now()
    number: int | None = None
    try:
        with services.db.transaction() as tx:
            user = active_user(tx, user_id)
            if user is None:
                return Outcome(False, "Your Tocsin account is not active.")
            actor = people_actions.actor_for(user, via="session")
            incident = incident_repo.get_incident(tx, incident_id)
            number = incident.number
            if action == "ack":
                incident_actions.acknowledge_incident(
                    tx, incident_id=incident.id, actor=actor, now=now
                )
            elif action == "resolve":
                incident_actions.resolve_incident(
                    tx, incident_id=incident.id, actor=actor, now=now, note=f"Resolved by {via}."
                )
            elif action == "escalate":
                paging.escalate(tx, incident_id=incident.id, actor=actor, now=now)
            else:
                return Outcome(False, "Unknown action.", number)
    except NotFound:
        return Outcome(False, "This incident no longer exists.", number)
    except Conflict as exc:
        return Outcome(False, exc.message, number)
    except TocsinError as exc:
        return Outcome(False, exc.message, number)
    services.wake()
    log.info("link.acted", action=action, via=via, incident=number)
    return Outcome(True, f"#{number} {PAST[action]}.", number)


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    request.state.principal = None  # no session on these pages: show no navigation
    return render(request, name, None, context, status=status)


def _refused(request: Request, services: Services, exc: BadSignature, *, now: datetime) -> Response:
    refuse(services, kind="link", reason=exc.code, now=now)
    message = exc.message + " Open the incident in Tocsin instead."
    return _page(
        request,
        "link_done.html",
        {"ok": False, "title": "Link refused", "message": message},
        status=403,
    )


def _incident_context(services: Services, found: links.IncidentAction) -> dict[str, Any] | None:
    with services.db.read() as tx:
        user = active_user(tx, found.user_id)
        incident = tx.get(Incident, found.incident_id)
        if user is None or incident is None:
            return None
        return {
            "number": incident.number,
            "title": incident.title,
            "status": incident.status,
            "user_name": user.name,
            "label": LABELS[found.action],
            "action": found.action,
            "moot": incident.status == "resolved"
            or (found.action == "ack" and incident.status == "acknowledged"),
        }


@router.get("/a/{token}")
def confirm_incident_action(token: str, request: Request) -> Response:
    services = get_container(request)
    now = services.clock.now()
    try:
        found = links.read_incident_action(services.secret_key, token, now=now)
    except BadSignature as exc:
        return _refused(request, services, exc, now=now)
    context = _incident_context(services, found)
    if context is None:
        message = "This incident or person no longer exists in Tocsin."
        return _page(request, "link_done.html", {"ok": False, "title": "Gone", "message": message})
    return _page(request, "link_confirm.html", {**context, "post_url": f"/a/{token}"})


@router.post("/a/{token}")
def perform_incident_action(token: str, request: Request) -> Response:
    services = get_container(request)
    now = services.clock.now()
    try:
        found = links.read_incident_action(services.secret_key, token, now=now)
    except BadSignature as exc:
        return _refused(request, services, exc, now=now)
    outcome = act(
        services,
        incident_id=found.incident_id,
        user_id=found.user_id,
        action=found.action,
        via="link",
    )
    context = {
        "ok": outcome.ok,
        "title": "Done" if outcome.ok else "Nothing to do",
        "message": outcome.message,
        "number": outcome.number,
    }
    return _page(request, "link_done.html", context)


@router.get("/t/{token}")
def confirm_test_page(token: str, request: Request) -> Response:
    services = get_container(request)
    now = services.clock.now()
    try:
        links.read_test_ack(services.secret_key, token, now=now)
    except BadSignature as exc:
        return _refused(request, services, exc, now=now)
    context = {
        "number": None,
        "title": "Tocsin test page",
        "status": "sent",
        "label": "Acknowledge test page",
        "action": "test",
        "moot": False,
        "post_url": f"/t/{token}",
    }
    return _page(request, "link_confirm.html", context)


def ack_test(services: Services, *, test_id: uuid.UUID, user_id: uuid.UUID) -> Outcome:
    """Acknowledge a test page (the first acknowledgement counts) and say how long it took."""
    now = services.clock.now()
    try:
        with services.db.transaction() as tx:
            test = personal.acknowledge_test_page(tx, test_id=test_id, user_id=user_id, now=now)
            taken = ((test.acknowledged_at or now) - test.created_at).total_seconds()
    except NotFound:
        return Outcome(False, "This test page no longer exists.")
    return Outcome(True, f"Test page received in {round(taken)} s.")


@router.post("/t/{token}")
def perform_test_ack(token: str, request: Request) -> Response:
    services = get_container(request)
    now = services.clock.now()
    try:
        test_id, user_id = links.read_test_ack(services.secret_key, token, now=now)
    except BadSignature as exc:
        return _refused(request, services, exc, now=now)
    outcome = ack_test(services, test_id=test_id, user_id=user_id)
    context = {
        "ok": outcome.ok,
        "title": "Received" if outcome.ok else "Nothing to do",
        "message": outcome.message,
        "number": None,
    }
    return _page(request, "link_done.html", context)
