"""Real `tocsin engine` processes against a real SMTP server: kill -9, two engines, old versions.

Every wait is a polling loop bounded by a deadline; nothing asserts how fast anything is.
Engine processes are always stopped (SIGTERM, then SIGKILL) in ``finally`` blocks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select, update

from tests.databases import postgres_database
from tests.smtp import SmtpServer
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.engine.tables import EngineInstance, EngineLease
from tocsin.kernel.clock import SystemClock
from tocsin.notifications import actions, repo
from tocsin.notifications.tables import MessageAttempt, OutboundMessage

pytestmark = pytest.mark.slow

DEADLINE_SECONDS = 60.0
T = TypeVar("T")


# -- processes --------------------------------------------------------------------------------


class EngineProcess:
    """One `python -m tocsin --data-dir DIR engine` child, configured by TOCSIN_* variables."""

    def __init__(self, workdir: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        data_dir = workdir / f"{name}-data"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tocsin", "--data-dir", str(data_dir), "engine"],
                env={**inherited, **env},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def check_alive(self) -> None:
        code = self.proc.poll()
        if code is not None:
            raise AssertionError(f"engine {self.name} exited with {code}:\n{self.output()[-4000:]}")

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=DEADLINE_SECONDS)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit; always reaps the child. Safe to call twice."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait(timeout=DEADLINE_SECONDS)


def engine_env(database_url: str, smtp: SmtpServer, **overrides: str) -> dict[str, str]:
    env = {
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_SMTP_HOST": smtp.host,
        "TOCSIN_SMTP_PORT": str(smtp.port),
        "TOCSIN_ENGINE_CYCLE_SECONDS": "0.2",
        "TOCSIN_ENGINE_LEASE_SECONDS": "3",
        # The dispatcher refuses a claim that does not outlast the send timeout.
        "TOCSIN_CLAIM_SECONDS": "5",
        "TOCSIN_SEND_TIMEOUT_SECONDS": "4",
        "TOCSIN_RETRY_BASE_SECONDS": "1",
        "TOCSIN_MAX_ATTEMPTS": "5",
        "TOCSIN_SECRET_KEY": "e2e-secret-key-0123456789",
        "TOCSIN_LOG_FORMAT": "json",
    }
    env.update(overrides)
    return env


@contextmanager
def engines() -> Iterator[Callable[..., EngineProcess]]:
    """Yields a starter; every engine it started is stopped on the way out, whatever happened."""
    started: list[EngineProcess] = []

    def start(workdir: Path, name: str, env: dict[str, str]) -> EngineProcess:
        process = EngineProcess(workdir, name, env)
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()


def wait_until(
    probe: Callable[[], T | None],
    what: str,
    *,
    alive: tuple[EngineProcess, ...] = (),
    timeout: float = DEADLINE_SECONDS,
) -> T:
    """Poll ``probe`` until it returns something truthy; fail after ``timeout`` or if an engine died."""
    deadline = time.monotonic() + timeout
    while True:
        for process in alive:
            process.check_alive()
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "\n".join(f"--- {p.name}\n{p.output()[-3000:]}" for p in alive)
            raise AssertionError(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.05)


# -- database ---------------------------------------------------------------------------------


@pytest.fixture
def database_url(own_database_url: str) -> str:
    """A fresh, migrated database of its own (the engines share it with the test process)."""
    return own_database_url


@pytest.fixture
def pg_url(pg_admin_url: str, tmp_path: Path) -> Iterator[str]:
    with postgres_database(pg_admin_url, "e2e") as url:
        db = Database(url)
        try:
            migrate.upgrade(db)
        finally:
            db.dispose()
        yield url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    handle = Database(database_url)
    try:
        yield handle
    finally:
        handle.dispose()


def enqueue(db: Database, key: str) -> uuid.UUID:
    with db.transaction() as tx:
        return actions.enqueue(
            tx,
            dedup_key=key,
            channel="email",
            recipient=f"{key.replace(':', '-')}@example.com",
            subject=f"page {key}",
            body="Something is on fire.",
            now=SystemClock().now(),
            max_attempts=5,
        ).id


def message_state(db: Database, message_id: uuid.UUID) -> tuple[str, int]:
    with db.read() as tx:
        message = repo.get_message(tx, message_id)
        return message.status, message.attempts


def attempt_outcomes(db: Database, message_id: uuid.UUID) -> list[str | None]:
    with db.read() as tx:
        return [a.outcome for a in repo.list_attempts(tx, message_id)]


def scalar(db: Database, stmt: Any) -> Any:
    with db.read() as tx:
        return tx.execute(stmt).scalar_one_or_none()


# -- tests ------------------------------------------------------------------------------------


def test_kill_9_while_a_message_is_claimed_then_a_new_engine_sends_it(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    with SmtpServer("hang") as smtp, engines() as start:
        message_id = enqueue(db, "page:kill9")
        first = start(tmp_path, "engine-1", engine_env(database_url, smtp))
        wait_until(
            lambda: smtp.blocked.is_set() and message_state(db, message_id)[0] == "sending",
            "the first engine to claim the message and block inside the SMTP DATA",
            alive=(first,),
        )
        first.kill9()
        # The kill came before any result: the claim is all that is left of the first try.
        assert message_state(db, message_id) == ("sending", 1)
        assert attempt_outcomes(db, message_id) == [None], first.output()[-3000:]

        smtp.release()
        second = start(tmp_path, "engine-2", engine_env(database_url, smtp))
        wait_until(
            lambda: message_state(db, message_id)[0] == "sent",
            "the second engine to send the message after the claim expired",
            alive=(second,),
        )
        attempts = message_state(db, message_id)[1]
        assert attempts >= 2
        outcomes = attempt_outcomes(db, message_id)
        assert outcomes[0] == "claim_expired"
        assert outcomes[-1] == "sent"
        keys = smtp.dedup_keys()
        assert "page:kill9" in keys
        assert set(keys) == {"page:kill9"}


@pytest.mark.postgres
def test_two_engines_on_one_postgres_send_each_message_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    db = Database(pg_url)
    try:
        with SmtpServer() as smtp, engines() as start:
            keys = [f"page:{n:02d}" for n in range(40)]
            for key in keys:
                enqueue(db, key)
            env = engine_env(pg_url, smtp, TOCSIN_ENGINE_CYCLE_SECONDS="0.05")
            both = (start(tmp_path, "engine-a", env), start(tmp_path, "engine-b", env))
            wait_until(
                lambda: scalar(db, select(func.count()).select_from(EngineInstance)) == 2,
                "both engines to record a heartbeat",
                alive=both,
            )
            wait_until(
                lambda: _counts(db) == {"sent": 40},
                "all 40 messages to be sent",
                alive=both,
            )
            assert Counter(smtp.dedup_keys()) == Counter(keys)
            sent_attempts = scalar(
                db,
                select(func.count())
                .select_from(MessageAttempt)
                .where(MessageAttempt.outcome == "sent"),
            )
            assert sent_attempts == 40
    finally:
        db.dispose()


def _counts(db: Database) -> dict[str, int]:
    with db.read() as tx:
        return repo.count_by_status(tx)


def test_an_engine_with_an_older_module_version_never_dispatches(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    with db.transaction() as tx:
        tx.add(
            EngineLease(
                module="dispatcher", version=999, holder=None, updated_at=SystemClock().now()
            )
        )
    message_id = enqueue(db, "page:versions")
    with SmtpServer() as smtp, engines() as start:
        engine = start(tmp_path, "engine-old", engine_env(database_url, smtp))
        last_cycle = select(func.max(EngineInstance.last_cycle_at))
        seen = {wait_until(lambda: scalar(db, last_cycle), "a heartbeat", alive=(engine,))}

        def more_cycles() -> bool:
            seen.add(scalar(db, last_cycle))
            return len(seen) >= 4  # the first heartbeat and at least three cycles after it

        wait_until(more_cycles, "several engine cycles", alive=(engine,))
        assert message_state(db, message_id) == ("pending", 0)
        assert attempt_outcomes(db, message_id) == []
        assert smtp.received() == []
        with db.read() as tx:
            row = tx.get(EngineLease, "dispatcher")
            assert row is not None
            assert (row.version, row.holder) == (999, None)

        with db.transaction() as tx:
            tx.execute(
                update(EngineLease).where(EngineLease.module == "dispatcher").values(version=1)
            )
        wait_until(
            lambda: message_state(db, message_id)[0] == "sent",
            "the message to be sent once the row's version matches",
            alive=(engine,),
        )
        assert smtp.dedup_keys() == ["page:versions"]
        assert scalar(db, select(OutboundMessage.attempts)) == 1
