"""Helpers for page tests: a browser-like client, people to sign in as, CSRF tokens from forms."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tocsin.bootstrap import Container
from tocsin.db.base import Base
from tocsin.kernel.actor import Actor
from tocsin.people import actions
from tocsin.people.tables import User
from tocsin.web.app import create_app

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]*)"')


@contextmanager
def page_client(container: Container) -> Iterator[TestClient]:
    """A client that asks for HTML like a browser and does not follow redirects."""
    with TestClient(
        create_app(container),
        raise_server_exceptions=False,
        follow_redirects=False,
        headers={"accept": "text/html,application/xhtml+xml"},
    ) as client:
        yield client


def make_user(
    container: Container,
    *,
    role: str,
    email: str | None = None,
    name: str | None = None,
    time_zone: str = "UTC",
) -> User:
    with container.db.transaction() as tx:
        return actions.create_user(
            tx,
            email=email or f"{role}@example.com",
            name=name or role.title(),
            role=role,
            time_zone=time_zone,
            password=PASSWORD,
            actor=Actor.system(via="cli"),
            now=container.clock.now(),
        )


def csrf_of(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match is not None, "no csrf_token field in the page"
    return match.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    form = client.get("/login")
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": csrf_of(form.text), "next": "/"},
    )
    assert response.status_code == 303, response.text
    profile = client.get("/profile")
    assert profile.status_code == 200
    return csrf_of(profile.text)


def count(container: Container, model: type[Base]) -> int:
    with container.db.read() as tx:
        return int(tx.execute(select(func.count()).select_from(model)).scalar_one())


def field_error(html: str, field: str) -> str:
    """The message shown next to ``field`` (its ``<p id="FIELD-error">``), or ''."""
    match = re.search(rf'id="{re.escape(field)}-error">(.*?)</p>', html, re.S)
    if match is None:
        return ""
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("!", "", 1).strip()


def main_of(html: str) -> str:
    """The ``<main>`` landmark only (the header and footer name the signed-in person)."""
    start = html.index('<main id="main"')
    return html[start : html.index("</main>", start)]
