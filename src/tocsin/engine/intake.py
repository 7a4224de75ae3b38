"""Intake module: turns accepted events into alerts and incidents, in arrival order."""

from __future__ import annotations

from tocsin.engine.module import CycleContext
from tocsin.incidents import intake

BATCH = 500
MAX_BATCHES = 40  # per cycle, so other modules (timers, dispatch) keep their turn


class Intake:
    """Processes the durable intake queue; each batch is one transaction.

    A crash mid-batch rolls the batch back: those events are processed again by the
    next cycle on any instance, and nothing is half done.
    """

    name = "intake"
    version = 1

    def run(self, ctx: CycleContext) -> int:
        done = 0
        for _ in range(MAX_BATCHES):
            with ctx.db.transaction() as tx:
                count = intake.process_pending(tx, now=ctx.clock.now(), limit=BATCH)
            done += count
            if count < BATCH:
                break
        return done
