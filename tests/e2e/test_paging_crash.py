"""Paging survives ``kill -9``: 1,000 due escalation steps, a real engine killed 20+ times.

The test process builds the graph (people paged by webhook, one-level policies) and
opens 1,000 incidents, so 1,000 escalation steps are due. Real ``tocsin engine``
processes then take the steps and POST the pages to a local signed-webhook sink
(tests/e2e/paging_sink.py) that answers after a random 5-20 ms, while the test kills
the engine with SIGKILL at random moments (as soon as it is seen working, plus a
random 0-0.8 s) and starts a new one, at least KILLS times. The last engine runs
until every page is out. Audit: every expected page arrived (zero missed), at most one
duplicate per kill (the engine sends one message at a time here, so a kill can repeat
at most the one send in flight; with TOCSIN_DISPATCH_PARALLEL=N the bound is N per
kill), every escalation state took exactly one step, no message left pending, retry
or sending.
The seed is printed (``-s`` shows it; ``PAGING_CRASH_SEED`` replays one).

A second test runs two engines at once on one PostgreSQL, without kills: every page
arrives exactly once. Bounded: every wait has a deadline.
"""

from __future__ import annotations

import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.databases import postgres_database
from tests.e2e.paging_sink import PagingSink, open_incidents, webhook_responders
from tests.e2e.test_engine_processes import EngineProcess, engines, wait_until
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.escalation.tables import EscalationState
from tocsin.kernel.clock import SystemClock
from tocsin.notifications import repo
from tocsin.notifications.tables import OutboundMessage

pytestmark = pytest.mark.slow

SECRET = "e2e-paging-secret-0123456789"
INCIDENTS = 1000
PEOPLE = 4
KILLS = 20
# Sends in flight at once: a kill can leave at most this many sent-but-unrecorded pages.
PARALLEL = 1
# The whole kill-and-restart phase plus the final drain (a generous bound, not a timing
# assertion: the test fails only if paging never completes).
TOTAL_SECONDS = 240.0


def paging_env(database_url: str, **overrides: str) -> dict[str, str]:
    env = {
        "TOCSIN_DATABASE_URL": database_url,
        "TOCSIN_SECRET_KEY": SECRET,  # signs the webhooks; the sink verifies with it
        "TOCSIN_WEBHOOK_ALLOW_PRIVATE": "true",  # the sink is on 127.0.0.1
        "TOCSIN_ENGINE_CYCLE_SECONDS": "0.1",
        # Shorter than a process start (~2 s): a new engine finds the dead one's leases gone.
        "TOCSIN_ENGINE_LEASE_SECONDS": "1.5",
        # A dead engine's claim comes back within 3 s; a live one never outlasts it.
        "TOCSIN_CLAIM_SECONDS": "3",
        "TOCSIN_SEND_TIMEOUT_SECONDS": "1",
        "TOCSIN_RETRY_BASE_SECONDS": "0.2",
        "TOCSIN_MAX_ATTEMPTS": "25",
        "TOCSIN_LOG_FORMAT": "json",
        "TOCSIN_LOG_LEVEL": "warning",
    }
    env.update(overrides)
    return env


def arrange(db: Database, sink: PagingSink) -> dict[str, uuid.UUID]:
    """PEOPLE responders, INCIDENTS incidents with one due step each; expected key → incident."""
    now = SystemClock().now()
    responders = webhook_responders(db, [sink.url(f"p{n}") for n in range(PEOPLE)], now=now)
    opened = open_incidents(db, responders, INCIDENTS, now=now)
    return {who.page_key(incident_id): incident_id for incident_id, who in opened}


def outbox_counts(db: Database) -> dict[str, int]:
    with db.read() as tx:
        return dict(repo.count_by_status(tx))


def progress(db: Database, sink: PagingSink) -> tuple[int, int, int]:
    """Something that changes whenever an engine gets work done."""
    with db.read() as tx:
        states = tx.execute(
            select(func.count()).where(EscalationState.status == "active")
        ).scalar_one()
        sent = tx.execute(select(func.count()).where(OutboundMessage.status == "sent")).scalar_one()
    return int(states), int(sent), sink.count()


def audit(db: Database, sink: PagingSink, expected: dict[str, uuid.UUID]) -> Counter[str]:
    """The invariants common to both tests; returns arrivals per dedup key."""
    arrived = sink.by_dedup_key()
    missed = set(expected) - set(arrived)
    assert not missed, f"{len(missed)} pages never reached the sink: {sorted(missed)[:3]}"
    assert set(arrived) == set(expected), "the sink got pages nobody expected"
    assert sink.bad_signatures == 0
    with db.read() as tx:
        steps = Counter(
            (row.step, row.status) for row in tx.execute(select(EscalationState)).scalars()
        )
        leftover = tx.execute(
            select(func.count()).where(OutboundMessage.status.in_(("pending", "sending", "retry")))
        ).scalar_one()
    assert steps == Counter({(1, "exhausted"): INCIDENTS}), steps
    assert leftover == 0
    assert outbox_counts(db) == {"sent": INCIDENTS}
    return arrived


def all_sent(db: Database) -> bool:
    return outbox_counts(db) == {"sent": INCIDENTS}


def test_kill_9_at_random_moments_misses_no_page(own_database_url: str, tmp_path: Path) -> None:
    seed = int(os.environ.get("PAGING_CRASH_SEED") or random.SystemRandom().randrange(10**9))
    print(f"paging crash test seed {seed} ({own_database_url.split(':')[0]})")
    rng = random.Random(seed)
    db = Database(own_database_url)
    env = paging_env(own_database_url, TOCSIN_DISPATCH_PARALLEL=str(PARALLEL))
    try:
        with (
            PagingSink(SECRET.encode(), delay=(0.005, 0.02), seed=seed) as sink,
            engines() as start,
        ):
            expected = arrange(db, sink)
            begun = time.monotonic()
            kills = 0
            while kills < KILLS:
                assert time.monotonic() - begun < TOTAL_SECONDS, f"only {kills} kills in time"
                engine = start(tmp_path, f"engine-{kills}", env)
                before = progress(db, sink)
                # Kill once it is seen working (or at once when nothing is left to do).
                wait_until(
                    lambda before=before: progress(db, sink) != before or all_sent(db),  # type: ignore[misc]
                    "the engine to get some work done",
                    alive=(engine,),
                    timeout=30,
                )
                time.sleep(rng.uniform(0.0, 0.8))
                engine.check_alive()
                engine.kill9()
                kills += 1
            survivor: EngineProcess = start(tmp_path, "engine-last", env)
            killed_by = time.monotonic() - begun
            print(f"{kills} kills in {killed_by:.1f} s; left: {progress(db, sink)}")
            remaining = max(5.0, TOTAL_SECONDS - killed_by)
            try:
                wait_until(
                    lambda: all_sent(db),
                    "every page to be sent",
                    alive=(survivor,),
                    timeout=remaining,
                )
            finally:
                print(
                    f"outbox: {outbox_counts(db)}; active steps, sent, arrived: "
                    f"{progress(db, sink)}"
                )
            elapsed = time.monotonic() - begun
            arrived = audit(db, sink, expected)
        duplicates = sum(n - 1 for n in arrived.values())
        print(
            f"paging crash test: {INCIDENTS} pages, {kills} kills, {duplicates} duplicates, "
            f"{elapsed:.1f} s, seed {seed}"
        )
        # A kill can only repeat the sends in flight at that moment: at most PARALLEL (1).
        assert duplicates <= kills * PARALLEL, f"{duplicates} duplicates for {kills} kills"
    finally:
        db.dispose()


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    with postgres_database(pg_admin_url, "e2e") as url:
        db = Database(url)
        try:
            migrate.upgrade(db)
        finally:
            db.dispose()
        yield url


@pytest.mark.postgres
def test_two_engines_on_one_postgres_page_each_step_exactly_once(
    pg_url: str, tmp_path: Path
) -> None:
    db = Database(pg_url)
    env = paging_env(
        pg_url,
        TOCSIN_ENGINE_CYCLE_SECONDS="0.05",
        TOCSIN_ENGINE_LEASE_SECONDS="3",
        TOCSIN_CLAIM_SECONDS="10",
        TOCSIN_SEND_TIMEOUT_SECONDS="5",
    )
    try:
        with PagingSink(SECRET.encode(), delay=(0.0, 0.002)) as sink, engines() as start:
            expected = arrange(db, sink)
            both = (start(tmp_path, "engine-a", env), start(tmp_path, "engine-b", env))
            wait_until(lambda: all_sent(db), "every page to be sent", alive=both, timeout=90)
            arrived = audit(db, sink, expected)
        assert Counter(arrived.values()) == Counter({1: INCIDENTS})
        assert Counter(sink.by_message_id().values()) == Counter({1: INCIDENTS})
    finally:
        db.dispose()
