"""Incidents through the REST API on both databases: trigger, list, lifecycle, merge, timeline."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tests.integration.intake_support import make_service
from tocsin.bootstrap import Container
from tocsin.incidents.tables import Incident, IncidentEvent, SeverityChange
from tocsin.kernel.clock import FrozenClock

API = "/api/v1/incidents"


def _headers(container: Container, role: str, scope: str = "write") -> dict[str, str]:
    user = make_user(container, role=role, email=f"{role}-{scope}@example.com")
    return bearer(make_token(container, user, scope))


def _trigger(client: TestClient, headers: dict[str, str], **body: Any) -> dict[str, Any]:
    answer = client.post(API, json=body, headers=headers)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_trigger_by_hand_reads_back_by_number_and_id(container: Container) -> None:
    service, _key = make_service(container)
    observer = _headers(container, "observer")  # anyone may trigger
    with api_client(container) as client:
        body = _trigger(
            client,
            observer,
            service_id=str(service.id),
            title="Checkout returns 502 for EU shoppers",
            severity="SEV-2",
            urgency="high",
        )
        assert body["number"] >= 1 and body["status"] == "triggered"
        assert body["severity"] == {"level": 2, "label": "SEV-2"} and body["major"] is True
        assert body["service"] == {"id": str(service.id), "name": "Checkout"}
        assert body["assignee"] is None and body["parent_number"] is None
        assert body["html_url"] == f"http://tocsin.test/incidents/{body['number']}"
        by_number = client.get(f"{API}/{body['number']}", headers=observer).json()
        by_hash = client.get(f"{API}/%23{body['number']}", headers=observer).json()
        by_id = client.get(f"{API}/{body['id']}", headers=observer).json()
        assert by_number == by_hash == by_id == body
        missing = client.get(f"{API}/999999", headers=observer)
        assert missing.status_code == 404
        assert missing.json()["error"]["code"] == "incident.not_found"
        assert client.get(f"{API}/²", headers=observer).status_code == 404
        assert client.get(f"{API}/{'9' * 40}", headers=observer).status_code == 404
        reader = _headers(container, "observer", scope="read")
        read_only = client.post(
            API, json={"service_id": str(service.id), "title": "Still broken"}, headers=reader
        )
        assert read_only.status_code == 403
        assert read_only.json()["error"]["code"] == "auth.scope"


def test_list_filters_and_paginates_newest_first(container: Container) -> None:
    checkout, _ = make_service(container, "Checkout")
    search, _ = make_service(container, "Search")
    headers = _headers(container, "responder")
    with api_client(container) as client:
        made = [
            _trigger(
                client, headers, service_id=str(checkout.id), title="Checkout slow", severity=3
            ),
            _trigger(client, headers, service_id=str(search.id), title="Search down", severity=1),
            _trigger(
                client, headers, service_id=str(checkout.id), title="Cart lost", urgency="low"
            ),
        ]
        client.post(f"{API}/{made[0]['number']}/acknowledge", headers=headers)

        def numbers(**params: Any) -> list[int]:
            answer = client.get(API, params=params, headers=headers)
            assert answer.status_code == 200, answer.text
            return [i["number"] for i in answer.json()["data"]]

        first, second, third = (m["number"] for m in made)
        assert numbers() == [third, second, first]
        assert numbers(service_id=str(checkout.id)) == [third, first]
        assert numbers(status="acknowledged") == [first]
        assert numbers(status="triggered,acknowledged") == [third, second, first]
        assert numbers(status=["triggered"]) == [third, second]
        assert numbers(severity="SEV-1") == [second]
        assert numbers(major="true") == [second]
        assert numbers(urgency="low") == [third]

        page1 = client.get(API, params={"limit": 2}, headers=headers).json()
        assert [i["number"] for i in page1["data"]] == [third, second]
        page2 = client.get(
            API, params={"limit": 2, "cursor": page1["next_cursor"]}, headers=headers
        ).json()
        assert [i["number"] for i in page2["data"]] == [first] and page2["next_cursor"] is None

        for params, field in [
            ({"status": "sleeping"}, "status"),
            ({"severity": "SEV-9"}, "severity"),
            ({"cursor": "@@"}, "cursor"),
            ({"urgency": "medium"}, "urgency"),
        ]:
            bad = client.get(API, params=params, headers=headers)
            assert bad.status_code == 422, (params, bad.text)
            assert [f["field"] for f in bad.json()["error"]["fields"]] == [field]


def test_only_the_assignee_acknowledges(container: Container) -> None:
    service, _ = make_service(container)
    grace = make_user(container, role="responder", email="grace@example.com")
    alan = make_user(container, role="responder", email="alan@example.com")
    grace_h, alan_h = bearer(make_token(container, grace)), bearer(make_token(container, alan))
    with api_client(container) as client:
        mine = _trigger(
            client,
            grace_h,
            service_id=str(service.id),
            title="Queue backlog",
            assignee_id=str(grace.id),
        )
        refused = client.post(f"{API}/{mine['number']}/acknowledge", headers=alan_h)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "incident.not_assignee"
        acked = client.post(f"{API}/{mine['number']}/acknowledge", headers=grace_h)
        assert acked.status_code == 200, acked.text
        assert acked.json()["status"] == "acknowledged"
        assert acked.json()["assignee"]["name"] == grace.name
        again = client.post(f"{API}/{mine['number']}/acknowledge", headers=grace_h)
        assert again.status_code == 200  # safe to call twice

        nobody = _trigger(client, grace_h, service_id=str(service.id), title="Disk filling")
        taken = client.post(f"{API}/{nobody['id']}/acknowledge", headers=alan_h).json()
        assert taken["status"] == "acknowledged"
        assert taken["assignee"] == {"id": str(alan.id), "name": alan.name}

        observer = _headers(container, "observer")
        role = client.post(f"{API}/{nobody['number']}/resolve", headers=observer)
        assert role.status_code == 403 and role.json()["error"]["code"] == "auth.role"


def test_resolve_twice_is_a_conflict(container: Container) -> None:
    service, _ = make_service(container)
    headers = _headers(container, "responder")
    with api_client(container) as client:
        made = _trigger(client, headers, service_id=str(service.id), title="Payments failing")
        first = client.post(
            f"{API}/{made['number']}/resolve", json={"note": "Rolled back"}, headers=headers
        )
        assert first.status_code == 200 and first.json()["status"] == "resolved"
        assert first.json()["resolved_at"] is not None
        second = client.post(f"{API}/{made['number']}/resolve", headers=headers)
        assert second.status_code == 409
        assert second.json()["error"]["code"] == "incident.already_resolved"
        snooze = client.post(f"{API}/{made['number']}/snooze", json={"minutes": 5}, headers=headers)
        assert snooze.status_code == 409


def test_notes_by_observers_but_not_with_read_only_tokens(container: Container) -> None:
    service, _ = make_service(container)
    writer = _headers(container, "observer")
    reader = _headers(container, "observer", scope="read")
    with api_client(container) as client:
        made = _trigger(client, writer, service_id=str(service.id), title="Login slow")
        noted = client.post(
            f"{API}/{made['number']}/notes",
            json={"text": "Seeing it from Berlin too"},
            headers=writer,
        )
        assert noted.status_code == 200, noted.text
        refused = client.post(
            f"{API}/{made['number']}/notes", json={"text": "me too"}, headers=reader
        )
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "auth.read_only"
        timeline = client.get(f"{API}/{made['number']}/timeline", headers=reader).json()["data"]
        notes = [e for e in timeline if e["kind"] == "incident.note"]
        assert [n["data"]["text"] for n in notes] == ["Seeing it from Berlin too"]
        assert notes[0]["actor"]["name"] == "Observer" and notes[0]["label"] == "Note"


def test_severity_history_urgency_priority_reassign_snooze(
    container: Container, clock: FrozenClock
) -> None:
    service, _ = make_service(container)
    grace = make_user(container, role="responder", email="grace@example.com")
    headers = bearer(make_token(container, grace))
    with api_client(container) as client:
        made = _trigger(
            client, headers, service_id=str(service.id), title="Ads not served", severity=4
        )
        ref = made["number"]
        clock.advance(minutes=1)
        assert client.post(
            f"{API}/{ref}/severity", json={"severity": "SEV-2"}, headers=headers
        ).json()["major"]
        clock.advance(minutes=1)
        cleared = client.post(f"{API}/{ref}/severity", json={"severity": None}, headers=headers)
        assert cleared.json()["severity"] is None
        history = client.get(f"{API}/{ref}/severity-history", headers=headers).json()
        assert [
            (h["previous"] and h["previous"]["label"], h["severity"] and h["severity"]["label"])
            for h in history
        ] == [
            (None, "SEV-4"),
            ("SEV-4", "SEV-2"),
            ("SEV-2", None),
        ]
        assert all(h["actor"]["name"] == grace.name for h in history)
        assert (
            client.post(f"{API}/{ref}/urgency", json={"urgency": "low"}, headers=headers).json()[
                "urgency"
            ]
            == "low"
        )
        assert (
            client.post(f"{API}/{ref}/priority", json={"priority": "high"}, headers=headers).json()[
                "priority"
            ]
            == "high"
        )
        reassigned = client.post(
            f"{API}/{ref}/reassign", json={"assignee_id": str(grace.id)}, headers=headers
        )
        assert reassigned.json()["assignee"]["name"] == grace.name
        not_acked = client.post(f"{API}/{ref}/snooze", json={"minutes": 30}, headers=headers)
        assert not_acked.status_code == 409
        assert not_acked.json()["error"]["code"] == "incident.not_acknowledged"
        client.post(f"{API}/{ref}/acknowledge", headers=headers)
        snoozed = client.post(f"{API}/{ref}/snooze", json={"minutes": 30}, headers=headers)
        assert snoozed.status_code == 200 and snoozed.json()["snoozed_until"] is not None


def test_merge_then_resolving_the_primary_resolves_the_children(container: Container) -> None:
    service, _ = make_service(container)
    headers = _headers(container, "responder")
    with api_client(container) as client:
        primary, child_a, child_b = (
            _trigger(client, headers, service_id=str(service.id), title=f"Checkout error {n}")
            for n in ("A", "B", "C")
        )
        merged = client.post(
            f"{API}/{primary['number']}/merge",
            json={"child_ids": [child_a["number"], f"#{child_b['number']}"]},
            headers=headers,
        )
        assert merged.status_code == 200, merged.text
        child = client.get(f"{API}/{child_a['id']}", headers=headers).json()
        assert child["parent_number"] == primary["number"]
        into_self = client.post(
            f"{API}/{primary['number']}/merge", json={"child_ids": [primary["id"]]}, headers=headers
        )
        assert into_self.status_code == 422
        assert into_self.json()["error"]["fields"][0]["field"] == "child_ids[0]"
        unknown = client.post(
            f"{API}/{primary['number']}/merge", json={"child_ids": [1, 99999]}, headers=headers
        )
        assert unknown.status_code == 422
        assert unknown.json()["error"]["fields"][0]["field"] == "child_ids[1]"

        client.post(f"{API}/{primary['number']}/resolve", headers=headers)
        for made in (child_a, child_b):
            assert (
                client.get(f"{API}/{made['number']}", headers=headers).json()["status"]
                == "resolved"
            )


def test_timeline_reads_forward_with_actors_and_pages(
    container: Container, clock: FrozenClock
) -> None:
    service, _ = make_service(container)
    grace = make_user(container, role="responder", email="grace@example.com")
    headers = bearer(make_token(container, grace))
    with api_client(container) as client:
        made = _trigger(client, headers, service_id=str(service.id), title="Search latency")
        ref = made["number"]
        for step in ("acknowledge", "notes", "resolve"):
            clock.advance(minutes=2)
            body = {"text": "Cache warmed"} if step == "notes" else None
            assert client.post(f"{API}/{ref}/{step}", json=body, headers=headers).status_code == 200
        events = client.get(f"{API}/{ref}/timeline", headers=headers).json()
        kinds = [e["kind"] for e in events["data"]]
        assert kinds[0] == "incident.triggered"
        assert kinds[-3:] == ["incident.acknowledged", "incident.note", "incident.resolved"]
        assert [e["at"] for e in events["data"]] == sorted(e["at"] for e in events["data"])
        # The service has no escalation policy: the engine notes that nobody is paged.
        assert {e["actor"]["name"] for e in events["data"]} == {grace.name, "Tocsin engine"}
        assert "incident.unreachable" in kinds
        first = client.get(f"{API}/{ref}/timeline", params={"limit": 2}, headers=headers).json()
        rest = client.get(
            f"{API}/{ref}/timeline", params={"cursor": first["next_cursor"]}, headers=headers
        ).json()
        assert [e["kind"] for e in first["data"] + rest["data"]] == kinds


def test_bad_input_names_the_field_and_writes_nothing(container: Container) -> None:
    service, _ = make_service(container)
    headers = _headers(container, "admin")
    good = {"service_id": str(service.id), "title": "Real problem"}
    cases = [
        ({**good, "title": ""}, "title"),
        ({**good, "title": "   "}, "title"),
        ({**good, "title": "x" * 1025}, "title"),
        ({**good, "severity": "SEV-9"}, "severity"),
        ({**good, "severity": True}, "severity"),
        ({**good, "urgency": "urgent"}, "urgency"),
        ({**good, "service_id": "00000000-0000-7000-8000-000000000000"}, "service_id"),
        ({**good, "assignee_id": "00000000-0000-7000-8000-000000000000"}, "assignee_id"),
        ({**good, "colour": "red"}, "colour"),
        ({"title": "No service"}, "service_id"),
    ]
    with api_client(container) as client:
        for body, field in cases:
            answer = client.post(API, json=body, headers=headers)
            assert answer.status_code == 422, (body, answer.text)
            fields = [f["field"] for f in answer.json()["error"]["fields"]]
            assert any(f == field or f.startswith(field) for f in fields), (body, fields)
        broken = client.post(
            API, content=b"{not json", headers={**headers, "content-type": "application/json"}
        )
        assert broken.status_code == 422
        assert count(container, Incident) == 0
        made = _trigger(client, headers, **good)
        before = count(container, IncidentEvent)
        for path, body, field in [
            ("snooze", {"minutes": 0}, "minutes"),
            ("snooze", {"minutes": "ten"}, "minutes"),
            ("notes", {"text": ""}, "text"),
            ("severity", {"severity": "SEV-0"}, "severity"),
            ("priority", {"priority": "urgent"}, "priority"),
            ("reassign", {"assignee_id": "nobody"}, "assignee_id"),
            ("merge", {"child_ids": []}, "child_ids"),
        ]:
            answer = client.post(f"{API}/{made['number']}/{path}", json=body, headers=headers)
            assert answer.status_code in (409, 422), (path, answer.text)
            if answer.status_code == 422:
                assert field in [f["field"] for f in answer.json()["error"]["fields"]], answer.text
        assert count(container, IncidentEvent) == before
        assert count(container, SeverityChange) == 0
