"""The outbox and dispatcher on both databases, through a cycle of the real runner."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.databases import wipe
from tocsin import bootstrap
from tocsin.bootstrap import Container
from tocsin.channels.base import Delivered, DeliveryError, Envelope, Recording
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications import actions, repo
from tocsin.settings import Settings


def _enqueue(container: Container, key: str = "k1") -> None:
    with container.db.transaction() as tx:
        actions.enqueue(
            tx,
            dedup_key=key,
            channel="email",
            recipient="ada@example.com",
            subject="s",
            body="b",
            now=container.clock.now(),
        )


def test_enqueue_is_idempotent_by_dedup_key(container: Container) -> None:
    _enqueue(container)
    _enqueue(container)
    with container.db.read() as tx:
        assert repo.count_by_status(tx) == {"pending": 1}


def test_cycle_sends_due_message_once(container: Container, email_channel: Recording) -> None:
    _enqueue(container)
    container.runner.run_cycle()
    container.runner.run_cycle()
    assert [e.dedup_key for e in email_channel.sent] == ["k1"]
    with container.db.read() as tx:
        (message,) = repo.list_messages(tx)
        assert message.status == "sent"
        assert message.attempts == 1
        (attempt,) = repo.list_attempts(tx, message.id)
        assert attempt.outcome == "sent"


def test_temporary_failure_retries_with_backoff(
    container: Container, email_channel: Recording, clock: FrozenClock
) -> None:
    email_channel.fail_next.append(DeliveryError("421 try later", temporary=True))
    _enqueue(container)
    container.runner.run_cycle()
    with container.db.read() as tx:
        (message,) = repo.list_messages(tx)
        assert message.status == "retry"
        assert message.next_attempt_at == clock.now() + timedelta(seconds=30)
    container.runner.run_cycle()
    assert email_channel.sent == []  # backoff not yet over
    clock.advance(seconds=30)
    container.runner.run_cycle()
    assert len(email_channel.sent) == 1


def test_permanent_failure_is_final(container: Container, email_channel: Recording) -> None:
    email_channel.fail_next.append(DeliveryError("550 no such user", temporary=False))
    _enqueue(container)
    container.runner.run_cycle()
    with container.db.read() as tx:
        (message,) = repo.list_messages(tx)
        assert message.status == "failed"
        assert message.last_error == "550 no such user"


class _Gate:
    """A channel whose sends wait until four are in flight at once (or fail after 10 s)."""

    name = "email"

    def __init__(self) -> None:
        self.barrier = threading.Barrier(4, timeout=10)
        self.lock = threading.Lock()
        self.sent: list[str] = []

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        self.barrier.wait()
        with self.lock:
            self.sent.append(envelope.dedup_key)
        return Delivered()


def test_sends_in_parallel_waves_and_each_message_once(
    settings: Settings, clock: FrozenClock
) -> None:
    gate = _Gate()
    c = bootstrap.build(settings, clock=clock, channels={"email": gate}, configure_logging=False)
    try:
        for i in range(8):
            _enqueue(c, f"k{i}")
        report = c.runner.run_cycle()
        assert report.failed == {}
        assert report.work["dispatcher"] == 8
        assert sorted(gate.sent) == [f"k{i}" for i in range(8)]
        with c.db.read() as tx:
            assert repo.count_by_status(tx) == {"sent": 8}
    finally:
        c.runner.stop()
        wipe(c.db)
        c.db.dispose()
