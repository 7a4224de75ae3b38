"""Migrations upgrade from empty and downgrade one step on both databases, and match the models."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.databases import postgres_database, sqlite_database
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.schema import metadata


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    if request.param == "sqlite":
        db = Database(sqlite_database(tmp_path))
        yield db
        db.dispose()
        return
    admin = request.getfixturevalue("pg_admin_url")
    with postgres_database(admin, "m") as url:
        db = Database(url)
        yield db
        db.dispose()


def test_upgrade_from_empty_then_downgrade_one_step_and_back(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    head = migrate.head_revision(empty_db)
    assert migrate.current_revision(empty_db) == head
    tables = set(inspect(empty_db.engine).get_table_names())
    assert {"users", "teams", "outbound_messages", "engine_leases"} <= tables
    migrate.downgrade(empty_db, "-1")
    assert migrate.current_revision(empty_db) != head
    migrate.upgrade(empty_db)
    migrate.upgrade(empty_db)  # safe to call twice
    assert migrate.current_revision(empty_db) == head


def test_models_match_migrations(empty_db: Database) -> None:
    migrate.upgrade(empty_db)
    with empty_db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(ctx, metadata)
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
