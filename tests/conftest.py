"""Shared fixtures: databases on SQLite and PostgreSQL, frozen clock, container, recording channels."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import postgres_admin_url, postgres_database, sqlite_database, wipe
from tests.smtp import SmtpServer
from tocsin import bootstrap
from tocsin.channels.base import Recording
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.kernel.clock import FrozenClock
from tocsin.settings import Settings

_PG_URL, _PG_SKIP = postgres_admin_url()


def pytest_report_header() -> list[str]:
    return [f"postgres: {_PG_URL or 'SKIPPED - ' + _PG_SKIP}"]


@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    if _PG_URL is None:
        pytest.skip(_PG_SKIP)
    return _PG_URL


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One migrated database per backend for the whole session."""
    if request.param == "sqlite":
        url = sqlite_database(tmp_path_factory.mktemp("sqlite"))
        db = Database(url)
        migrate.upgrade(db)
        db.dispose()
        yield url
        return
    if _PG_URL is None:
        pytest.skip(_PG_SKIP)
    with postgres_database(_PG_URL, "s") as url:
        db = Database(url)
        migrate.upgrade(db)
        db.dispose()
        yield url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        base_url="http://tocsin.test",
        secret_key="test-secret-key-0123456789",  # type: ignore[arg-type]
        engine_cycle_seconds=0.2,
        retry_base_seconds=30,
        login_max_failures=5,
    )


@pytest.fixture
def email_channel() -> Recording:
    return Recording("email")


@pytest.fixture
def container(
    settings: Settings, clock: FrozenClock, email_channel: Recording
) -> Iterator[bootstrap.Container]:
    c = bootstrap.build(
        settings, clock=clock, channels={"email": email_channel}, configure_logging=False
    )
    try:
        yield c
    finally:
        c.runner.stop()
        wipe(c.db)
        c.db.dispose()


@pytest.fixture
def db(container: bootstrap.Container) -> Database:
    return container.db


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 accepting and recording every message."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
