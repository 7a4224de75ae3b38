"""From accepted events to alerts and incidents: webhooks, grouping, storms, suppression, timers."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.integration.api_support import api_client, count
from tests.integration.intake_support import (
    CLI,
    alerts,
    incidents,
    make_service,
    post,
    process,
    timeline_kinds,
    trigger,
)
from tocsin.bootstrap import Container
from tocsin.incidents import actions, heartbeats
from tocsin.incidents.intake import process_pending
from tocsin.incidents.integrations import set_webhook_mapping
from tocsin.incidents.tables import Alert, InboundEvent, Incident
from tocsin.kernel.clock import FrozenClock
from tocsin.services import actions as service_actions
from tocsin.services.tables import Integration

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire" / "alertmanager-0.25.jsonl"


def _webhook_bodies() -> list[dict]:
    lines = [json.loads(line) for line in WIRE.read_text().splitlines() if line.strip()]
    return [line["body"] for line in lines if line["path"] == "/alertmanager"]


def _integration(container: Container, service_id, kind: str) -> Integration:
    with container.db.transaction() as tx:
        return service_actions.add_integration(
            tx, service_id=service_id, kind=kind, name=kind, actor=CLI, now=container.clock.now()
        )


def test_alertmanager_webhook_fires_and_resolves_from_the_real_capture(
    container: Container,
) -> None:
    service, _key = make_service(container)
    integration = _integration(container, service.id, "alertmanager")
    firing, resolved = _webhook_bodies()
    url = f"/integrations/alertmanager/{integration.routing_key}"
    with api_client(container) as client:
        answer = client.post(url, json=firing)
        assert answer.status_code == 202
        assert answer.json()["count"] == 1
        process(container)
        [alert] = alerts(container)
        assert alert.summary == "Disk almost full on db1"
        assert alert.dedup_key == "am:6e3d9c542e1f6503"
        assert alert.severity == "critical"
        assert alert.links[0] == {"href": "https://runbooks.example/disk", "text": "Runbook"}
        assert "no_runbook" not in alert.quality_flags
        assert client.post(url, json=resolved).status_code == 202
    process(container)
    [alert] = alerts(container)
    [incident] = incidents(container)
    assert alert.status == "resolved" and incident.status == "resolved"


def test_alertmanager_payload_errors_are_listed(container: Container) -> None:
    service, _key = make_service(container)
    integration = _integration(container, service.id, "alertmanager")
    with api_client(container) as client:
        answer = client.post(
            f"/integrations/alertmanager/{integration.routing_key}",
            json={"version": "3", "alerts": [{"status": "maybe"}]},
        )
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert any("version" in e for e in errors) and any("alerts[0].status" in e for e in errors)
    assert count(container, InboundEvent) == 0


def test_generic_webhook_uses_the_integrations_mapping(container: Container) -> None:
    service, _key = make_service(container)
    integration = _integration(container, service.id, "generic_webhook")
    url = f"/integrations/webhook/{integration.routing_key}"
    with api_client(container) as client:
        unmapped = client.post(url, json={"title": "x"})
        assert unmapped.status_code == 400
        assert "no field mapping" in unmapped.json()["errors"][0]
    with container.db.transaction() as tx:
        set_webhook_mapping(
            tx,
            integration_id=integration.id,
            mapping={
                "summary": "check.title",
                "source": "check.host",
                "severity": "check.level",
                "dedup_key": "check.id",
                "action": "state",
                "description": "check.text",
                "runbook_url": "check.links[0]",
                "severity_map": {"P1": "critical"},
                "resolve_values": ["ok"],
            },
            actor=CLI,
            now=container.clock.now(),
        )
    body = {
        "state": "alerting",
        "check": {
            "id": 42,
            "title": "Checkout p99 latency above 2 s",
            "host": "web-3",
            "level": "P1",
            "text": "p99 latency of POST /checkout has been above 2 s for 10 minutes.",
            "links": ["https://runbooks.example/checkout-latency"],
        },
    }
    with api_client(container) as client:
        answer = client.post(url, json=body)
        assert answer.status_code == 202 and answer.json()["dedup_key"] == "42"
        process(container)
        [alert] = alerts(container)
        assert alert.severity == "critical"
        assert alert.quality_flags == []
        body["state"] = "ok"
        client.post(url, json=body)
    process(container)
    assert incidents(container)[0].status == "resolved"


def test_grouping_by_fields_joins_alerts_and_says_why(container: Container) -> None:
    _service, key = make_service(
        container, grouping={"mode": "fields", "window_minutes": 10, "fields": ["source"]}
    )
    with api_client(container) as client:
        post(client, trigger(key, dedup_key="a"))
        post(client, trigger(key, dedup_key="b"))
        other = trigger(key, dedup_key="c")
        other["payload"]["source"] = "db-2"
        post(client, other)
    process(container)
    first, second, third = alerts(container)
    assert first.incident_id == second.incident_id != third.incident_id
    assert second.join_reason.startswith("Grouped by fields: same source=db-1")
    grouped = next(i for i in incidents(container) if i.id == first.incident_id)
    assert grouped.alert_count == 2
    assert timeline_kinds(container, grouped) == ["incident.triggered", "alert.joined"]


def test_time_window_grouping_ends_with_the_window(
    container: Container, clock: FrozenClock
) -> None:
    _service, key = make_service(container, grouping={"mode": "time", "window_minutes": 5})
    with api_client(container) as client:
        post(client, trigger(key, dedup_key="a"))
        process(container)
        clock.advance(timedelta(minutes=4))
        post(client, trigger(key, dedup_key="b"))
        process(container)
        clock.advance(timedelta(minutes=2))
        post(client, trigger(key, dedup_key="c"))
        process(container)
    a, b, c = alerts(container)
    assert a.incident_id == b.incident_id != c.incident_id


def test_storm_protection_groups_the_flood_and_drops_nothing(container: Container) -> None:
    _service, key = make_service(container, storm_threshold=3)
    with api_client(container) as client:
        for index in range(20):
            assert post(client, trigger(key, dedup_key=f"k{index}")).status_code == 202
    process(container)
    rows = incidents(container)
    assert len(rows) == 4  # three ordinary incidents, then one storm incident
    storm = rows[-1]
    assert storm.storm and storm.alert_count == 17
    assert storm.title.startswith("Alert storm: 17 alerts")
    assert count(container, Alert) == 20


def test_maintenance_window_records_events_but_opens_nothing(
    container: Container, clock: FrozenClock
) -> None:
    service, key = make_service(container)
    with container.db.transaction() as tx:
        service_actions.add_maintenance_window(
            tx,
            service_id=service.id,
            start_at=clock.now() - timedelta(minutes=1),
            end_at=clock.now() + timedelta(hours=1),
            reason="database upgrade",
            actor=CLI,
            now=clock.now(),
        )
    with api_client(container) as client:
        post(client, trigger(key))
    process(container)
    [alert] = alerts(container)
    assert alert.suppressed and "database upgrade" in (alert.suppressed_reason or "")
    assert incidents(container) == []


def test_event_rules_suppress_and_set_priority(container: Container) -> None:
    _service, key = make_service(
        container,
        event_rules=[
            {"field": "summary", "op": "contains", "value": "backup", "suppress": True},
            {"field": "source", "op": "equals", "value": "batch-1", "priority": "low"},
        ],
    )
    with api_client(container) as client:
        post(client, trigger(key, summary="Nightly backup finished with warnings", dedup_key="1"))
        low = trigger(key, dedup_key="2")
        low["payload"]["source"] = "batch-1"
        post(client, low)
        notification = trigger(key, dedup_key="3")
        post(client, notification)
    process(container)
    suppressed, lowered, _normal = alerts(container)
    assert suppressed.suppressed and suppressed.priority == "notification"
    assert lowered.priority == "low" and not lowered.suppressed
    [low_incident, high_incident] = incidents(container)
    assert low_incident.urgency == "low" and high_incident.urgency == "high"


def test_severity_urgency_rule(container: Container) -> None:
    _service, key = make_service(container, urgency_rule="severity")
    with api_client(container) as client:
        warning = trigger(key, dedup_key="w")
        warning["payload"]["severity"] = "warning"
        post(client, warning)
        post(client, trigger(key, dedup_key="c"))
    process(container)
    low, high = incidents(container)
    assert (low.urgency, high.urgency) == ("low", "high")


def test_support_hours_hold_releases_when_hours_begin(
    container: Container, clock: FrozenClock
) -> None:
    hours = {
        "time_zone": "UTC",
        "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
    }
    _service, key = make_service(
        container, urgency_rule="support_hours", support_hours=hours, outside_hours="hold"
    )
    clock.set(clock.now().replace(year=2026, month=11, day=27, hour=22, minute=0))  # Friday night
    with api_client(container) as client:
        post(client, trigger(key))
    process(container)
    [incident] = incidents(container)
    assert incident.urgency == "low" and incident.held_until is not None
    assert incident.held_until.isoformat().startswith("2026-11-30T09:00")  # Monday 09:00
    clock.set(incident.held_until)
    process(container)
    [incident] = incidents(container)
    assert incident.urgency == "high" and incident.held_until is None
    assert timeline_kinds(container, incident)[-1] == "incident.released"


def test_ack_timeout_retriggers_and_auto_resolve_closes(
    container: Container, clock: FrozenClock
) -> None:
    _service, key = make_service(container, ack_timeout_minutes=30, auto_resolve_minutes=240)
    with api_client(container) as client:
        post(client, trigger(key))
    process(container)
    [incident] = incidents(container)
    with container.db.transaction() as tx:
        actions.acknowledge_incident(tx, incident_id=incident.id, actor=CLI, now=clock.now())
    clock.advance(timedelta(minutes=31))
    process(container)
    [incident] = incidents(container)
    assert incident.status == "triggered"
    assert "incident.ack_timeout" in timeline_kinds(container, incident)
    clock.advance(timedelta(hours=4))
    process(container)
    [incident] = incidents(container)
    assert incident.status == "resolved"
    [alert] = alerts(container)
    assert alert.status == "resolved"


def test_heartbeat_missed_opens_an_alert_and_the_next_ping_resolves_it(
    container: Container, clock: FrozenClock
) -> None:
    service, _key = make_service(container)
    with container.db.transaction() as tx:
        beat = heartbeats.create_heartbeat(
            tx,
            service_id=service.id,
            name="nightly-backup",
            interval_minutes=60,
            actor=CLI,
            now=clock.now(),
        )
    url = f"/integrations/heartbeat/{beat.ping_key}"
    with api_client(container) as client:
        assert client.post(url).status_code == 200
        clock.advance(timedelta(minutes=59))
        process(container)
        assert incidents(container) == []
        clock.advance(timedelta(minutes=2))
        process(container)  # marks it down and accepts the trigger
        process(container)  # turns the trigger into an incident
        [incident] = incidents(container)
        assert incident.title == "No heartbeat from nightly-backup for 60 minutes"
        assert client.get(url).status_code == 200
    process(container)
    [incident] = incidents(container)
    assert incident.status == "resolved"


def test_processing_is_idempotent_after_a_crash_mid_batch(container: Container) -> None:
    """An event is processed in the transaction that marks it: a redo finds nothing to redo."""
    _service, key = make_service(container)
    with api_client(container) as client:
        post(client, trigger(key, dedup_key="x"))
    # Simulate a crash after processing but before commit: nothing was committed.
    with pytest.raises(RuntimeError), container.db.transaction() as tx:
        process_pending(tx, now=container.clock.now())
        raise RuntimeError("crash")
    assert count(container, Incident) == 0
    process(container)
    process(container)
    assert count(container, Incident) == 1
    with container.db.read() as tx:
        assert tx.execute(select(InboundEvent.processed_at)).scalar_one() is not None


def test_processed_events_are_purged_after_a_week(container: Container, clock: FrozenClock) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        post(client, trigger(key))
    process(container)
    clock.advance(timedelta(days=6))
    process(container)
    assert count(container, InboundEvent) == 1
    clock.advance(timedelta(days=2))
    process(container)
    assert count(container, InboundEvent) == 0
    assert count(container, Alert) == 1  # the alert and its incident stay
