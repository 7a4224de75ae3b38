"""Housekeeping module: drops expired sessions, old sign-in failures, dead engine heartbeats,
and accepted events processed long ago (their alerts and incidents keep what matters)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from tocsin.db.session import rowcount
from tocsin.engine import status
from tocsin.engine.module import CycleContext
from tocsin.incidents import intake
from tocsin.people import actions as people_actions
from tocsin.people.tables import LoginFailure

KEEP_LOGIN_FAILURES = timedelta(days=1)
FORGET_ENGINES_AFTER = timedelta(days=1)
KEEP_PROCESSED_EVENTS = timedelta(days=7)
PURGE_BATCH = 5000


class Housekeeping:
    name = "housekeeping"
    version = 1

    def run(self, ctx: CycleContext) -> int:
        now = ctx.clock.now()
        with ctx.db.transaction() as tx:
            removed = people_actions.purge_expired_sessions(tx, now=now)
            result = tx.execute(
                delete(LoginFailure).where(LoginFailure.at < now - KEEP_LOGIN_FAILURES)
            )
            removed += rowcount(result)
            removed += status.purge_stale(tx, now=now, older_than=FORGET_ENGINES_AFTER)
            removed += intake.purge_processed(
                tx, before=now - KEEP_PROCESSED_EVENTS, limit=PURGE_BATCH
            )
        return removed
