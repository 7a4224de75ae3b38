"""Test databases: a unique SQLite file or PostgreSQL database per test session, dropped afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import delete
from sqlalchemy.engine import make_url

from tocsin.db.session import Database
from tocsin.schema import metadata

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> tuple[str | None, str]:
    """The PostgreSQL URL to create test databases from, or None and the reason to skip."""
    explicit = os.environ.get("TOCSIN_TEST_POSTGRES_URL")
    url = explicit or DEFAULT_POSTGRES
    try:
        with psycopg.connect(_libpq(url), connect_timeout=3):
            pass
    except psycopg.Error as exc:
        if explicit:
            raise RuntimeError(f"TOCSIN_TEST_POSTGRES_URL is set but unreachable: {exc}") from exc
        return None, f"PostgreSQL not reachable at {url} (set TOCSIN_TEST_POSTGRES_URL)"
    return url, ""


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def postgres_database(admin_url: str, label: str = "t") -> Iterator[str]:
    """Create a uniquely named database, yield its URL, drop it (even if tests crashed)."""
    name = f"tocsin_{label}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_database(directory: Path) -> str:
    return f"sqlite:///{directory / f'tocsin-{uuid.uuid4().hex[:8]}.sqlite3'}"


def wipe(db: Database) -> None:
    """Empty every table (children first) so the next test starts clean."""
    with db.transaction() as tx:
        for table in reversed(metadata.sorted_tables):
            tx.execute(delete(table))
