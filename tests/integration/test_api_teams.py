"""Teams API: create with members, read, rename, replace members, delete; who may do it."""

from __future__ import annotations

import pytest

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.people.tables import Team, TeamMember


@pytest.fixture
def manager_token(container: Container) -> str:
    return make_token(container, make_user(container, role="manager"))


def test_manager_creates_a_team_with_members(container: Container, manager_token: str) -> None:
    ada = make_user(container, role="responder", email="ada@example.com")
    bob = make_user(container, role="responder", email="bob@example.com")
    body = {
        "name": "Payments",
        "description": "Card processing",
        "members": [{"user_id": str(ada.id), "is_manager": True}, {"user_id": str(bob.id)}],
    }
    with api_client(container) as client:
        r = client.post("/api/v1/teams", json=body, headers=bearer(manager_token))
        assert r.status_code == 201, r.text
        team = r.json()
        assert team["name"] == "Payments"
        assert sorted((m["user_id"], m["is_manager"]) for m in team["members"]) == sorted(
            [(str(ada.id), True), (str(bob.id), False)]
        )
        got = client.get(f"/api/v1/teams/{team['id']}", headers=bearer(manager_token))
        assert got.json() == team


def test_responder_reads_teams_but_cannot_create(container: Container, manager_token: str) -> None:
    token = make_token(container, make_user(container, role="responder"))
    with api_client(container) as client:
        client.post("/api/v1/teams", json={"name": "Ops"}, headers=bearer(manager_token))
        r = client.post("/api/v1/teams", json={"name": "Rogue"}, headers=bearer(token))
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "auth.role"
        r = client.get("/api/v1/teams", headers=bearer(token))
        assert [t["name"] for t in r.json()["data"]] == ["Ops"]
    assert count(container, Team) == 1


def test_duplicate_team_name_is_409(container: Container, manager_token: str) -> None:
    with api_client(container) as client:
        client.post("/api/v1/teams", json={"name": "Ops"}, headers=bearer(manager_token))
        r = client.post("/api/v1/teams", json={"name": "OPS"}, headers=bearer(manager_token))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "team.name_taken"
    assert count(container, Team) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "t" * 101}, "name"),
        ({"name": "Ops", "description": "d" * 2001}, "description"),
        ({"name": "Ops", "members": [{"user_id": "nope"}]}, "members[0].user_id"),
        ({"name": "Ops", "members": [{"user_id": None}]}, "members[0].user_id"),
        (
            {"name": "Ops", "members": [{"user_id": "01900000-0000-7000-8000-000000000000"}]},
            "members[0].user_id",
        ),
        ({"name": "Ops", "members": [{"user": "x"}]}, "members[0].user"),
        ({"name": "Ops", "colour": "red"}, "colour"),
        ({"name": 12}, "name"),
        ({"name": "   "}, "name"),
    ],
)
def test_bad_team_input_is_422_and_writes_nothing(
    container: Container, manager_token: str, body: dict[str, object], field: str
) -> None:
    with api_client(container) as client:
        r = client.post("/api/v1/teams", json=body, headers=bearer(manager_token))
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["error"]["fields"]]
    assert count(container, Team) == 0


def test_patch_renames_and_replaces_members(container: Container, manager_token: str) -> None:
    ada = make_user(container, role="responder", email="ada@example.com")
    bob = make_user(container, role="responder", email="bob@example.com")
    with api_client(container) as client:
        team = client.post(
            "/api/v1/teams",
            json={"name": "Ops", "members": [{"user_id": str(ada.id)}]},
            headers=bearer(manager_token),
        ).json()
        r = client.patch(
            f"/api/v1/teams/{team['id']}",
            json={"name": "SRE", "members": [{"user_id": str(bob.id), "is_manager": True}]},
            headers=bearer(manager_token),
        )
        assert r.status_code == 200
        assert r.json()["name"] == "SRE"
        assert r.json()["members"] == [{"user_id": str(bob.id), "is_manager": True}]
        twice = [{"user_id": str(bob.id)}, {"user_id": str(bob.id)}]
        r = client.patch(
            f"/api/v1/teams/{team['id']}", json={"members": twice}, headers=bearer(manager_token)
        )
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "members[1].user_id"
    assert count(container, TeamMember) == 1


def test_delete_team(container: Container, manager_token: str) -> None:
    with api_client(container) as client:
        team = client.post(
            "/api/v1/teams", json={"name": "Ops"}, headers=bearer(manager_token)
        ).json()
        r = client.delete(f"/api/v1/teams/{team['id']}", headers=bearer(manager_token))
        assert r.status_code == 204
        r = client.get(f"/api/v1/teams/{team['id']}", headers=bearer(manager_token))
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "team.not_found"
        r = client.delete(f"/api/v1/teams/{team['id']}", headers=bearer(manager_token))
        assert r.status_code == 404


def test_team_pagination_walks_all_pages(container: Container, manager_token: str) -> None:
    names: list[str] = []
    cursor: str | None = None
    with api_client(container) as client:
        for i in range(7):
            client.post("/api/v1/teams", json={"name": f"T{i}"}, headers=bearer(manager_token))
        while True:
            params: dict[str, str | int] = {"limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/teams", params=params, headers=bearer(manager_token)).json()
            names += [t["name"] for t in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert names == [f"T{i}" for i in range(7)]
