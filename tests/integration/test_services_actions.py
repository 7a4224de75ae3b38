"""Service actions on both databases: default integration, names, validation, keys, roles."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from tocsin.people import actions as people_actions
from tocsin.services import actions, repo
from tocsin.services.tables import Integration, Service

ADMIN = Actor(user_id=None, name="admin", role="admin", via="cli")
MANAGER = Actor(user_id=uuid.uuid4(), name="mia", role="manager", via="session")
RESPONDER = Actor(user_id=uuid.uuid4(), name="rui", role="responder", via="session")


def _count(container: Container, table: type[Service] | type[Integration]) -> int:
    with container.db.read() as tx:
        return int(tx.execute(select(func.count()).select_from(table)).scalar_one())


def test_create_service_has_one_events_v2_integration(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        team = people_actions.create_team(tx, name="Payments", actor=ADMIN, now=now)
        service = actions.create_service(
            tx,
            name="Checkout API",
            owner_team_id=team.id,
            urgency_rule="support_hours",
            support_hours={
                "time_zone": "Europe/London",
                "windows": [{"days": [4, 0, 0], "start": "09:00", "end": "24:00"}],
            },
            outside_hours="hold",
            ack_timeout_minutes=30,
            runbook_links=[{"title": "Runbook", "url": "https://wiki.example.com/checkout"}],
            actor=MANAGER,
            now=now,
        )
        service_id = service.id
    with container.db.read() as tx:
        stored = repo.get_service(tx, service_id)
        assert stored.owner_team_id == team.id
        assert stored.support_hours == {
            "time_zone": "Europe/London",
            "windows": [{"days": [0, 4], "start": "09:00", "end": "24:00"}],
        }
        assert stored.created_at == now
        (integration,) = stored.integrations
        assert integration.kind == "events_v2"
        assert repo.find_integration_by_routing_key(tx, integration.routing_key) == integration
        kinds = tx.execute(select(AuditEvent.kind)).scalars().all()
        assert "service.created" in kinds


def test_duplicate_name_any_case_is_a_conflict_on_name(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        actions.create_service(tx, name="Search", actor=ADMIN, now=now)
    with pytest.raises(Conflict) as exc, container.db.transaction() as tx:
        actions.create_service(tx, name=" search ", actor=ADMIN, now=now)
    assert exc.value.code == "service.name_taken"
    assert [f.field for f in exc.value.fields] == ["name"]
    assert _count(container, Service) == 1


def test_bad_support_hours_rejected_with_paths_and_nothing_written(container: Container) -> None:
    with pytest.raises(ValidationFailed) as exc, container.db.transaction() as tx:
        actions.create_service(
            tx,
            name="Billing",
            urgency_rule="support_hours",
            support_hours={
                "time_zone": "Europe/Londres",
                "windows": [{"days": [0], "start": "17:00", "end": "09:00"}],
            },
            actor=ADMIN,
            now=container.clock.now(),
        )
    assert [f.field for f in exc.value.fields] == [
        "support_hours.time_zone",
        "support_hours.windows[0].end",
    ]
    with pytest.raises(ValidationFailed) as missing, container.db.transaction() as tx:
        actions.create_service(
            tx, name="Billing", urgency_rule="support_hours", actor=ADMIN, now=container.clock.now()
        )
    assert [f.field for f in missing.value.fields] == ["support_hours"]
    assert _count(container, Service) == 0
    assert _count(container, Integration) == 0


def test_routing_keys_are_unique_32_lowercase_hex(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        first = actions.create_service(tx, name="A", actor=ADMIN, now=now)
        actions.create_service(tx, name="B", actor=ADMIN, now=now)
        actions.add_integration(
            tx, service_id=first.id, kind="alertmanager", name="Prometheus", actor=ADMIN, now=now
        )
    with container.db.read() as tx:
        keys = tx.execute(select(Integration.routing_key)).scalars().all()
    assert len(keys) == 3 == len(set(keys))
    assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)


def test_responder_may_not_create_or_edit(container: Container) -> None:
    now = container.clock.now()
    with pytest.raises(PermissionDenied), container.db.transaction() as tx:
        actions.create_service(tx, name="Nope", actor=RESPONDER, now=now)
    with container.db.transaction() as tx:
        service_id = actions.create_service(tx, name="Yes", actor=ADMIN, now=now).id
    with pytest.raises(PermissionDenied), container.db.transaction() as tx:
        actions.update_service(tx, service_id=service_id, name="Renamed", actor=RESPONDER, now=now)
    assert _count(container, Service) == 1


def test_update_service_validates_the_whole_and_records_changes(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        service_id = actions.create_service(tx, name="Mail", actor=ADMIN, now=now).id
    with pytest.raises(ValidationFailed) as exc, container.db.transaction() as tx:
        actions.update_service(
            tx, service_id=service_id, urgency_rule="support_hours", actor=MANAGER, now=now
        )
    assert [f.field for f in exc.value.fields] == ["support_hours"]
    with container.db.transaction() as tx:
        service = actions.update_service(
            tx,
            service_id=service_id,
            name="Mail relay",
            urgency_rule="severity",
            auto_resolve_minutes=240,
            actor=MANAGER,
            now=now,
        )
        assert service.name == "Mail relay"
    with container.db.read() as tx:
        event = tx.execute(
            select(AuditEvent).where(AuditEvent.kind == "service.updated")
        ).scalar_one()
        assert event.data == {"changed": ["name", "urgency_rule", "auto_resolve_minutes"]}
