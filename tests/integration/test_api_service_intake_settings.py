"""Service intake settings through the REST API on both databases.

Grouping, storm threshold and event rules; integrations with their intake URLs; webhook
mappings and their preview; maintenance windows; heartbeats; alert quality.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tests.integration.intake_support import make_service, post, process, trigger
from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.kernel.clock import FrozenClock
from tocsin.services.tables import Heartbeat, MaintenanceWindow, Service

RULE = {"field": "summary", "op": "contains", "value": "backup", "suppress": True}


def _admin(container: Container) -> dict[str, str]:
    return bearer(make_token(container, make_user(container, role="admin")))


def test_grouping_storm_and_event_rules_round_trip(container: Container) -> None:
    headers = _admin(container)
    with api_client(container) as client:
        created = client.post(
            "/api/v1/services",
            json={
                "name": "Checkout",
                "grouping": {"mode": "fields", "fields": ["source", "component"]},
                "storm_threshold": 50,
                "event_rules": [
                    RULE,
                    {"field": "source", "op": "equals", "value": "ci", "priority": "low"},
                ],
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["grouping"] == {
            "mode": "fields",
            "window_minutes": 10,
            "fields": ["component", "source"],
        }
        assert body["storm_threshold"] == 50
        assert [r["value"] for r in body["event_rules"]] == ["backup", "ci"]
        changed = client.patch(
            f"/api/v1/services/{body['id']}",
            json={"grouping": {"mode": "time", "window_minutes": 5}, "storm_threshold": None},
            headers=headers,
        ).json()
        assert changed["grouping"] == {"mode": "time", "window_minutes": 5}
        assert changed["storm_threshold"] is None and len(changed["event_rules"]) == 2
        defaults = client.post("/api/v1/services", json={"name": "Search"}, headers=headers).json()
        assert defaults["grouping"] == {"mode": "none"} and defaults["storm_threshold"] == 20


def test_bad_settings_name_the_field_and_write_nothing(container: Container) -> None:
    headers = _admin(container)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"grouping": {"mode": "sometimes"}}, "grouping.mode"),
        ({"grouping": {"mode": "time", "window_minutes": 0}}, "grouping.window_minutes"),
        ({"grouping": {"mode": "fields"}}, "grouping.fields"),
        ({"grouping": {"mode": "fields", "fields": ["colour"]}}, "grouping.fields[0]"),
        ({"storm_threshold": 0}, "storm_threshold"),
        ({"storm_threshold": True}, "storm_threshold"),
        ({"event_rules": [{**RULE, "op": "like"}]}, "event_rules[0].op"),
        (
            {"event_rules": [{**RULE, "value": "("}, {**RULE, "op": "matches", "value": "("}]},
            "event_rules[1].value",
        ),
        ({"event_rules": [{"field": "summary", "op": "equals", "value": "x"}]}, "event_rules[0]"),
        ({"event_rules": [{**RULE, "priority": "urgent"}]}, "event_rules[0].priority"),
    ]
    with api_client(container) as client:
        for extra, field in cases:
            answer = client.post(
                "/api/v1/services", json={"name": "Checkout", **extra}, headers=headers
            )
            assert answer.status_code == 422, (extra, answer.text)
            fields = [f["field"] for f in answer.json()["error"]["fields"]]
            assert field in fields, (extra, fields)
    assert count(container, Service) == 0


def test_integrations_answer_their_intake_urls(container: Container) -> None:
    service, key = make_service(container)
    headers = _admin(container)
    base = f"/api/v1/services/{service.id}/integrations"
    with api_client(container) as client:
        urls = {}
        for kind in ("alertmanager", "generic_webhook", "heartbeat"):
            added = client.post(base, json={"kind": kind, "name": kind.title()}, headers=headers)
            assert added.status_code == 201, added.text
            urls[kind] = (added.json()["routing_key"], added.json()["url"])
        listed = client.get(base, headers=headers).json()
        assert [i["kind"] for i in listed] == [
            "events_v2",
            "alertmanager",
            "generic_webhook",
            "heartbeat",
        ]
        assert (
            listed[0]["url"] == "http://tocsin.test/v2/enqueue" and listed[0]["routing_key"] == key
        )
        am_key, am_url = urls["alertmanager"]
        assert am_url == f"http://tocsin.test/integrations/alertmanager/{am_key}"
        wh_key, wh_url = urls["generic_webhook"]
        assert wh_url == f"http://tocsin.test/integrations/webhook/{wh_key}"
        assert urls["heartbeat"][1] is None
        fetched = client.get(f"/api/v1/services/{service.id}", headers=headers).json()
        assert [i["url"] for i in fetched["integrations"]] == [i["url"] for i in listed]
        bad = client.post(base, json={"kind": "carrier_pigeon", "name": "x"}, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "kind"
        missing = client.get(
            "/api/v1/services/00000000-0000-7000-8000-000000000000/integrations", headers=headers
        )
        assert missing.status_code == 404


def test_mapping_preview_writes_nothing_and_the_saved_mapping_is_used(container: Container) -> None:
    service, _ = make_service(container)
    headers = _admin(container)
    mapping = {"summary": "alert.title", "dedup_key": "alert.id", "severity": "level",
               "severity_map": {"P1": "critical"}, "description": "alert.text"}  # fmt: skip
    sample = {"alert": {"title": "Queue depth 10k on orders", "id": "q-1", "text": "Consumers are stuck since 09:14"}, "level": "P1"}  # fmt: skip
    with api_client(container) as client:
        audits = count(container, AuditEvent)
        preview = client.post(
            "/api/v1/integrations/mapping-preview",
            json={"mapping": mapping, "sample": sample},
            headers=headers,
        )
        assert preview.status_code == 200, preview.text
        body = preview.json()
        assert body["ok"] and body["dedup_key"] == "q-1" and body["errors"] == []
        assert body["alert"]["summary"] == "Queue depth 10k on orders"
        assert body["alert"]["severity"] == "critical"
        assert [f["flag"] for f in body["quality_flags"]] == ["no_runbook"]
        unreadable = client.post(
            "/api/v1/integrations/mapping-preview",
            json={"mapping": mapping, "sample": {"level": "P1"}},
            headers=headers,
        ).json()
        assert not unreadable["ok"] and unreadable["alert"] is None and unreadable["errors"]
        invalid = client.post(
            "/api/v1/integrations/mapping-preview",
            json={"mapping": {"summary": "a..b", "colour": "x"}, "sample": sample},
            headers=headers,
        )
        assert invalid.status_code == 422
        fields = {f["field"] for f in invalid.json()["error"]["fields"]}
        assert fields == {"mapping.summary", "mapping.colour"}
        assert count(container, AuditEvent) == audits

        hook = client.post(
            f"/api/v1/services/{service.id}/integrations",
            json={"kind": "generic_webhook", "name": "Queue monitor"},
            headers=headers,
        ).json()
        saved = client.put(
            f"/api/v1/integrations/{hook['id']}/mapping", json={"mapping": mapping}, headers=headers
        )
        assert saved.status_code == 200, saved.text
        assert saved.json()["mapping"]["summary"] == "alert.title"
        events = client.get(f"/api/v1/services/{service.id}/integrations", headers=headers).json()
        v2 = events[0]
        wrong_kind = client.put(
            f"/api/v1/integrations/{v2['id']}/mapping", json={"mapping": mapping}, headers=headers
        )
        assert wrong_kind.status_code == 422
        assert (
            client.post(hook["url"].removeprefix("http://tocsin.test"), json=sample).status_code
            == 202
        )
        process(container)
        alerts = client.get("/api/v1/alerts", headers=headers).json()["data"]
        assert [(a["summary"], a["dedup_key"]) for a in alerts] == [
            ("Queue depth 10k on orders", "q-1")
        ]


def test_maintenance_windows_quiet_paging(container: Container, clock: FrozenClock) -> None:
    service, key = make_service(container)
    headers = _admin(container)
    now = clock.now()
    base = f"/api/v1/services/{service.id}/maintenance-windows"
    with api_client(container) as client:
        window = {"start_at": now.isoformat(), "end_at": (now + timedelta(hours=1)).isoformat(),
                  "reason": "Database upgrade"}  # fmt: skip
        created = client.post(base, json=window, headers=headers)
        assert created.status_code == 201, created.text
        assert created.json()["active"] is True
        for bad, field in [
            ({**window, "end_at": (now - timedelta(hours=1)).isoformat()}, "end_at"),
            ({**window, "end_at": (now + timedelta(days=31)).isoformat()}, "end_at"),
            ({**window, "start_at": "2026-01-01T00:00:00"}, "start_at"),
            ({**window, "start_at": "tomorrow"}, "start_at"),
        ]:
            refused = client.post(base, json=bad, headers=headers)
            assert refused.status_code == 422, (bad, refused.text)
            assert refused.json()["error"]["fields"][0]["field"] == field
        assert count(container, MaintenanceWindow) == 1
        post(client, trigger(key))
        process(container)
        assert client.get("/api/v1/incidents", headers=headers).json()["data"] == []
        [alert] = client.get("/api/v1/alerts", headers=headers).json()["data"]
        assert alert["suppressed"]

        ended = client.post(
            f"/api/v1/maintenance-windows/{created.json()['id']}/end", headers=headers
        )
        assert ended.status_code == 200 and ended.json()["active"] is False
        again = client.post(
            f"/api/v1/maintenance-windows/{created.json()['id']}/end", headers=headers
        )
        assert again.status_code == 200
        assert client.get(base, headers=headers).json() == []
        past = client.get(base, params={"include_past": "true"}, headers=headers).json()
        assert [w["reason"] for w in past] == ["Database upgrade"]


def test_heartbeats_answer_their_ping_url(container: Container, clock: FrozenClock) -> None:
    service, _ = make_service(container)
    headers = _admin(container)
    base = f"/api/v1/services/{service.id}/heartbeats"
    with api_client(container) as client:
        created = client.post(
            base, json={"name": "Nightly export", "interval_minutes": 60}, headers=headers
        )
        assert created.status_code == 201, created.text
        beat = created.json()
        assert beat["status"] == "waiting"
        assert beat["ping_url"].startswith("http://tocsin.test/integrations/heartbeat/")
        assert client.get(beat["ping_url"].removeprefix("http://tocsin.test")).status_code < 300
        [listed] = client.get(base, headers=headers).json()
        assert listed["status"] == "up" and listed["last_ping_at"] is not None
        for bad, field in [
            ({"name": "x", "interval_minutes": 0}, "interval_minutes"),
            ({"name": "x", "interval_minutes": "often"}, "interval_minutes"),
            ({"name": "", "interval_minutes": 5}, "name"),
        ]:
            refused = client.post(base, json=bad, headers=headers)
            assert refused.status_code == 422
            assert refused.json()["error"]["fields"][0]["field"] == field
        assert count(container, Heartbeat) == 1
        responder = bearer(make_token(container, make_user(container, role="responder")))
        role = client.post(base, json={"name": "y", "interval_minutes": 5}, headers=responder)
        assert role.status_code == 403


def test_quality_counts_flagged_alerts_per_window(container: Container, clock: FrozenClock) -> None:
    service, key = make_service(container)
    headers = _admin(container)
    good = trigger(
        key,
        dedup_key="good",
        links=[{"href": "https://runbooks.example.com/disk", "text": "Runbook"}],
    )
    good["payload"]["custom_details"] = {"description": "The data volume on db-1 is nearly full."}
    with api_client(container) as client:
        post(client, good)
        process(container)
        clock.advance(timedelta(days=10))
        post(client, trigger(key, summary="Error", dedup_key="vague"))
        process(container)
        quality = client.get(f"/api/v1/services/{service.id}/quality", headers=headers)
        assert quality.status_code == 200, quality.text
        body = quality.json()
        assert body["last_7_days"] == {"flagged": 1, "total": 1}
        assert body["last_30_days"] == {"flagged": 1, "total": 2}
        counts = {b["flag"]: b["count"] for b in body["breakdown"]}
        assert counts == {"no_runbook": 1, "vague_summary": 1, "no_description": 1}
