"""Database handle: engine creation, SQLite pragmas, read and write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


def sqlite_url(data_dir: Path) -> str:
    """The embedded database inside the data directory (created on first use)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite+pysqlite:///{data_dir / 'tocsin.sqlite3'}"


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` URLs as people write them; use the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed.render_as_string(hide_password=False)


def _configure_sqlite(engine: Engine, synchronous: str) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=ON")
        # NORMAL (default) survives a process crash; FULL also survives power loss.
        cur.execute(f"PRAGMA synchronous={synchronous}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Writers take the lock up front (no deadlock on upgrade from read to write);
        # readers use a deferred transaction and never block behind a writer in WAL.
        if conn.get_execution_options().get("tocsin_readonly"):
            conn.exec_driver_sql("BEGIN")
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """One engine per process; hands out transactions. Safe to share across threads."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        sqlite_synchronous: str = "NORMAL",
    ) -> None:
        if sqlite_synchronous not in ("NORMAL", "FULL"):
            raise ValueError("sqlite_synchronous must be NORMAL or FULL")
        self.url = normalise_url(url)
        dialect = make_url(self.url).get_backend_name()
        self.dialect = dialect
        if dialect == "sqlite":
            self.engine = create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            )
            _configure_sqlite(self.engine, sqlite_synchronous)
        else:
            self.engine = create_engine(
                self.url,
                echo=echo,
                pool_size=pool_size,
                max_overflow=10,
                pool_pre_ping=True,
                connect_args={"connect_timeout": 5},
            )
        # The hot write path (the intake's group commit) checks a connection out many times
        # a second; a liveness ping on each checkout would double its round trips. Its own
        # small pool skips the ping: a dead connection fails that one commit (the waiting
        # senders get a retryable 503) and is replaced.
        self._bulk_engine = (
            create_engine(self.url, echo=echo, pool_size=2, max_overflow=2, pool_pre_ping=False)
            if dialect != "sqlite"
            else self.engine
        )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)
        self._bulk_sessions = sessionmaker(
            self._bulk_engine, expire_on_commit=False, autoflush=False
        )
        self._ro_sessions = sessionmaker(
            self.engine.execution_options(tocsin_readonly=True),
            expire_on_commit=False,
            autoflush=True,
        )

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write transaction: committed when the block ends, rolled back on error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def bulk_transaction(self) -> Iterator[Session]:
        """A write transaction for high-rate appends (no liveness ping on checkout)."""
        with self._bulk_sessions() as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction; anything written in it is rolled back."""
        with self._ro_sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    def ping(self) -> None:
        """Raise if the database cannot be reached."""
        with self.engine.connect().execution_options(tocsin_readonly=True) as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
        if self._bulk_engine is not self.engine:
            self._bulk_engine.dispose()


def rowcount(result: Result[Any]) -> int:
    """Rows changed by an UPDATE or DELETE: the compare-and-set verdict (1 = mine)."""
    return int(cast(CursorResult[Any], result).rowcount)
