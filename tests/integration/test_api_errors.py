"""One error format and the authentication rules every API route shares (tokens, sessions, CSRF)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.people import actions
from tocsin.people.tables import Team, User
from tocsin.web.deps import SESSION_COOKIE

PROTECTED = [
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/teams"),
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/me/tokens"),
    ("POST", "/api/v1/me/test-email"),
    ("GET", "/api/v1/messages"),
    ("GET", "/api/v1/audit"),
]


def _session(container: Container, user: User) -> tuple[str, str]:
    with container.db.transaction() as tx:
        raw, session = actions.start_session(
            tx, user=user, now=container.clock.now(), lifetime=timedelta(hours=1)
        )
        return raw, session.csrf_token


def _assert_error_format(body: dict[str, object], code: str) -> None:
    assert set(body) == {"error"}
    error = body["error"]
    assert isinstance(error, dict)
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_no_credentials_is_401(container: Container, method: str, path: str) -> None:
    with api_client(container) as client:
        r = client.request(method, path, json={})
    assert r.status_code == 401
    _assert_error_format(r.json(), "auth.required")


@pytest.mark.parametrize(
    "header", ["Bearer tcn_not-a-real-token", "Bearer nope", "Basic YTpi", "Bearer ", "tcn_x"]
)
def test_invalid_credentials_are_401(container: Container, header: str) -> None:
    make_token(container, make_user(container, role="admin"))
    with api_client(container) as client:
        r = client.get("/api/v1/me", headers={"Authorization": header})
    assert r.status_code == 401
    _assert_error_format(r.json(), "auth.required")


def test_unknown_route_is_404_json(container: Container) -> None:
    with api_client(container) as client:
        r = client.get("/api/v1/nothing-here", headers={"Accept": "text/html"})
    assert r.status_code == 404
    _assert_error_format(r.json(), "not_found")


def test_wrong_method_is_405_json(container: Container) -> None:
    token = make_token(container, make_user(container, role="admin"))
    with api_client(container) as client:
        r = client.put("/api/v1/users", json={}, headers=bearer(token))
    assert r.status_code == 405
    _assert_error_format(r.json(), "method_not_allowed")


def test_malformed_json_is_422_and_writes_nothing(container: Container) -> None:
    token = make_token(container, make_user(container, role="admin"))
    before = count(container, User)
    headers = {**bearer(token), "Content-Type": "application/json"}
    with api_client(container) as client:
        r = client.post("/api/v1/users", content=b'{"email": "a@b.co",', headers=headers)
        assert r.status_code == 422
        _assert_error_format(r.json(), "invalid")
        assert r.json()["error"]["fields"][0]["message"] == "The body is not valid JSON."
        r = client.post("/api/v1/users", content=b"[1, 2]", headers=headers)
        assert r.status_code == 422
        r = client.post("/api/v1/users", content=b"\xff\xfe", headers=headers)
        assert r.status_code == 422
        r = client.post("/api/v1/users", headers=bearer(token))
        assert r.status_code == 422
    assert count(container, User) == before


def test_lone_surrogate_is_422_not_500(container: Container) -> None:
    token = make_token(container, make_user(container, role="admin"))
    body = b'{"email": "s@example.com", "name": "\\ud800", "role": "responder"}'
    with api_client(container) as client:
        r = client.post(
            "/api/v1/users",
            content=body,
            headers={**bearer(token), "Content-Type": "application/json"},
        )
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "name"


def test_session_cookie_reads_without_csrf_and_writes_with_it(container: Container) -> None:
    manager = make_user(container, role="manager")
    cookie, csrf = _session(container, manager)
    with api_client(container) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        assert client.get("/api/v1/me").json()["id"] == str(manager.id)
        r = client.post("/api/v1/teams", json={"name": "Ops"})
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "auth.csrf"
        r = client.post("/api/v1/teams", json={"name": "Ops"}, headers={"X-CSRF-Token": "wrong"})
        assert r.status_code == 403
        assert count(container, Team) == 0
        r = client.post("/api/v1/teams", json={"name": "Ops"}, headers={"X-CSRF-Token": csrf})
        assert r.status_code == 201
    assert count(container, Team) == 1


def test_cross_site_form_post_with_cookie_is_refused(container: Container) -> None:
    """A form post carries the cookie but cannot set the header: the API refuses it."""
    user = make_user(container, role="responder")
    cookie, _ = _session(container, user)
    with api_client(container) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        r = client.post(
            "/api/v1/me/test-email",
            content=b"x=1",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "auth.csrf"


def test_bearer_token_needs_no_csrf(container: Container) -> None:
    token = make_token(container, make_user(container, role="manager"))
    with api_client(container) as client:
        r = client.post("/api/v1/teams", json={"name": "Ops"}, headers=bearer(token))
    assert r.status_code == 201


def test_expired_session_is_401(container: Container) -> None:
    user = make_user(container, role="responder")
    cookie, _ = _session(container, user)
    container.clock.advance(hours=2)  # type: ignore[attr-defined]
    with api_client(container) as client:
        client.cookies.set(SESSION_COOKIE, cookie)
        assert client.get("/api/v1/me").status_code == 401
