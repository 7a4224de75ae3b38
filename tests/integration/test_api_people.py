"""People API: create, list (pagination, filters), read, change; roles, scopes and bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.people import actions
from tocsin.people.tables import User

NEW = {"email": "grace@example.com", "name": "Grace Hopper", "role": "responder"}


@pytest.fixture
def admin_token(container: Container) -> str:
    return make_token(container, make_user(container, role="admin"))


def test_admin_creates_a_user(container: Container, admin_token: str) -> None:
    with api_client(container) as client:
        r = client.post("/api/v1/users", json=NEW, headers=bearer(admin_token))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["email"] == "grace@example.com"
        assert body["role"] == "responder"
        assert body["time_zone"] == "UTC"
        assert body["created_at"] == "2026-01-05T09:00:00Z"
        got = client.get(f"/api/v1/users/{body['id']}", headers=bearer(admin_token))
        assert got.status_code == 200
        assert got.json() == body


def test_duplicate_email_is_409_naming_the_field(container: Container, admin_token: str) -> None:
    with api_client(container) as client:
        assert (
            client.post("/api/v1/users", json=NEW, headers=bearer(admin_token)).status_code == 201
        )
        before = count(container, User)
        again = {**NEW, "email": "  GRACE@example.com "}
        r = client.post("/api/v1/users", json=again, headers=bearer(admin_token))
    assert r.status_code == 409
    error = r.json()["error"]
    assert error["code"] == "user.email_taken"
    assert [f["field"] for f in error["fields"]] == ["email"]
    assert count(container, User) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW, "email": "x" * 250 + "@a.io"}, "email"),
        ({**NEW, "name": "n" * 201}, "name"),
        ({**NEW, "role": "emperor"}, "role"),
        ({**NEW, "role": 3}, "role"),
        ({**NEW, "name": ["Grace"]}, "name"),
        ({**NEW, "name": ""}, "name"),
        ({**NEW, "name": "Grace\x00"}, "name"),
        ({**NEW, "time_zone": "t" * 65}, "time_zone"),
        ({**NEW, "password": "p" * 1025}, "password"),
        ({**NEW, "admin": True}, "admin"),
        ({"name": "No Email", "role": "responder"}, "email"),
        # Rules checked by the action (not the schema) use the same format.
        ({**NEW, "email": "not-an-email"}, "email"),
        ({**NEW, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**NEW, "password": "short"}, "password"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(
    container: Container, admin_token: str, body: dict[str, object], field: str
) -> None:
    users, events = count(container, User), count(container, AuditEvent)
    with api_client(container) as client:
        r = client.post("/api/v1/users", json=body, headers=bearer(admin_token))
    assert r.status_code == 422, r.text
    assert field in [f["field"] for f in r.json()["error"]["fields"]]
    assert (count(container, User), count(container, AuditEvent)) == (users, events)


def test_responder_cannot_create_users(container: Container) -> None:
    token = make_token(container, make_user(container, role="responder"))
    before = count(container, User)
    with api_client(container) as client:
        r = client.post("/api/v1/users", json=NEW, headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "auth.role"
    assert count(container, User) == before


def test_read_token_reads_but_cannot_write(container: Container) -> None:
    admin = make_user(container, role="admin")
    token = make_token(container, admin, scope="read")
    with api_client(container) as client:
        assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
        r = client.post("/api/v1/users", json=NEW, headers=bearer(token))
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "auth.scope"
        r = client.patch(f"/api/v1/users/{admin.id}", json={"name": "X"}, headers=bearer(token))
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "auth.scope"


def test_stakeholder_cannot_list_people_but_sees_themselves(container: Container) -> None:
    user = make_user(container, role="stakeholder")
    token = make_token(container, user)
    with api_client(container) as client:
        assert client.get("/api/v1/users", headers=bearer(token)).status_code == 403
        assert client.get(f"/api/v1/users/{user.id}", headers=bearer(token)).status_code == 200


def test_pagination_walks_every_user_once(container: Container, admin_token: str) -> None:
    for i in range(11):
        make_user(container, role="responder", email=f"r{i:02d}@example.com")
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    with api_client(container) as client:
        while True:
            params: dict[str, str | int] = {"limit": 4}
            if cursor:
                params["cursor"] = cursor
            r = client.get("/api/v1/users", params=params, headers=bearer(admin_token))
            assert r.status_code == 200
            page = r.json()
            assert len(page["data"]) <= 4
            seen += [u["email"] for u in page["data"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12
    assert seen == sorted(seen)


def test_filters_by_role_and_text(container: Container, admin_token: str) -> None:
    make_user(container, role="manager", email="mia@example.com")
    make_user(container, role="responder", email="rob@example.com")
    with api_client(container) as client:
        r = client.get("/api/v1/users", params={"role": "manager"}, headers=bearer(admin_token))
        assert [u["email"] for u in r.json()["data"]] == ["mia@example.com"]
        r = client.get("/api/v1/users", params={"q": "ROB@"}, headers=bearer(admin_token))
        assert [u["email"] for u in r.json()["data"]] == ["rob@example.com"]
        r = client.get("/api/v1/users", params={"role": "king"}, headers=bearer(admin_token))
        assert r.status_code == 422


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"cursor": "!!!"}, "cursor"),
        ({"cursor": "AA"}, "cursor"),  # decodes to a NUL byte
        ({"q": "q" * 201}, "q"),
        ({"q": "a\x00b"}, "q"),  # PostgreSQL cannot store or compare NUL
    ],
)
def test_bad_list_parameters_are_422(
    container: Container, admin_token: str, params: dict[str, str | int], field: str
) -> None:
    with api_client(container) as client:
        r = client.get("/api/v1/users", params=params, headers=bearer(admin_token))
    assert r.status_code == 422
    assert [f["field"] for f in r.json()["error"]["fields"]] == [field]


def test_unknown_user_is_404(container: Container, admin_token: str) -> None:
    with api_client(container) as client:
        r = client.get(
            "/api/v1/users/01900000-0000-7000-8000-000000000000", headers=bearer(admin_token)
        )
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "user.not_found"
        assert client.get("/api/v1/users/nope", headers=bearer(admin_token)).status_code == 422


def test_people_edit_themselves_not_others(container: Container) -> None:
    me = make_user(container, role="responder")
    other = make_user(container, role="responder", email="other@example.com")
    token = make_token(container, me)
    with api_client(container) as client:
        r = client.patch(
            f"/api/v1/users/{me.id}", json={"time_zone": "Europe/Paris"}, headers=bearer(token)
        )
        assert r.status_code == 200
        assert r.json()["time_zone"] == "Europe/Paris"
        r = client.patch(f"/api/v1/users/{other.id}", json={"name": "X"}, headers=bearer(token))
        assert r.status_code == 403
        r = client.patch(f"/api/v1/users/{me.id}", json={"role": "admin"}, headers=bearer(token))
        assert r.status_code == 403
        assert client.get("/api/v1/me", headers=bearer(token)).json()["role"] == "responder"


def test_admin_changes_role_and_deactivates(container: Container, admin_token: str) -> None:
    user = make_user(container, role="responder")
    token = make_token(container, user)
    with api_client(container) as client:
        r = client.patch(
            f"/api/v1/users/{user.id}",
            json={"role": "manager", "is_active": False},
            headers=bearer(admin_token),
        )
        assert r.status_code == 200
        assert (r.json()["role"], r.json()["is_active"]) == ("manager", False)
        # A deactivated person's tokens stop working.
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_me_and_profile_changes(container: Container) -> None:
    user = make_user(container, role="observer")
    token = make_token(container, user)
    with api_client(container) as client:
        assert client.get("/api/v1/me", headers=bearer(token)).json()["id"] == str(user.id)
        r = client.patch(
            "/api/v1/me", json={"name": "Obi", "time_zone": "Asia/Tokyo"}, headers=bearer(token)
        )
        assert r.status_code == 200
        assert (r.json()["name"], r.json()["time_zone"]) == ("Obi", "Asia/Tokyo")
        r = client.patch("/api/v1/me", json={"role": "admin"}, headers=bearer(token))
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "role"


def test_change_own_password(container: Container) -> None:
    user = make_user(container, role="responder", password="old-password-1")
    token = make_token(container, user)
    with api_client(container) as client:
        r = client.post(
            "/api/v1/me/password",
            json={"current_password": "wrong-password", "new_password": "new-password-1"},
            headers=bearer(token),
        )
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "current_password"
        r = client.post(
            "/api/v1/me/password",
            json={"current_password": "old-password-1", "new_password": "short"},
            headers=bearer(token),
        )
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "new_password"
        r = client.post(
            "/api/v1/me/password",
            json={"current_password": "old-password-1", "new_password": "new-password-1"},
            headers=bearer(token),
        )
        assert r.status_code == 204
    with container.db.transaction() as tx:
        signed_in = actions.authenticate(
            tx,
            email=user.email,
            password="new-password-1",
            now=container.clock.now(),
            max_failures=5,
            window=timedelta(minutes=15),
        )
    assert signed_in.id == user.id


def test_wrong_current_passwords_lock_out(container: Container) -> None:
    user = make_user(container, role="responder", password="old-password-1")
    token = make_token(container, user)
    body = {"current_password": "wrong-password", "new_password": "new-password-1"}
    with api_client(container) as client:
        codes = [
            client.post("/api/v1/me/password", json=body, headers=bearer(token)).status_code
            for _ in range(6)
        ]
        assert codes == [422] * 5 + [429]
        ok = {"current_password": "old-password-1", "new_password": "new-password-1"}
        r = client.post("/api/v1/me/password", json=ok, headers=bearer(token))
        assert r.status_code == 429
        assert "Retry-After" in r.headers
