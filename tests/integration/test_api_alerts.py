"""Alerts through the REST API on both databases: dedup counts, quality advice, join reasons."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.api_support import api_client, bearer, make_token, make_user
from tests.integration.intake_support import make_service, post, process, trigger
from tocsin.bootstrap import Container
from tocsin.kernel.clock import FrozenClock


def _reader(container: Container) -> dict[str, str]:
    return bearer(make_token(container, make_user(container, role="observer"), "read"))


def test_deduplicated_events_show_counts_flags_and_why_they_joined(container: Container) -> None:
    service, key = make_service(container, grouping={"mode": "fields", "fields": ["source"]})
    headers = _reader(container)
    with api_client(container) as client:
        for _ in range(3):
            assert post(client, trigger(key, dedup_key="disk-db-1")).status_code == 202
        post(client, trigger(key, summary="Replication lag 40s on db-1", dedup_key="lag-db-1"))
        process(container)
        listed = client.get(
            "/api/v1/alerts", params={"service_id": str(service.id)}, headers=headers
        )
        assert listed.status_code == 200, listed.text
        lag, disk = listed.json()["data"]  # newest first
        assert disk["dedup_key"] == "disk-db-1" and disk["event_count"] == 3
        assert lag["event_count"] == 1
        assert disk["incident_number"] == lag["incident_number"] is not None
        assert "New incident" in disk["join_reason"]
        assert "Grouped by fields" in lag["join_reason"]

        detail = client.get(f"/api/v1/alerts/{disk['id']}", headers=headers).json()
        flags = {f["flag"]: f["advice"] for f in detail["quality_flags"]}
        assert "no_runbook" in flags and "runbook" in flags["no_runbook"]
        assert "no_description" in flags
        assert detail["source"] == "db-1" and detail["severity"] == "critical"
        assert detail["class"] is None and detail["status"] == "triggered"

        by_incident = client.get(
            f"/api/v1/incidents/{disk['incident_number']}/alerts", headers=headers
        ).json()["data"]
        assert {a["id"] for a in by_incident} == {disk["id"], lag["id"]}
        incident = client.get(f"/api/v1/incidents/{disk['incident_number']}", headers=headers)
        assert incident.json()["alert_count"] == 2

        resolve = {**trigger(key, dedup_key="disk-db-1"), "event_action": "resolve"}
        post(client, resolve)
        process(container)
        resolved = client.get(
            "/api/v1/alerts", params={"status": "resolved"}, headers=headers
        ).json()["data"]
        assert [a["dedup_key"] for a in resolved] == ["disk-db-1"]
        page = client.get("/api/v1/alerts", params={"limit": 1}, headers=headers).json()
        assert len(page["data"]) == 1 and page["next_cursor"]
        rest = client.get(
            "/api/v1/alerts", params={"cursor": page["next_cursor"]}, headers=headers
        ).json()
        assert len(rest["data"]) == 1 and rest["next_cursor"] is None
        missing = client.get("/api/v1/alerts/00000000-0000-7000-8000-000000000000", headers=headers)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "alert.not_found"


def test_suppressed_events_are_listed_and_shown_as_incident_context(
    container: Container, clock: FrozenClock
) -> None:
    service, key = make_service(
        container,
        event_rules=[{"field": "summary", "op": "contains", "value": "backup", "suppress": True}],
    )
    headers = _reader(container)
    with api_client(container) as client:
        post(client, trigger(key, summary="Nightly backup finished with warnings", dedup_key="b"))
        change = {
            "routing_key": key,
            "payload": {"summary": "Deployed checkout v42", "source": "ci"},
        }
        assert post(client, change, "/v2/change/enqueue").status_code == 202
        process(container)
        clock.advance(timedelta(minutes=5))
        post(client, trigger(key, dedup_key="disk"))
        process(container)

        suppressed = client.get(
            "/api/v1/alerts", params={"suppressed": "true"}, headers=headers
        ).json()["data"]
        assert [a["summary"] for a in suppressed] == ["Nightly backup finished with warnings"]
        assert suppressed[0]["incident_id"] is None and suppressed[0]["suppressed_reason"]
        loud = client.get("/api/v1/alerts", params={"suppressed": "false"}, headers=headers)
        [alert] = loud.json()["data"]
        context = client.get(
            f"/api/v1/incidents/{alert['incident_number']}/context", headers=headers
        ).json()
        assert [a["summary"] for a in context["suppressed_alerts"]] == [
            "Nightly backup finished with warnings"
        ]
        assert [c["summary"] for c in context["changes"]] == ["Deployed checkout v42"]
        bad = client.get("/api/v1/alerts", params={"status": "open"}, headers=headers)
        assert bad.status_code == 422
        assert bad.json()["error"]["fields"][0]["field"] == "status"
    assert service.name == "Checkout"
