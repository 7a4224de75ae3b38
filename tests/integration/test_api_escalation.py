"""Escalation policies and paging actions over the REST API, on both databases."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.api_support import api_client, bearer, make_token, make_user
from tests.scenarios.paging_support import person, send_trigger, two_level_service
from tocsin.bootstrap import Container
from tocsin.escalation.tables import EscalationPolicy, EscalationState
from tocsin.kernel.actor import Actor
from tocsin.notifications.tables import OutboundMessage
from tocsin.people.tables import User
from tocsin.schedules import actions as schedule_actions
from tocsin.schedules.convert import LayerInput

ADMIN = Actor.system(via="cli")
URL = "/api/v1/escalation-policies"


def _admin(container: Container) -> dict[str, str]:
    return bearer(make_token(container, make_user(container, role="admin")))


def _level(*targets: tuple[str, Any], delay: int = 5) -> dict[str, Any]:
    return {"delay_minutes": delay, "targets": [{"kind": k, "id": str(i)} for k, i in targets]}


def _fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["error"]["fields"]]


def _schedule(container: Container, *users: User) -> uuid.UUID:
    with container.db.transaction() as tx:
        row = schedule_actions.create_schedule(
            tx,
            name="Payments primary",
            time_zone="Europe/London",
            layers=[
                LayerInput(
                    participants=[u.id for u in users],
                    turn_hours=168,
                    start_date=date(2026, 1, 5),
                    handoff_time="09:00",
                )
            ],
            actor=ADMIN,
            now=container.clock.now(),
        )
        return row.id


def test_crud_round_trip_with_target_names(container: Container) -> None:
    headers = _admin(container)
    ada = person(container, "Ada", methods=(("email", "ada@example.com"),))
    with api_client(container) as client:
        team = client.post("/api/v1/teams", json={"name": "Payments"}, headers=headers).json()
        created = client.post(
            URL,
            json={"name": "Payments", "repeat": 1, "levels": [_level(("user", ada.id))]},
            headers=headers,
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["levels"][0]["targets"] == [{"kind": "user", "id": str(ada.id), "name": "Ada"}]
        assert body["repeat"] == 1
        pid = body["id"]
        assert client.get(f"{URL}/{pid}", headers=headers).json() == body
        assert [p["name"] for p in client.get(URL, headers=headers).json()["data"]] == ["Payments"]

        patched = client.patch(
            f"{URL}/{pid}",
            json={"description": "money", "team_id": team["id"]},
            headers=headers,
        ).json()
        assert patched["description"] == "money" and patched["team_id"] == team["id"]
        assert patched["levels"] == body["levels"] and patched["version"] == body["version"] + 1
        cleared = client.patch(f"{URL}/{pid}", json={"team_id": None}, headers=headers).json()
        assert cleared["team_id"] is None

        replaced = client.put(
            f"{URL}/{pid}",
            json={
                "name": "Payments 2",
                "levels": [_level(("team", team["id"]), delay=10)],
            },
            headers=headers,
        )
        assert replaced.status_code == 200, replaced.text
        assert replaced.json()["repeat"] == 0
        assert replaced.json()["levels"][0]["targets"][0]["name"] == "Payments"

        service = client.post(
            "/api/v1/services",
            json={"name": "Checkout", "escalation_policy_id": pid},
            headers=headers,
        ).json()
        assert service["escalation_policy_id"] == pid

        assert client.delete(f"{URL}/{pid}", headers=headers).status_code == 204
        assert client.get(f"{URL}/{pid}", headers=headers).status_code == 404
        after = client.get(f"/api/v1/services/{service['id']}", headers=headers).json()
        assert after["escalation_policy_id"] is None


def test_bad_policies_name_the_field_and_store_nothing(container: Container) -> None:
    headers = _admin(container)
    ada = person(container, "Ada")
    good = _level(("user", ada.id))
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "P", "levels": []}, "levels"),
        ({"name": "P", "levels": [{"delay_minutes": 5, "targets": []}]}, "levels[0].targets"),
        ({"name": "P", "levels": [_level(("user", uuid.uuid4()))]}, "levels[0].targets[0].id"),
        (
            {"name": "P", "levels": [good, _level(("schedule", uuid.uuid4()))]},
            "levels[1].targets[0].id",
        ),
        ({"name": "P", "levels": [_level(("robot", ada.id))]}, "levels[0].targets[0].kind"),
        ({"name": "P", "levels": [{**good, "delay_minutes": 0}]}, "levels[0].delay_minutes"),
        ({"name": "P", "levels": [{**good, "delay_minutes": 1441}]}, "levels[0].delay_minutes"),
        ({"name": "P", "repeat": 10, "levels": [good]}, "repeat"),
        ({"name": "P", "repeat": -1, "levels": [good]}, "repeat"),
        ({"name": "", "levels": [good]}, "name"),
        ({"name": "P", "levels": [good], "colour": "red"}, "colour"),
    ]
    with api_client(container) as client:
        for body, field in cases:
            answer = client.post(URL, json=body, headers=headers)
            assert answer.status_code == 422, (body, answer.text)
            assert field in _fields(answer), (body, answer.text)
        pid = client.post(URL, json={"name": "P", "levels": [good]}, headers=headers).json()["id"]
        bad = client.patch(
            f"{URL}/{pid}", json={"levels": [{**good, "delay_minutes": 0}]}, headers=headers
        )
        assert bad.status_code == 422 and _fields(bad) == ["levels[0].delay_minutes"]
        taken = client.post(URL, json={"name": "P", "levels": [good]}, headers=headers)
        assert taken.status_code == 409
    with container.db.read() as tx:
        assert tx.query(EscalationPolicy).count() == 1


def test_only_policy_writers_change_policies(container: Container) -> None:
    ada = person(container, "Ada")
    responder = bearer(make_token(container, make_user(container, role="responder")))
    observer = bearer(make_token(container, make_user(container, role="observer")))
    body = {"name": "P", "levels": [_level(("user", ada.id))]}
    with api_client(container) as client:
        assert client.post(URL, json=body, headers=responder).status_code == 403
        assert client.get(URL, headers=observer).status_code == 200
        assert client.post(f"{URL}/preview", json=body, headers=observer).status_code == 200


def test_preview_shows_who_is_on_call_and_warns_of_empty_levels(container: Container) -> None:
    headers = _admin(container)
    ada = person(container, "Ada", methods=(("sms", "+14155550101"),))
    bob = person(container, "Bob")
    schedule_id = _schedule(container, ada, bob)
    empty_team_body = {"name": "Nobody"}
    with api_client(container) as client:
        team = client.post("/api/v1/teams", json=empty_team_body, headers=headers).json()
        policy = {
            "name": "Payments",
            "levels": [_level(("schedule", schedule_id)), _level(("team", team["id"]))],
        }
        pid = client.post(URL, json=policy, headers=headers).json()["id"]
        # The FrozenClock starts in the first week of the rotation: Ada is on call.
        first = client.get(f"{URL}/{pid}/preview", headers=headers)
        assert first.status_code == 200, first.text
        levels = first.json()["levels"]
        (who,) = levels[0]["recipients"]
        assert who["name"] == "Ada" and who["via"] == "schedule"
        assert who["via_name"] == "Payments primary"
        assert who["reachable"] is True and who["methods"] == ["sms"]
        assert levels[0]["warning"] is None
        assert levels[1]["recipients"] == [] and "nobody" in levels[1]["warning"]
        assert len(first.json()["warnings"]) == 1

        # A week later it is Bob, who has no verified method: the level warns.
        later = (container.clock.now() + timedelta(days=7)).isoformat()
        second = client.get(f"{URL}/{pid}/preview", params={"at": later}, headers=headers)
        (bob_row,) = second.json()["levels"][0]["recipients"]
        assert bob_row["name"] == "Bob" and bob_row["reachable"] is False
        assert "verified" in second.json()["levels"][0]["warning"]

        dry = client.post(
            f"{URL}/preview", json={"levels": [_level(("user", bob.id))]}, headers=headers
        )
        assert dry.status_code == 200, dry.text
        assert dry.json()["levels"][0]["recipients"][0]["name"] == "Bob"
        bad = client.post(
            f"{URL}/preview", json={"levels": [_level(("user", uuid.uuid4()))]}, headers=headers
        )
        assert bad.status_code == 422 and _fields(bad) == ["levels[0].targets[0].id"]
        naive = client.get(
            f"{URL}/{pid}/preview", params={"at": "2026-01-05T09:00:00"}, headers=headers
        )
        assert naive.status_code == 422 and _fields(naive) == ["at"]
    with container.db.read() as tx:
        assert tx.query(EscalationPolicy).count() == 1


def _recipients(container: Container) -> list[str]:
    with container.db.read() as tx:
        return sorted(m.recipient for m in tx.query(OutboundMessage).all())


def _incident_number(client: TestClient, headers: dict[str, str]) -> int:
    (incident,) = client.get("/api/v1/incidents", headers=headers).json()["data"]
    return int(incident["number"])


def test_escalate_pages_the_next_level_now(container: Container) -> None:
    graph = two_level_service(container)
    send_trigger(container, graph.routing_key)
    container.runner.run_cycle()
    headers = _admin(container)
    with api_client(container) as client:
        number = _incident_number(client, headers)
        answer = client.post(
            f"/api/v1/incidents/{number}/escalate", json={"level": 2}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        escalation = answer.json()["escalation"]
        assert escalation["policy_name"] == "Checkout on-call"
        assert (escalation["status"], escalation["level"], escalation["levels"]) == ("active", 2, 2)
        assert [p["name"] for p in escalation["paged"]] == ["Ada"]
        assert escalation["unreachable"] == []
        with container.db.read() as tx:
            state = tx.query(EscalationState).one()
            assert state.level == 1 and state.status == "active"
            assert state.next_step_at == container.clock.now()
        container.runner.run_cycle()
        assert "bob@example.com" in _recipients(container)
        messages = client.get("/api/v1/messages", headers=headers).json()["data"]
        to_bob = [m for m in messages if m["recipient"] == "bob@example.com"]
        assert to_bob and to_bob[0]["kind"] == "page"
        assert to_bob[0]["incident_number"] == number
        assert to_bob[0]["latency_seconds"] == 0.0

        too_far = client.post(
            f"/api/v1/incidents/{number}/escalate", json={"level": 3}, headers=headers
        )
        assert too_far.status_code == 422 and _fields(too_far) == ["level"]
        assert (
            client.post(f"/api/v1/incidents/{number}/escalate", headers=headers).status_code == 200
        )


def test_add_responders_pages_people_and_schedules_now(container: Container) -> None:
    graph = two_level_service(container)
    send_trigger(container, graph.routing_key)
    container.runner.run_cycle()
    cy = person(container, "Cy", methods=(("email", "cy@example.com"),))
    dee = person(container, "Dee", methods=(("email", "dee@example.com"),))
    schedule_id = _schedule(container, dee)
    headers = _admin(container)
    with api_client(container) as client:
        number = _incident_number(client, headers)
        answer = client.post(
            f"/api/v1/incidents/{number}/responders",
            json={
                "targets": [
                    {"kind": "user", "id": str(cy.id)},
                    {"kind": "schedule", "id": str(schedule_id)},
                ],
                "message": "Need a DB expert",
            },
            headers=headers,
        )
        assert answer.status_code == 200, answer.text
        paged = answer.json()["paged"]
        assert [(p["name"], p["reachable"]) for p in paged] == [("Cy", True), ("Dee", True)]
        recipients = _recipients(container)
        assert "cy@example.com" in recipients and "dee@example.com" in recipients
        unknown = client.post(
            f"/api/v1/incidents/{number}/responders",
            json={"targets": [{"kind": "user", "id": str(uuid.uuid4())}]},
            headers=headers,
        )
        assert unknown.status_code == 422
        assert _fields(unknown) == ["targets[0].id"]
        empty = client.post(
            f"/api/v1/incidents/{number}/responders", json={"targets": []}, headers=headers
        )
        assert empty.status_code == 422 and _fields(empty) == ["targets"]
