"""API tokens: shown once, stored hashed, scoped, revocable; issued by oneself or an admin."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.kernel.ids import hash_secret
from tocsin.people.tables import ApiToken


def test_token_is_shown_once_and_stored_hashed(container: Container) -> None:
    user = make_user(container, role="responder")
    token = make_token(container, user)
    with api_client(container) as client:
        r = client.post(
            "/api/v1/me/tokens", json={"name": "laptop", "scope": "read"}, headers=bearer(token)
        )
        assert r.status_code == 201, r.text
        created = r.json()
        raw = created["token"]
        assert raw.startswith("tcn_")
        assert created["scope"] == "read"
        assert raw.startswith(created["prefix"])
        listed = client.get("/api/v1/me/tokens", headers=bearer(token)).json()["data"]
        assert created["id"] in [t["id"] for t in listed]
        assert all("token" not in t for t in listed)
        assert raw not in str(listed)
        # The new token works, read-only.
        assert client.get("/api/v1/me", headers=bearer(raw)).status_code == 200
    with container.db.read() as tx:
        rows = tx.execute(select(ApiToken)).scalars().all()
        stored = {(t.token_hash, t.prefix) for t in rows}
        assert all(raw not in (h, p) for h, p in stored)
        assert hash_secret(raw) in {h for h, _ in stored}


def test_revoked_token_is_401(container: Container) -> None:
    user = make_user(container, role="responder")
    token = make_token(container, user)
    with api_client(container) as client:
        created = client.post(
            "/api/v1/me/tokens", json={"name": "ci", "scope": "write"}, headers=bearer(token)
        ).json()
        r = client.delete(f"/api/v1/me/tokens/{created['id']}", headers=bearer(token))
        assert r.status_code == 204
        r = client.get("/api/v1/me", headers=bearer(created["token"]))
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "auth.required"
        listed = client.get("/api/v1/me/tokens", headers=bearer(token)).json()["data"]
        assert next(t for t in listed if t["id"] == created["id"])["revoked_at"] is not None


def test_cannot_revoke_someone_elses_token_via_me(container: Container) -> None:
    mine = make_token(container, make_user(container, role="admin"))
    other = make_user(container, role="responder")
    other_token = make_token(container, other)
    with container.db.read() as tx:
        other_id = tx.execute(select(ApiToken.id).where(ApiToken.user_id == other.id)).scalar_one()
    with api_client(container) as client:
        r = client.delete(f"/api/v1/me/tokens/{other_id}", headers=bearer(mine))
        assert r.status_code == 404
        assert client.get("/api/v1/me", headers=bearer(other_token)).status_code == 200


def test_read_token_cannot_issue_tokens(container: Container) -> None:
    user = make_user(container, role="admin")
    token = make_token(container, user, scope="read")
    before = count(container, ApiToken)
    with api_client(container) as client:
        r = client.post(
            "/api/v1/me/tokens", json={"name": "x", "scope": "write"}, headers=bearer(token)
        )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "auth.scope"
    assert count(container, ApiToken) == before


def test_admin_issues_tokens_for_others_responders_cannot(container: Container) -> None:
    admin_token = make_token(container, make_user(container, role="admin"))
    responder = make_user(container, role="responder")
    responder_token = make_token(container, responder)
    target = make_user(container, role="observer")
    body = {"name": "bot", "scope": "read"}
    with api_client(container) as client:
        r = client.post(f"/api/v1/users/{target.id}/tokens", json=body, headers=bearer(admin_token))
        assert r.status_code == 201
        assert r.json()["user_id"] == str(target.id)
        me = client.get("/api/v1/me", headers=bearer(r.json()["token"])).json()
        assert me["id"] == str(target.id)
        r = client.post(
            f"/api/v1/users/{target.id}/tokens", json=body, headers=bearer(responder_token)
        )
        assert r.status_code == 403


def test_bad_token_requests(container: Container) -> None:
    token = make_token(container, make_user(container, role="responder"))
    before = count(container, ApiToken)
    with api_client(container) as client:
        for body, field in [
            ({"name": "x", "scope": "admin"}, "scope"),
            ({"name": "x" * 101, "scope": "read"}, "name"),
            ({"name": "x"}, "scope"),
            ({"name": "x", "scope": "read", "expires": 1}, "expires"),
        ]:
            r = client.post("/api/v1/me/tokens", json=body, headers=bearer(token))
            assert r.status_code == 422
            assert field in [f["field"] for f in r.json()["error"]["fields"]]
    assert count(container, ApiToken) == before
