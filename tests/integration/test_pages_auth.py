"""Sign-in, sign-out, anonymous redirects and CSRF on the pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.integration.pages_support import (
    PASSWORD,
    count,
    csrf_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.people.actions import WRONG_LOGIN
from tocsin.people.tables import LoginFailure, Team, WebSession


def test_login_success_sets_a_strict_session_cookie_and_follows_next(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        form = client.get("/login?next=/teams")
        assert form.status_code == 200
        assert 'value="/teams"' in form.text
        csrf_cookie = form.headers["set-cookie"]
        assert "tocsin_csrf=" in csrf_cookie and "samesite=strict" in csrf_cookie.lower()
        response = client.post(
            "/login",
            data={
                "email": "ada@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": "/teams",
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/teams"
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("tocsin_session=")
        )
        lowered = cookie.lower()
        assert "httponly" in lowered and "samesite=lax" in lowered
        assert f"max-age={container.settings.session_hours * 3600}" in lowered
        assert "secure" not in lowered  # secure_cookies is off in tests
        assert client.get("/teams").status_code == 200
    assert count(container, WebSession) == 1


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"]
)
def test_login_never_redirects_off_site(container: Container, target: str) -> None:
    make_user(container, role="responder")
    with page_client(container) as client:
        form = client.get("/login")
        response = client.post(
            "/login",
            data={
                "email": "responder@example.com",
                "password": PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": target,
            },
        )
        assert response.status_code == 303
        assert response.headers["location"] == "/"


def test_login_failure_is_generic_and_recorded(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = csrf_of(client.get("/login").text)
        wrong_password = client.post(
            "/login",
            data={"email": "rita@example.com", "password": "not it at all", "csrf_token": token},
        )
        unknown_email = client.post(
            "/login",
            data={"email": "nobody@example.com", "password": PASSWORD, "csrf_token": token},
        )
    for response in (wrong_password, unknown_email):
        assert response.status_code == 401
        assert WRONG_LOGIN in response.text
        assert "tocsin_session=" not in response.headers.get("set-cookie", "")
    assert 'value="rita@example.com"' in wrong_password.text  # typed email kept
    assert count(container, LoginFailure) == 2
    assert count(container, WebSession) == 0


def test_sixth_attempt_is_rate_limited(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = csrf_of(client.get("/login").text)
        data = {"email": "rita@example.com", "password": "wrong password", "csrf_token": token}
        statuses = [client.post("/login", data=data).status_code for _ in range(5)]
        assert statuses == [401] * 5
        # Even the right password is refused while the account is locked.
        sixth = client.post("/login", data={**data, "password": PASSWORD})
    assert sixth.status_code == 429
    assert "Too many failed sign-ins" in sixth.text
    assert int(sixth.headers["retry-after"]) > 0
    assert count(container, WebSession) == 0


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_login_form_needs_the_double_submit_cookie(container: Container, token: str | None) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        client.get("/login")  # sets the tocsin_csrf cookie
        data = {"email": "ada@example.com", "password": PASSWORD}
        if token is not None:
            data["csrf_token"] = token
        response = client.post("/login", data=data)
    assert response.status_code == 403
    assert count(container, WebSession) == 0


def test_login_without_the_cookie_is_refused(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = csrf_of(client.get("/login").text)
        client.cookies.clear()
        response = client.post(
            "/login", data={"email": "ada@example.com", "password": PASSWORD, "csrf_token": token}
        )
    assert response.status_code == 403
    assert count(container, WebSession) == 0


@pytest.mark.parametrize(
    "path", ["/", "/people", "/people/new", "/teams", "/teams/new", "/profile", "/messages"]
)
def test_anonymous_page_access_redirects_to_login(container: Container, path: str) -> None:
    with page_client(container) as client:
        response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next={path}"


def test_logout_ends_the_session(container: Container) -> None:
    make_user(container, role="responder")
    with page_client(container) as client:
        token = sign_in(client, "responder@example.com")
        assert count(container, WebSession) == 1
        response = client.post("/logout", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["location"] == "/login"
        assert count(container, WebSession) == 0
        assert client.get("/").status_code == 303


@pytest.mark.parametrize("token", [None, "wrong"])
def test_posts_without_the_session_csrf_token_are_refused(
    container: Container, token: str | None
) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        data = {"name": "Payments", "description": ""}
        if token is not None:
            data["csrf_token"] = token
        created = client.post("/teams/new", data=data)
        logout = client.post("/logout", data={} if token is None else {"csrf_token": token})
    assert created.status_code == 403
    assert "CSRF" in created.text
    assert count(container, Team) == 0
    assert logout.status_code == 403
    assert count(container, WebSession) == 1


def test_pages_send_the_content_security_policy(container: Container) -> None:
    with page_client(container) as client:
        response = client.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert '<script src="/static/tocsin.js" defer></script>' in response.text
    assert "style=" not in response.text and "<style" not in response.text


def test_static_assets_are_served(container: Container) -> None:
    with page_client(container) as client:
        for path in ["/static/tocsin.css", "/static/tocsin.js", "/static/favicon.svg"]:
            assert client.get(path).status_code == 200, path
        assert client.get("/static/manifest.json").json()["name"] == "Tocsin"
