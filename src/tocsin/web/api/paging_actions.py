"""Paging over the API: escalate an incident now, or page extra responders for it.

Both name the incident by number or id, run in one transaction, and wake the engine
after the commit so the queued pages go out at once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from tocsin.incidents import paging
from tocsin.kernel.errors import FieldError, ValidationFailed
from tocsin.web.api.incident_schemas import IncidentOut
from tocsin.web.api.incident_views import incident_out, incident_ref
from tocsin.web.api.incidents import Ref
from tocsin.web.api.schemas import RequestBody
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/incidents", tags=["incidents"])


class EscalateBody(RequestBody):
    level: int | None = Field(
        default=None, description="Level to page, counted from 1; default the next level"
    )


class ResponderTarget(RequestBody):
    kind: str = Field(max_length=16, description="user, schedule or team")
    id: str = Field(max_length=64)


class RespondersBody(RequestBody):
    targets: list[ResponderTarget] = Field(min_length=1, max_length=20)
    message: str = Field(default="", max_length=500)


class PagedOut(BaseModel):
    user_id: str
    name: str
    via: str
    via_name: str
    reachable: bool
    methods: list[str]


class RespondersOut(BaseModel):
    paged: list[PagedOut]
    incident: IncidentOut


def _as_targets(exc: ValidationFailed) -> ValidationFailed:
    """The targets are checked as a one-level policy: name the fields of this body instead."""
    fields = [FieldError(f.field.removeprefix("levels[0]."), f.message) for f in exc.fields]
    return ValidationFailed(exc.message, fields, code=exc.code)


@router.post("/{ref}/escalate", summary="Page the next escalation level now (or a chosen level)")
def escalate(
    ref: Ref,
    principal: CurrentPrincipal,
    services: AppServices,
    body: EscalateBody | None = None,
) -> IncidentOut:
    level = None if body is None else body.level
    with services.db.transaction() as tx:
        incident = incident_ref(tx, ref)
        paging.escalate(
            tx,
            incident_id=incident.id,
            actor=principal.actor,
            now=services.clock.now(),
            to_level=level,
        )
        tx.flush()
        out = incident_out(tx, incident, services.settings.base_url)
    services.wake()
    return out


@router.post(
    "/{ref}/responders",
    summary="Page people, schedules' on-call or teams for this incident now",
)
def add_responders(
    ref: Ref, body: RespondersBody, principal: CurrentPrincipal, services: AppServices
) -> RespondersOut:
    with services.db.transaction() as tx:
        incident = incident_ref(tx, ref)
        try:
            paged: list[dict[str, Any]] = paging.add_responders(
                tx,
                incident_id=incident.id,
                targets=[t.model_dump() for t in body.targets],
                actor=principal.actor,
                now=services.clock.now(),
                message=body.message,
                config=services.paging,
            )
        except ValidationFailed as exc:
            raise _as_targets(exc) from None
        tx.flush()
        out = RespondersOut(
            paged=[PagedOut.model_validate(p) for p in paged],
            incident=incident_out(tx, incident, services.settings.base_url),
        )
    services.wake()
    return out
