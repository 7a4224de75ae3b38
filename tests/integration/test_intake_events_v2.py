"""PagerDuty Events API v2 at /v2/enqueue: PagerDuty's fields, rules, and answers, byte for byte.

Checked against PagerDuty's documented contract (docs/intake.md) and the real Alertmanager
0.25 capture in tests/fixtures/wire/ (its PagerDuty receiver's requests, replayed as sent).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update

from tests.integration.api_support import api_client, count
from tests.integration.intake_support import (
    alerts,
    incidents,
    make_service,
    post,
    process,
    timeline_kinds,
    trigger,
)
from tocsin.bootstrap import Container
from tocsin.incidents.tables import Alert, ChangeEvent, InboundEvent, Incident
from tocsin.services.tables import Integration

WIRE = Path(__file__).resolve().parents[1] / "fixtures" / "wire" / "alertmanager-0.25.jsonl"
CAPTURED_KEY = "R0UT1NGKEY0000000000000000000000"


def _captured(path: str) -> list[dict]:
    lines = [json.loads(line) for line in WIRE.read_text().splitlines() if line.strip()]
    return [line for line in lines if line["path"] == path]


def test_trigger_answers_like_pagerduty_and_opens_one_incident(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        response = post(client, trigger(key))
    assert response.status_code == 202
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "message", "dedup_key"}
    assert body["status"] == "success"
    assert body["message"] == "Event processed"
    assert len(body["dedup_key"]) == 32  # generated when the trigger has none
    process(container)
    [incident] = incidents(container)
    assert incident.status == "triggered"
    assert incident.title == "Disk 95% full on db-1 (/var)"
    assert incident.urgency == "high"
    assert timeline_kinds(container, incident) == ["incident.triggered"]


def test_a_202_means_the_event_is_already_committed(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        assert post(client, trigger(key)).status_code == 202
    # No engine cycle yet: the accepted event is in the database, waiting.
    assert count(container, InboundEvent) == 1
    assert count(container, Alert) == 0


def test_duplicates_update_the_open_alert_and_page_nobody_again(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        for _ in range(5):
            assert post(client, trigger(key, dedup_key="disk-db-1")).json()["dedup_key"] == (
                "disk-db-1"
            )
    process(container)
    [alert] = alerts(container)
    assert alert.event_count == 5
    assert len(incidents(container)) == 1


def test_after_resolve_the_next_trigger_opens_a_new_alert(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        post(client, trigger(key, dedup_key="k"))
        post(client, {"routing_key": key, "event_action": "resolve", "dedup_key": "k"})
        post(client, trigger(key, dedup_key="k"))
    process(container)
    first, second = alerts(container)
    assert first.status == "resolved" and first.open_key is None
    assert second.status == "triggered" and second.open_key == "k"
    one, two = incidents(container)
    assert one.status == "resolved"  # auto-resolved when its source resolved
    assert two.status == "triggered"
    assert timeline_kinds(container, one) == [
        "incident.triggered",
        "alert.resolved",
        "incident.resolved",
    ]


def test_acknowledge_event_acknowledges_alert_and_incident(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        post(client, trigger(key, dedup_key="k"))
        answer = post(client, {"routing_key": key, "event_action": "acknowledge", "dedup_key": "k"})
    assert answer.status_code == 202 and answer.json()["dedup_key"] == "k"
    process(container)
    [alert] = alerts(container)
    [incident] = incidents(container)
    assert alert.status == "acknowledged"
    assert incident.status == "acknowledged"


def test_ack_and_resolve_for_unknown_keys_are_accepted_and_change_nothing(
    container: Container,
) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        for action in ("acknowledge", "resolve"):
            answer = post(client, {"routing_key": key, "event_action": action, "dedup_key": "nope"})
            assert answer.status_code == 202
    process(container)
    assert alerts(container) == [] and incidents(container) == []


def test_ack_and_resolve_act_only_within_the_routing_keys_service(container: Container) -> None:
    _a, key_a = make_service(container, "A")
    _b, key_b = make_service(container, "B")
    with api_client(container) as client:
        post(client, trigger(key_a, dedup_key="shared"))
        post(client, {"routing_key": key_b, "event_action": "resolve", "dedup_key": "shared"})
    process(container)
    [alert] = alerts(container)
    assert alert.status == "triggered"


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda b: b.pop("routing_key"), "'routing_key' is missing or blank"),
        (
            lambda b: b.update(routing_key="short"),
            "Length of 'routing_key' is incorrect (should be 32 characters)",
        ),
        (lambda b: b.pop("event_action"), "'event_action' is missing or blank"),
        (lambda b: b.update(event_action="explode"), "'event_action' is invalid"),
        (lambda b: b.pop("payload"), "'payload' is missing or blank"),
        (lambda b: b["payload"].pop("summary"), "'payload.summary' is missing or blank"),
        (lambda b: b["payload"].update(summary="x" * 1025), "'payload.summary' is too long"),
        (lambda b: b["payload"].pop("source"), "'payload.source' is missing or blank"),
        (lambda b: b["payload"].pop("severity"), "'payload.severity' is missing or blank"),
        (lambda b: b["payload"].update(severity="fatal"), "'payload.severity' is invalid"),
        (lambda b: b.update(dedup_key="d" * 256), "'dedup_key' is too long"),
        (lambda b: b["payload"].update(timestamp="yesterday"), "'payload.timestamp'"),
        (lambda b: b.update(links=[{"text": "no href"}]), "'links[0].href' is missing"),
        (lambda b: b.update(images="nope"), "'images' must be a list"),
    ],
)
def test_invalid_events_get_pagerdutys_400_and_write_nothing(
    container: Container, mutate, expected: str
) -> None:
    _service, key = make_service(container)
    body = trigger(key)
    mutate(body)
    with api_client(container) as client:
        response = post(client, body)
    assert response.status_code == 400
    answer = response.json()
    assert answer["status"] == "invalid event"
    assert answer["message"] == "Event object is invalid"
    assert any(error.startswith(expected) for error in answer["errors"]), answer["errors"]
    assert count(container, InboundEvent) == 0


def test_acknowledge_without_dedup_key_is_invalid(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        response = post(client, {"routing_key": key, "event_action": "resolve"})
    assert response.status_code == 400
    assert "'dedup_key' is missing or blank" in response.json()["errors"]


def test_unknown_routing_key_is_400_not_404(container: Container) -> None:
    make_service(container)
    with api_client(container) as client:
        response = post(client, trigger("f" * 32))
    assert response.status_code == 400
    assert response.json()["status"] == "invalid event"


def test_wrong_content_type_malformed_json_and_oversized_bodies(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        as_form = client.post("/v2/enqueue", data={"routing_key": key})
        assert as_form.status_code == 400
        assert as_form.json()["errors"] == ["Content-Type must be application/json"]
        broken = client.post(
            "/v2/enqueue", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert broken.status_code == 400 and broken.json()["status"] == "invalid event"
        big = trigger(key)
        big["payload"]["custom_details"] = {"blob": "x" * (513 * 1024)}
        too_large = post(client, big)
        assert too_large.status_code == 413
        assert too_large.json()["status"] == "invalid event"
        charset = client.post(
            "/v2/enqueue",
            content=json.dumps(trigger(key)).encode(),
            headers={"content-type": "application/json; charset=utf-8"},
        )
        assert charset.status_code == 202
    assert count(container, InboundEvent) == 1


def test_rate_limit_answers_429_with_retry_after(container: Container) -> None:
    container.settings = container.settings.model_copy(update={"intake_rate_per_minute": 3})
    _service, key = make_service(container)
    with api_client(container) as client:
        answers = [post(client, trigger(key, dedup_key=str(i))) for i in range(5)]
    assert [a.status_code for a in answers] == [202, 202, 202, 429, 429]
    assert int(answers[3].headers["retry-after"]) >= 1
    assert answers[3].json()["status"] == "throttle event"
    assert count(container, InboundEvent) == 3


def test_change_events_are_context_and_never_page(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        response = post(
            client,
            {
                "routing_key": key,
                "payload": {"summary": "Deploy v2.3.1 of checkout", "source": "ci"},
                "links": [{"href": "https://ci.example/build/99", "text": "Build 99"}],
            },
            "/v2/change/enqueue",
        )
    assert response.status_code == 202
    assert response.json() == {"status": "success", "message": "Change event processed"}
    process(container)
    assert count(container, ChangeEvent) == 1
    assert count(container, Incident) == 0


def test_alertmanagers_pagerduty_receiver_works_unchanged(container: Container) -> None:
    """Replay the real Alertmanager 0.25 PagerDuty-receiver requests, headers and all."""
    _service, _key = make_service(container)
    with container.db.transaction() as tx:
        tx.execute(update(Integration).values(routing_key=CAPTURED_KEY))
    trigger_request, resolve_request = _captured("/v2/enqueue")
    with api_client(container) as client:
        for request in (trigger_request,):
            response = client.post(
                "/v2/enqueue",
                content=json.dumps(request["body"]).encode(),
                headers={"content-type": request["headers"]["Content-Type"]},
            )
            assert response.status_code == 202
            assert response.json()["dedup_key"] == request["body"]["dedup_key"]
        process(container)
        [alert] = alerts(container)
        assert alert.client == "Alertmanager"
        assert alert.summary.startswith("[FIRING:1] TocsinDiskFull")
        response = client.post(
            "/v2/enqueue",
            content=json.dumps(resolve_request["body"]).encode(),
            headers={"content-type": resolve_request["headers"]["Content-Type"]},
        )
        assert response.status_code == 202
    process(container)
    [alert] = alerts(container)
    [incident] = incidents(container)
    assert alert.status == "resolved"
    assert incident.status == "resolved"


def test_metrics_show_the_intake_backlog_and_requests(container: Container) -> None:
    _service, key = make_service(container)
    with api_client(container) as client:
        post(client, trigger(key))
        before = client.get("/metrics").text
        process(container)
        after = client.get("/metrics").text
    assert "tocsin_intake_pending_events 1.0" in before
    assert "tocsin_intake_pending_events 0.0" in after
    assert 'route="/v2/enqueue",status="202"' in before
