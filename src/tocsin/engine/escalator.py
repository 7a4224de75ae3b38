"""Escalator module: takes due escalation steps and queues the pages they make."""

from __future__ import annotations

from tocsin.engine.module import CycleContext
from tocsin.incidents import paging

BATCH = 50
MAX_BATCHES = 40


class Escalator:
    """Pages the due level of each escalating incident, one short transaction per batch.

    A step is taken by exactly one engine (compare-and-set on the state's version) and
    its pages are inserted into the outbox in the same transaction, so a crash either
    loses the whole step (it is still due and is taken again) or none of it.
    """

    name = "escalator"
    version = 1

    def __init__(self, config: paging.PagingConfig, *, skip_locked: bool = False) -> None:
        self.config = config
        self.skip_locked = skip_locked

    def run(self, ctx: CycleContext) -> int:
        done = 0
        for _ in range(MAX_BATCHES):
            with ctx.db.transaction() as tx:
                count = paging.run_due(
                    tx,
                    now=ctx.clock.now(),
                    limit=BATCH,
                    skip_locked=self.skip_locked,
                    config=self.config,
                )
            done += count
            if count < BATCH:
                break
        return done
