"""Helpers for API tests: a test client over the container, people and tokens to call with."""

from __future__ import annotations

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

CLI = Actor.system(via="cli")


@contextmanager
def api_client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        yield client


def make_user(
    container: Container, *, role: str, email: str | None = None, password: str | None = None
) -> User:
    with container.db.transaction() as tx:
        return actions.create_user(
            tx,
            email=email or f"{role}@example.com",
            name=role.title(),
            role=role,
            password=password,
            actor=CLI,
            now=container.clock.now(),
        )


def make_token(container: Container, user: User, scope: str = "write") -> str:
    with container.db.transaction() as tx:
        raw, _ = actions.create_token(
            tx, user_id=user.id, name="test", scope=scope, actor=CLI, now=container.clock.now()
        )
    return raw


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def count(container: Container, table: type[Base]) -> int:
    with container.db.read() as tx:
        return int(tx.execute(select(func.count()).select_from(table)).scalar_one())
