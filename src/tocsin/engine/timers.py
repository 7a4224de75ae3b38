"""Timers module: incident ack timeouts, snoozes, auto-resolve, held alerts, missed heartbeats."""

from __future__ import annotations

from tocsin.engine.module import CycleContext
from tocsin.incidents import heartbeats, timers

BATCH = 100


class Timers:
    """Advances due-time rows; every transition is compare-and-set on a version column."""

    name = "timers"
    version = 1

    def run(self, ctx: CycleContext) -> int:
        done = 0
        with ctx.db.transaction() as tx:
            done += heartbeats.check_due(tx, now=ctx.clock.now(), limit=BATCH)
        while True:
            with ctx.db.transaction() as tx:
                count = timers.run_due(tx, now=ctx.clock.now(), limit=BATCH)
            done += count
            if count < BATCH:
                return done
