"""Services: list, create, read and change monitored services, and add integrations."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from tocsin.people.rules import authorize
from tocsin.services import actions, repo
from tocsin.services.endpoints import intake_url
from tocsin.services.tables import Integration, Service
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


def integration_out(integration: Integration, base_url: str) -> IntegrationOut:
    """An integration with the URL its senders post to."""
    out = IntegrationOut.model_validate(integration)
    out.url = intake_url(base_url, integration.kind, integration.routing_key)
    return out


def service_out(service: Service, base_url: str) -> ServiceOut:
    out = ServiceOut.model_validate(service)
    out.integrations = [integration_out(i, base_url) for i in service.integrations]
    return out


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    # Leave grouping's unset keys out so the action applies its defaults (window 10 minutes).
    grouping = values.get("grouping")
    if isinstance(grouping, dict):
        values["grouping"] = {k: v for k, v in grouping.items() if v is not None}
    return values


@router.get("", summary="List services, ordered by name, with their integrations' routing keys")
def list_services(
    principal: CurrentPrincipal,
    services: AppServices,
    limit: pagination.Limit = pagination.DEFAULT_LIMIT,
    cursor: pagination.Cursor = None,
) -> ServicePage:
    authorize(principal.actor, "services.read")
    after = pagination.decode(cursor)
    base = services.settings.base_url
    with services.db.read() as tx:
        found = repo.list_services(tx, after=after, limit=limit + 1)
        page = [service_out(s, base) for s in found[:limit]]
    more = len(found) > limit
    return ServicePage(data=page, next_cursor=pagination.encode(page[-1].name) if more else None)


@router.post("", status_code=201, summary="Create a service with an Events API v2 routing key")
def create_service(
    body: ServiceCreate, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    values = _settings(body.model_dump())
    with services.db.transaction() as tx:
        service = actions.create_service(
            tx, actor=principal.actor, now=services.clock.now(), **values
        )
        out = service_out(service, services.settings.base_url)
    services.wake()
    return out


@router.get("/{service_id}", summary="One service")
def get_service(
    service_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    authorize(principal.actor, "services.read")
    with services.db.read() as tx:
        return service_out(repo.get_service(tx, service_id), services.settings.base_url)


@router.patch("/{service_id}", summary="Change a service (fields left out keep their value)")
def update_service(
    service_id: uuid.UUID, body: ServiceUpdate, principal: CurrentPrincipal, services: AppServices
) -> ServiceOut:
    # Only the fields sent are changed; an explicit null clears a nullable field.
    changes: dict[str, Any] = _settings(body.model_dump(exclude_unset=True))
    with services.db.transaction() as tx:
        service = actions.update_service(
            tx, service_id=service_id, actor=principal.actor, now=services.clock.now(), **changes
        )
        out = service_out(service, services.settings.base_url)
    services.wake()
    return out


@router.get("/{service_id}/integrations", summary="A service's integrations and their intake URLs")
def list_integrations(
    service_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> list[IntegrationOut]:
    authorize(principal.actor, "services.read")
    with services.db.read() as tx:
        repo.get_service(tx, service_id)
        found = repo.list_integrations(tx, service_id)
        return [integration_out(i, services.settings.base_url) for i in found]


@router.post(
    "/{service_id}/integrations",
    status_code=201,
    summary="Add an integration with a new routing key; answers the URL to send events to",
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
        out = integration_out(integration, services.settings.base_url)
    services.wake()
    return out
