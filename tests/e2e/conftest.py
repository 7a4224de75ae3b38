"""Fixtures for tests that run real processes against a database of their own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.databases import postgres_database, sqlite_database
from tocsin.db import migrate
from tocsin.db.session import Database


@pytest.fixture(params=["sqlite", "postgres"])
def own_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database per test (child processes share it with the test)."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = sqlite_database(tmp_path)
        else:
            url = stack.enter_context(
                postgres_database(request.getfixturevalue("pg_admin_url"), "e2e")
            )
        db = Database(url)
        try:
            migrate.upgrade(db)
        finally:
            db.dispose()
        yield url
