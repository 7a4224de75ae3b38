"""Incident actions from the incident page: one CSRF-checked POST form per action.

Each handler calls one action in one transaction, then redirects back (POST-redirect-GET).
A refused action (not the assignee, already resolved, bad input) re-renders the incident
page with the message next to the form that caused it; nothing is written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from tocsin.incidents import actions
from tocsin.incidents import repo as incident_repo
from tocsin.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from tocsin.web.deps import AppServices, Principal
from tocsin.web.errors import status_of
from tocsin.web.pages.forms import CheckedForm, Viewer, text
from tocsin.web.pages.incident_detail import detail_page

router = APIRouter()

# Where the browser lands after each action: the part of the page that changed.
ANCHORS = {
    "acknowledged": "summary",
    "note": "timeline-title",
    "resolved": "summary",
    "reassigned": "summary",
    "snoozed": "summary",
    "severity": "summary",
    "urgency": "summary",
    "priority": "summary",
    "merged": "merged-title",
}

Step = Callable[[Session, uuid.UUID], Any]


def _run(
    request: Request,
    viewer: Principal,
    services: AppServices,
    ref: str,
    *,
    form_name: str,
    notice: str,
    step: Step,
    values: dict[str, str],
) -> Response:
    """Run ``step`` on the incident ``ref`` in a transaction; redirect, or show why not."""
    try:
        with services.db.transaction() as tx:
            incident = incident_repo.get_incident_ref(tx, ref)
            number = incident.number
            step(tx, incident.id)
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        errors: dict[str, str] = {}
        for f in exc.fields:
            name = f.field.split("[")[0]
            if name in values:  # next to its input; otherwise next to the form's button
                errors.setdefault(f"{form_name}-{name}", f.message)
        if not errors:
            errors[f"{form_name}-form"] = exc.message
        return detail_page(
            request,
            viewer,
            services,
            ref,
            values={f"{form_name}-{k}": v for k, v in values.items()},
            errors=errors,
            message=exc.message,
            status=status_of(exc),
        )
    services.wake()
    return RedirectResponse(
        f"/incidents/{number}?notice={notice}#{ANCHORS.get(notice, 'summary')}", status_code=303
    )


@router.post("/incidents/{ref}/acknowledge")
def acknowledge(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="ack",
        notice="acknowledged",
        values={},
        step=lambda tx, iid: actions.acknowledge_incident(
            tx, incident_id=iid, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/notes")
def note(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    body = text(form, "text")
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="note",
        notice="note",
        values={"text": body},
        step=lambda tx, iid: actions.add_note(
            tx, incident_id=iid, text=body, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/resolve")
def resolve(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    body = text(form, "note")
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="resolve",
        notice="resolved",
        values={"note": body},
        step=lambda tx, iid: actions.resolve_incident(
            tx, incident_id=iid, note=body, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/reassign")
def reassign(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    raw = text(form, "assignee_id")
    chosen = viewer.user.id if raw == "me" else None

    def step(tx: Session, iid: uuid.UUID) -> Any:
        try:
            assignee = chosen or uuid.UUID(raw)
        except ValueError:
            raise ValidationFailed.one("assignee_id", "Pick a person from the list.") from None
        return actions.reassign_incident(
            tx,
            incident_id=iid,
            assignee_id=assignee,
            actor=viewer.actor,
            now=now,
            paging_config=services.paging,
        )

    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="reassign",
        notice="reassigned",
        values={"assignee_id": raw},
        step=step,
    )


@router.post("/incidents/{ref}/snooze")
def snooze(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    raw = text(form, "minutes")

    def step(tx: Session, iid: uuid.UUID) -> Any:
        if not raw.isdigit():
            raise ValidationFailed.one("minutes", "Pick how long to snooze for.")
        return actions.snooze_incident(
            tx, incident_id=iid, minutes=int(raw), actor=viewer.actor, now=now
        )

    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="snooze",
        notice="snoozed",
        values={"minutes": raw},
        step=step,
    )


@router.post("/incidents/{ref}/severity")
def severity(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    raw = text(form, "severity")
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="severity",
        notice="severity",
        values={"severity": raw},
        step=lambda tx, iid: actions.set_severity(
            tx, incident_id=iid, severity=raw or None, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/urgency")
def urgency(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    raw = text(form, "urgency")
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="urgency",
        notice="urgency",
        values={"urgency": raw},
        step=lambda tx, iid: actions.set_urgency(
            tx, incident_id=iid, urgency=raw, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/priority")
def priority(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    now = services.clock.now()
    raw = text(form, "priority")
    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="priority",
        notice="priority",
        values={"priority": raw},
        step=lambda tx, iid: actions.set_priority(
            tx, incident_id=iid, priority=raw or None, actor=viewer.actor, now=now
        ),
    )


@router.post("/incidents/{ref}/merge")
def merge(
    request: Request, viewer: Viewer, services: AppServices, ref: str, form: CheckedForm
) -> Response:
    """Merge this incident into the primary named by number (``1423`` or ``#1423``)."""
    now = services.clock.now()
    raw = text(form, "primary")

    def step(tx: Session, iid: uuid.UUID) -> Any:
        if not raw.strip():
            raise ValidationFailed.one("primary", "Give the number of the primary incident.")
        try:
            primary = incident_repo.get_incident_ref(tx, raw)
        except NotFound:
            raise ValidationFailed.one("primary", f"No incident {raw.strip()}.") from None
        try:
            return actions.merge_incidents(
                tx, primary_id=primary.id, child_ids=[iid], actor=viewer.actor, now=now
            )
        except ValidationFailed as exc:
            raise ValidationFailed.one("primary", exc.fields[0].message) from None
        except Conflict as exc:
            raise ValidationFailed.one("primary", exc.message) from None

    return _run(
        request,
        viewer,
        services,
        ref,
        form_name="merge",
        notice="merged",
        values={"primary": raw},
        step=step,
    )
