"""Services: list, create, read and change monitored services, and add integrations."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from tocsin.people.rules import authorize
from tocsin.services import actions, repo
from tocsin.web.api import pagination
from tocsin.web.api.schemas import (
    IntegrationCreate,
    IntegrationOut,
    ServiceCreate,
    ServiceOut,
    ServicePage,
    ServiceUpdate,
)
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(prefix="/services", tags=["services"])


@router.get("", summary="List services, ordered by name, with their integrations' routing keys")
def list_services(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> ServicePage:
    authorize(principal.actor, "services.read")
    after = pagination.decode(cursor)
    with services.db.read() as tx:
        found = repo.list_services(tx, after=after, limit=limit + 1)
        page = [ServiceOut.model_validate(s) for s in found[:limit]]
    more = len(found) > limit
    return ServicePage(data=page, next_cursor=pagination.encode(page[-1].name) if more else None)


@router.post("", status_code=201, summary="Create a service with an Events API v2 routing key")
def create_service(
    body: ServiceCreate, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    values = body.model_dump()
    with services.db.transaction() as tx:
        service = actions.create_service(
            tx, actor=principal.actor, now=services.clock.now(), **values
        )
        return ServiceOut.model_validate(service)


@router.get("/{service_id}", summary="One service")
def get_service(
    service_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    authorize(principal.actor, "services.read")
    with services.db.read() as tx:
        return ServiceOut.model_validate(repo.get_service(tx, service_id))


@router.patch("/{service_id}", summary="Change a service (fields left out keep their value)")
def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    # Only the fields sent are changed; an explicit null clears a nullable field.
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    with services.db.transaction() as tx:
        service = actions.update_service(
            tx, service_id=service_id, actor=principal.actor, now=services.clock.now(), **changes
        )
        return ServiceOut.model_validate(service)


@router.post(
    "/{service_id}/integrations", status_code=201, summary="Add an integration with a new key"
)
def add_integration(
    service_id: uuid.UUID,
    body: IntegrationCreate,
    principal: CurrentPrincipal,
    services: AppServices,
) -> IntegrationOut:
    with services.db.transaction() as tx:
        integration = actions.add_integration(
            tx,
            service_id=service_id,
            kind=body.kind,
            name=body.name,
            actor=principal.actor,
            now=services.clock.now(),
        )
        return IntegrationOut.model_validate(integration)
