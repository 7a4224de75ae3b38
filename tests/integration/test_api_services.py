"""Services through the REST API on both databases: create, read, change, integrations."""

from __future__ import annotations

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.services.tables import Integration, Service

HOURS = {
    "time_zone": "Europe/London",
    "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:30"}],
}


def _admin(container: Container) -> dict[str, str]:
    return bearer(make_token(container, make_user(container, role="admin")))


def test_create_returns_a_32_character_routing_key_and_reads_back(container: Container) -> None:
    headers = _admin(container)
    with api_client(container) as client:
        team = client.post("/api/v1/teams", json={"name": "Payments"}, headers=headers).json()
        created = client.post(
            "/api/v1/services",
            json={
                "name": "Checkout API",
                "owner_team_id": team["id"],
                "urgency_rule": "support_hours",
                "support_hours": HOURS,
                "runbook_links": [{"title": "Runbook", "url": "https://runbooks.example.com/c"}],
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        (integration,) = body["integrations"]
        assert integration["kind"] == "events_v2"
        assert len(integration["routing_key"]) == 32
        fetched = client.get(f"/api/v1/services/{body['id']}", headers=headers).json()
        assert fetched == body
        listed = client.get("/api/v1/services", headers=headers).json()
        assert [s["name"] for s in listed["data"]] == ["Checkout API"]

        added = client.post(
            f"/api/v1/services/{body['id']}/integrations",
            json={"kind": "alertmanager", "name": "Prometheus"},
            headers=headers,
        )
        assert added.status_code == 201
        assert added.json()["routing_key"] != integration["routing_key"]


def test_patch_changes_only_what_is_sent_and_null_clears(container: Container) -> None:
    headers = _admin(container)
    with api_client(container) as client:
        sid = client.post(
            "/api/v1/services",
            json={"name": "Payouts", "ack_timeout_minutes": 30, "description": "money out"},
            headers=headers,
        ).json()["id"]
        changed = client.patch(
            f"/api/v1/services/{sid}", json={"ack_timeout_minutes": None}, headers=headers
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["ack_timeout_minutes"] is None
        assert changed.json()["description"] == "money out"
        to_hours = client.patch(
            f"/api/v1/services/{sid}", json={"urgency_rule": "support_hours"}, headers=headers
        )
        assert to_hours.status_code == 422  # support hours are required for that rule


def test_bad_input_names_the_field_and_writes_nothing(container: Container) -> None:
    headers = _admin(container)
    bad_bodies = [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "A", "urgency_rule": "sometimes"}, "urgency_rule"),
        ({"name": "A", "ack_timeout_minutes": 0}, "ack_timeout_minutes"),
        ({"name": "A", "unknown": 1}, "unknown"),
        ({"name": "A", "urgency_rule": "support_hours"}, "support_hours"),
        (
            {
                "name": "A",
                "urgency_rule": "support_hours",
                "support_hours": {"time_zone": "Mars/Base", "windows": HOURS["windows"]},
            },
            "support_hours.time_zone",
        ),
        (
            {
                "name": "A",
                "urgency_rule": "support_hours",
                "support_hours": {
                    "time_zone": "UTC",
                    "windows": [{"days": [0], "start": "18:00", "end": "09:00"}],
                },
            },
            "support_hours.windows[0]",
        ),
        (
            {"name": "A", "runbook_links": [{"title": "x", "url": "javascript:alert(1)"}]},
            "runbook_links",
        ),
        ({"name": "A", "owner_team_id": "0190aaaa-0000-7000-8000-000000000000"}, "owner_team_id"),
    ]
    with api_client(container) as client:
        for body, field in bad_bodies:
            response = client.post("/api/v1/services", json=body, headers=headers)
            assert response.status_code == 422, (body, response.text)
            fields = [f["field"] for f in response.json()["error"]["fields"]]
            assert any(f.startswith(field) for f in fields), (body, fields)
        client.post("/api/v1/services", json={"name": "Search"}, headers=headers)
        duplicate = client.post("/api/v1/services", json={"name": "search"}, headers=headers)
        assert duplicate.status_code == 409
        assert duplicate.json()["error"]["fields"][0]["field"] == "name"
    assert count(container, Service) == 1
    assert count(container, Integration) == 1


def test_roles_and_scopes(container: Container) -> None:
    responder = bearer(make_token(container, make_user(container, role="responder")))
    reader = bearer(make_token(container, make_user(container, role="admin"), scope="read"))
    with api_client(container) as client:
        assert client.get("/api/v1/services", headers=responder).status_code == 200
        refused = client.post("/api/v1/services", json={"name": "X"}, headers=responder)
        assert refused.status_code == 403
        scoped = client.post("/api/v1/services", json={"name": "X"}, headers=reader)
        assert scoped.status_code == 403
        assert scoped.json()["error"]["code"] == "auth.scope"
        assert client.get("/api/v1/services").status_code == 401
    assert count(container, Service) == 0
