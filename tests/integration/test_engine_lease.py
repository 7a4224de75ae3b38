"""Module leases and the dispatcher's compare-and-set transitions, on both databases."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from tocsin.db.session import Database
from tocsin.engine import lease
from tocsin.engine.tables import EngineLease
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications import actions, repo
from tocsin.notifications.actions import Claim
from tocsin.notifications.tables import OutboundMessage

TTL = timedelta(seconds=30)
MODULE = "dispatcher"


def _acquire(db: Database, clock: FrozenClock, holder: str, version: int = 1) -> bool:
    with db.transaction() as tx:
        return lease.acquire(
            tx, module=MODULE, version=version, holder=holder, now=clock.now(), ttl=TTL
        )


def _lease(db: Database) -> EngineLease:
    """A detached copy of the lease row (read transactions roll back and expire their rows)."""
    with db.transaction() as tx:
        row = tx.get(EngineLease, MODULE)
        assert row is not None
        tx.expunge(row)
        return row


# -- leases -----------------------------------------------------------------------------------


def test_first_holder_takes_the_lease(db: Database, clock: FrozenClock) -> None:
    assert _acquire(db, clock, "a")
    row = _lease(db)
    assert (row.holder, row.version, row.lease_expires_at) == ("a", 1, clock.now() + TTL)


def test_second_holder_is_refused_while_the_lease_is_valid(
    db: Database, clock: FrozenClock
) -> None:
    assert _acquire(db, clock, "a")
    clock.advance(TTL - timedelta(seconds=1))
    assert not _acquire(db, clock, "b")
    clock.advance(seconds=1)  # exactly at the deadline the lease still holds
    assert not _acquire(db, clock, "b")
    assert _lease(db).holder == "a"


def test_lease_is_taken_over_after_expiry(db: Database, clock: FrozenClock) -> None:
    assert _acquire(db, clock, "a")
    clock.advance(TTL + timedelta(microseconds=1))
    assert _acquire(db, clock, "b")
    assert _lease(db).holder == "b"
    assert not _acquire(db, clock, "a")  # the old holder lost it


def test_holder_renews_its_lease(db: Database, clock: FrozenClock) -> None:
    assert _acquire(db, clock, "a")
    clock.advance(seconds=20)
    assert _acquire(db, clock, "a")
    assert _lease(db).lease_expires_at == clock.now() + TTL
    clock.advance(seconds=20)  # 40 s after the first take: alive only thanks to the renewal
    assert not _acquire(db, clock, "b")


def test_older_module_version_never_takes_the_lease(db: Database, clock: FrozenClock) -> None:
    with db.transaction() as tx:
        tx.add(EngineLease(module=MODULE, version=2, holder=None, updated_at=clock.now()))
    assert not _acquire(db, clock, "old", version=1)
    clock.advance(days=1)
    assert not _acquire(db, clock, "old", version=1)
    row = _lease(db)
    assert (row.holder, row.version) == (None, 2)
    assert _acquire(db, clock, "new", version=2)


def test_newer_version_takes_over_after_the_old_lease_expires_then_old_is_refused(
    db: Database, clock: FrozenClock
) -> None:
    assert _acquire(db, clock, "old", version=1)
    assert not _acquire(db, clock, "new", version=2)  # old lease still valid
    clock.advance(TTL + timedelta(seconds=1))
    assert _acquire(db, clock, "new", version=2)
    assert _lease(db).version == 2
    clock.advance(TTL + timedelta(seconds=1))  # even once the new lease lapses...
    assert not _acquire(db, clock, "old", version=1)  # ...the old version stays out
    assert _lease(db).holder == "new"


def test_release_frees_the_lease_at_once_and_is_safe_twice(
    db: Database, clock: FrozenClock
) -> None:
    assert _acquire(db, clock, "a")
    with db.transaction() as tx:
        lease.release(tx, module=MODULE, holder="b", now=clock.now())  # not b's: no effect
    assert _lease(db).holder == "a"
    for _ in range(2):
        with db.transaction() as tx:
            lease.release(tx, module=MODULE, holder="a", now=clock.now())
    row = _lease(db)
    assert (row.holder, row.lease_expires_at) == (None, None)
    assert _acquire(db, clock, "b")


# -- dispatcher compare-and-set -----------------------------------------------------------------


def _enqueue(db: Database, clock: FrozenClock, key: str = "k1", max_attempts: int = 5) -> uuid.UUID:
    with db.transaction() as tx:
        message = actions.enqueue(
            tx,
            dedup_key=key,
            channel="email",
            recipient="ada@example.com",
            subject="s",
            body="b",
            now=clock.now(),
            max_attempts=max_attempts,
        )
        return message.id


def _claim(db: Database, clock: FrozenClock, holder: str, limit: int = 10) -> list[Claim]:
    with db.transaction() as tx:
        return actions.claim_due(
            tx, now=clock.now(), holder=holder, claim_for=timedelta(seconds=60), limit=limit
        )


def _message(db: Database, message_id: uuid.UUID) -> OutboundMessage:
    with db.transaction() as tx:
        row = repo.get_message(tx, message_id)
        tx.expunge(row)
        return row


def _expire(db: Database, clock: FrozenClock) -> int:
    with db.transaction() as tx:
        return actions.expire_claims(tx, now=clock.now(), limit=10)


def test_second_claim_gets_nothing_after_the_first(db: Database, clock: FrozenClock) -> None:
    message_id = _enqueue(db, clock)
    (first,) = _claim(db, clock, "a")
    assert _claim(db, clock, "b") == []
    row = _message(db, message_id)
    assert (row.status, row.claimed_by, row.attempts, row.version) == ("sending", "a", 1, 1)
    assert first.version == row.version


def test_a_transition_with_a_version_read_before_the_claim_changes_nothing(
    db: Database, clock: FrozenClock
) -> None:
    """Both instances read the row at version 0; the conditional UPDATE lets only one move it."""
    message_id = _enqueue(db, clock)
    with db.transaction() as tx:
        (claim,) = actions.claim_due(
            tx, now=clock.now(), holder="a", claim_for=timedelta(seconds=60), limit=1
        )
        # "b" runs the same compare-and-set with the version it read before "a" committed.
        stale = actions.Claim(**{**claim.__dict__, "version": 0})
        assert not actions.record_sent(tx, claim=stale, provider_ref=None, now=clock.now())
    assert _message(db, message_id).status == "sending"


def test_record_sent_with_a_stale_claim_returns_false(db: Database, clock: FrozenClock) -> None:
    message_id = _enqueue(db, clock)
    (claim,) = _claim(db, clock, "a")
    clock.advance(seconds=61)
    assert _expire(db, clock) == 1
    with db.transaction() as tx:
        assert not actions.record_sent(tx, claim=claim, provider_ref="late", now=clock.now())
    row = _message(db, message_id)
    assert row.status == "retry"
    assert row.provider_ref is None
    assert row.sent_at is None


def test_record_failure_with_a_stale_claim_returns_none(db: Database, clock: FrozenClock) -> None:
    message_id = _enqueue(db, clock)
    (claim,) = _claim(db, clock, "a")
    clock.advance(seconds=61)
    assert _expire(db, clock) == 1
    (again,) = _claim(db, clock, "b")  # another instance already re-claimed it
    with db.transaction() as tx:
        result = actions.record_failure(
            tx,
            claim=claim,
            error="boom",
            temporary=False,
            policy=actions.rules.RetryPolicy(),
            now=clock.now(),
        )
    assert result is None
    row = _message(db, message_id)
    assert (row.status, row.claimed_by, row.version) == ("sending", "b", again.version)


def test_expire_claims_puts_an_expired_send_back_in_line(db: Database, clock: FrozenClock) -> None:
    message_id = _enqueue(db, clock)
    _claim(db, clock, "a")
    clock.advance(seconds=60)
    assert _expire(db, clock) == 0  # at the deadline: not yet expired
    assert _message(db, message_id).status == "sending"
    clock.advance(seconds=1)
    assert _expire(db, clock) == 1
    row = _message(db, message_id)
    assert row.status == "retry"
    assert row.next_attempt_at == clock.now()
    assert row.claim_expires_at is None
    assert row.last_error is not None and "a" in row.last_error
    with db.read() as tx:
        attempts = [
            (a.number, a.outcome, a.finished_at) for a in repo.list_attempts(tx, message_id)
        ]
    assert attempts == [(1, "claim_expired", clock.now())]
    (claim,) = _claim(db, clock, "b")  # due again at once
    assert claim.attempt == 2


def test_expired_claim_of_the_last_attempt_fails_the_message(
    db: Database, clock: FrozenClock
) -> None:
    message_id = _enqueue(db, clock, max_attempts=2)
    for holder in ("a", "b"):
        (claim,) = _claim(db, clock, holder)
        clock.advance(seconds=61)
        assert _expire(db, clock) == 1
    row = _message(db, message_id)
    assert (row.status, row.attempts) == ("failed", 2)
    assert _claim(db, clock, "c") == []
    with db.read() as tx:
        outcomes = [a.outcome for a in repo.list_attempts(tx, message_id)]
    assert outcomes == ["claim_expired", "claim_expired"]
    assert claim.attempt == 2


def test_expire_claims_leaves_other_statuses_alone(db: Database, clock: FrozenClock) -> None:
    pending = _enqueue(db, clock, "pending")
    clock.advance(days=1)
    assert _expire(db, clock) == 0
    with db.read() as tx:
        statuses = dict(tx.execute(select(OutboundMessage.id, OutboundMessage.status)).all())
    assert statuses == {pending: "pending"}
