"""Queries of the services slice: ``get_*`` raises NotFound, ``find_*`` returns None."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.services.tables import Integration, MaintenanceWindow, Service


def find_service(tx: Session, service_id: uuid.UUID) -> Service | None:
    return tx.get(Service, service_id)


def get_service(tx: Session, service_id: uuid.UUID) -> Service:
    service = tx.get(Service, service_id)
    if service is None:
        raise NotFound("service", service_id)
    return service


def find_service_by_name(tx: Session, name: str) -> Service | None:
    """Names are unique regardless of case."""
    return tx.execute(
        select(Service).where(func.lower(Service.name) == name.strip().lower())
    ).scalar_one_or_none()


def list_services(tx: Session, *, after: str | None = None, limit: int = 100) -> Sequence[Service]:
    """Services ordered by name; ``after`` is the last name of the previous page (cursor)."""
    stmt = select(Service).order_by(Service.name).limit(limit)
    if after:
        stmt = stmt.where(Service.name > after)
    return tx.execute(stmt).scalars().all()


def count_services(tx: Session) -> int:
    return int(tx.execute(select(func.count()).select_from(Service)).scalar_one())


def find_integration_by_routing_key(tx: Session, routing_key: str) -> Integration | None:
    return tx.execute(
        select(Integration).where(Integration.routing_key == routing_key)
    ).scalar_one_or_none()


def list_integrations(tx: Session, service_id: uuid.UUID) -> Sequence[Integration]:
    stmt = select(Integration).where(Integration.service_id == service_id).order_by(Integration.id)
    return tx.execute(stmt).scalars().all()


def list_maintenance_windows(
    tx: Session, service_id: uuid.UUID, *, current_or_future_at: datetime | None = None
) -> Sequence[MaintenanceWindow]:
    query = select(MaintenanceWindow).where(MaintenanceWindow.service_id == service_id)
    if current_or_future_at is not None:
        query = query.where(MaintenanceWindow.end_at > current_or_future_at)
    return tx.execute(query.order_by(MaintenanceWindow.start_at.desc())).scalars().all()


def get_integration(tx: Session, integration_id: uuid.UUID) -> Integration:
    integration = tx.get(Integration, integration_id)
    if integration is None:
        raise NotFound("integration", integration_id)
    return integration
