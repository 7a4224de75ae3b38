"""Schedules API on both databases: CRUD, dry runs, final, on call, overrides, cover, ICS."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from icalendar import Calendar  # type: ignore[import-untyped]

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.people.tables import User
from tocsin.schedules.tables import OverrideRow, ScheduleRow

API = "/api/v1"


def _setup(container: Container) -> tuple[dict[str, str], User, User]:
    admin = make_user(container, role="admin")
    ada = make_user(container, role="responder", email="ada@example.com")
    bob = make_user(container, role="responder", email="bob@example.com")
    return bearer(make_token(container, admin)), ada, bob


def _layer(*users: User, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Primary",
        "participants": [str(u.id) for u in users],
        "turn_hours": 168,
        "start_date": "2026-01-05",
        "handoff_time": "09:00",
        **extra,
    }


def _create(client: TestClient, headers: dict[str, str], *users: User) -> dict[str, Any]:
    response = client.post(
        f"{API}/schedules",
        json={"name": "Payments", "time_zone": "Europe/London", "layers": [_layer(*users)]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_crud_and_feed_pattern(container: Container) -> None:
    headers, ada, bob = _setup(container)
    with api_client(container) as client:
        created = _create(client, headers, ada, bob)
        sid = created["id"]
        assert created["ics_feed_url"].endswith(f"/calendars/schedules/{sid}/{{token}}.ics")
        assert created["layers"][0]["participants"] == [str(ada.id), str(bob.id)]
        listed = client.get(f"{API}/schedules", headers=headers).json()
        assert [s["id"] for s in listed["data"]] == [sid] and listed["next_cursor"] is None
        patched = client.patch(
            f"{API}/schedules/{sid}", json={"description": "EU payments"}, headers=headers
        )
        assert patched.status_code == 200 and patched.json()["description"] == "EU payments"
        assert client.get(f"{API}/schedules/{sid}", headers=headers).status_code == 200
        assert client.delete(f"{API}/schedules/{sid}", headers=headers).status_code == 204
        assert client.get(f"{API}/schedules/{sid}", headers=headers).status_code == 404
    assert count(container, ScheduleRow) == 0


def test_bad_layers_give_field_errors(container: Container) -> None:
    headers, ada, _ = _setup(container)
    with api_client(container) as client:
        response = client.post(
            f"{API}/schedules",
            json={
                "name": "Bad",
                "time_zone": "Nowhere/Land",
                "layers": [
                    _layer(
                        ada,
                        turn_hours=0,
                        restrictions=[{"start": "18:00", "end": "08:00"}],
                        participants=[str(ada.id), "00000000-0000-7000-8000-000000000000"],
                    )
                ],
            },
            headers=headers,
        )
    assert response.status_code == 422
    fields = {f["field"] for f in response.json()["error"]["fields"]}
    assert {
        "time_zone",
        "layers[0].turn_hours",
        "layers[0].restrictions[0].end",
        "layers[0].participants[1]",
    } <= fields
    assert count(container, ScheduleRow) == 0


def test_layers_dry_run_then_save(container: Container) -> None:
    headers, ada, bob = _setup(container)
    with api_client(container) as client:
        sid = _create(client, headers, ada)["id"]
        url = f"{API}/schedules/{sid}/layers"
        body = {"layers": [_layer(bob)]}
        dry = client.put(f"{url}?dry_run=true&weeks=3", json=body, headers=headers)
        assert dry.status_code == 200, dry.text
        preview = dry.json()
        assert preview["dry_run"] is True and not preview["unchanged"]
        assert {c["name"] for c in preview["changes"]} == {"Responder"}
        assert preview["summary"]
        kept = client.get(f"{API}/schedules/{sid}", headers=headers).json()
        assert kept["layers"][0]["participants"] == [str(ada.id)]
        saved = client.put(url, json=body, headers=headers)
        assert saved.json()["layers"][0]["participants"] == [str(bob.id)]


def test_final_oncall_and_load(container: Container) -> None:
    headers, ada, bob = _setup(container)
    with api_client(container) as client:
        sid = _create(client, headers, ada, bob)["id"]
        final = client.get(
            f"{API}/schedules/{sid}/final",
            params={"start": "2026-01-05T09:00:00Z", "end": "2026-01-19T09:00:00Z"},
            headers=headers,
        ).json()
        assert [s["user_id"] for s in final["shifts"]] == [str(ada.id), str(bob.id)]
        assert final["gaps"] == []
        oncall = client.get(
            f"{API}/oncall", params={"at": "2026-01-06T03:00:00+00:00"}, headers=headers
        ).json()
        [entry] = oncall["data"]
        assert entry["oncall"][0]["email"] == "ada@example.com"
        assert entry["oncall"][0]["time_zone"] == "UTC"
        assert entry["next"]["email"] == "bob@example.com"
        one = client.get(f"{API}/schedules/{sid}/oncall", headers=headers).json()
        assert one["oncall"][0]["user_id"] == str(ada.id)
        load = client.get(f"{API}/schedules/{sid}/load", headers=headers).json()
        assert {x["user_id"] for x in load["data"]} == {str(ada.id), str(bob.id)}
        naive = client.get(f"{API}/oncall", params={"at": "2026-01-06T03:00:00"}, headers=headers)
        assert naive.status_code == 422
        too_long = client.get(
            f"{API}/schedules/{sid}/final",
            params={"start": "2026-01-05T09:00:00Z", "end": "2028-01-19T09:00:00Z"},
            headers=headers,
        )
        assert too_long.status_code == 422


def test_overrides_dry_run_conflict_and_remove(container: Container) -> None:
    headers, ada, bob = _setup(container)
    with api_client(container) as client:
        sid = _create(client, headers, ada)["id"]
        url = f"{API}/schedules/{sid}/overrides"
        body = {
            "user_id": str(bob.id),
            "start_at": "2026-01-06T10:00:00Z",
            "end_at": "2026-01-06T14:00:00Z",
        }
        dry = client.post(f"{url}?dry_run=true", json=body, headers=headers)
        assert dry.status_code == 200 and dry.json()["dry_run"] is True
        assert count(container, OverrideRow) == 0
        created = client.post(url, json=body, headers=headers)
        assert created.status_code == 201
        again = client.post(url, json=body, headers=headers)
        assert again.status_code == 409
        assert again.json()["error"]["fields"][0]["field"] == "start_at"
        backwards = {**body, "start_at": "2026-01-07T10:00:00Z", "end_at": "2026-01-07T09:00:00Z"}
        bad = client.post(url, json=backwards, headers=headers)
        assert bad.status_code == 422 and bad.json()["error"]["fields"][0]["field"] == "end_at"
        oid = created.json()["id"]
        assert client.delete(f"{url}/{oid}?dry_run=true", headers=headers).status_code == 200
        assert count(container, OverrideRow) == 1
        assert client.delete(f"{url}/{oid}", headers=headers).status_code == 204
    assert count(container, OverrideRow) == 0


def test_time_off_and_cover_first_accept_wins(container: Container) -> None:
    headers, ada, bob = _setup(container)
    cy = make_user(container, role="responder", email="cy@example.com")
    ada_h, bob_h, cy_h = (bearer(make_token(container, u)) for u in (ada, bob, cy))
    with api_client(container) as client:
        sid = _create(client, headers, ada, bob, cy)["id"]
        span = {"start_at": "2026-01-06T00:00:00Z", "end_at": "2026-01-07T00:00:00Z"}
        dry = client.post(f"{API}/users/{ada.id}/time-off?dry_run=true", json=span, headers=ada_h)
        assert dry.status_code == 200 and dry.json()["data"][0]["schedule_id"] == sid
        off = client.post(f"{API}/users/{ada.id}/time-off", json=span, headers=ada_h)
        assert off.status_code == 201
        assert (
            client.post(f"{API}/users/{ada.id}/time-off", json=span, headers=bob_h).status_code
            == 403
        )
        listed = client.get(f"{API}/users/{ada.id}/time-off", headers=ada_h).json()
        assert len(listed["data"]) == 1
        cover = client.post(
            f"{API}/schedules/{sid}/cover-requests",
            json={"start_at": "2026-01-08T10:00:00Z", "end_at": "2026-01-08T12:00:00Z"},
            headers=ada_h,
        )
        assert cover.status_code == 201
        rid, version = cover.json()["id"], cover.json()["version"]
        first = client.post(
            f"{API}/cover-requests/{rid}/accept", json={"expected_version": version}, headers=bob_h
        )
        second = client.post(
            f"{API}/cover-requests/{rid}/accept", json={"expected_version": version}, headers=cy_h
        )
        assert first.status_code == 200 and first.json()["accepted_by"] == str(bob.id)
        assert second.status_code == 409 and second.json()["error"]["code"] == "cover.taken"
        note = client.post(
            f"{API}/schedules/{sid}/handoff-notes", json={"text": "db flapping"}, headers=ada_h
        )
        assert note.status_code == 201
        notes = client.get(f"{API}/schedules/{sid}/handoff-notes", headers=ada_h).json()
        assert [n["text"] for n in notes["data"]] == ["db flapping"]


def test_ics_feeds_and_token_rotation(container: Container) -> None:
    headers, ada, bob = _setup(container)
    ada_h = bearer(make_token(container, ada))
    with api_client(container) as client:
        sid = _create(client, headers, ada, bob)["id"]
        rotated = client.post(f"{API}/me/calendar-token", headers=ada_h)
        assert rotated.status_code == 200
        urls = rotated.json()
        token = urls["token"]
        assert urls["user_feed_url"].endswith(f"/calendars/users/{token}.ics")
        own = client.get(f"/calendars/users/{token}.ics")
        assert own.status_code == 200 and own.headers["content-type"].startswith("text/calendar")
        events = [c for c in Calendar.from_ical(own.content).walk("VEVENT")]
        assert events and all(str(e["summary"]) == "On call: Payments" for e in events)
        assert all(e.decoded("dtstart").utcoffset().total_seconds() == 0 for e in events)
        whole = client.get(f"/calendars/schedules/{sid}/{token}.ics")
        uids = [str(e["uid"]) for e in Calendar.from_ical(whole.content).walk("VEVENT")]
        assert len(uids) > len(events) and len(set(uids)) == len(uids)
        again = client.get(f"/calendars/schedules/{sid}/{token}.ics")
        assert [str(e["uid"]) for e in Calendar.from_ical(again.content).walk("VEVENT")] == uids
        client.post(f"{API}/me/calendar-token", headers=ada_h)
        stale = client.get(f"/calendars/users/{token}.ics")
        assert stale.status_code == 404 and stale.content == b""
        assert client.get(f"/calendars/schedules/{sid}/{token}.ics").status_code == 404
        assert client.get("/calendars/schedules/nope/x.ics").status_code == 404


def test_read_only_tokens_and_observers_cannot_write(container: Container) -> None:
    observer = make_user(container, role="observer", email="obs@example.com")
    obs_h = bearer(make_token(container, observer))
    with api_client(container) as client:
        assert client.get(f"{API}/schedules", headers=obs_h).status_code == 200
        refused = client.post(
            f"{API}/schedules", json={"name": "X", "time_zone": "UTC"}, headers=obs_h
        )
        assert refused.status_code == 403
