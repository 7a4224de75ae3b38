"""Handoffs module: plans shift starts and ends a day ahead, tells people when theirs come.

Also asks teammates to take open cover requests. Every row moves once (compare-and-set),
and every message has a dedup key per row and person, so a crash or a second engine
never sends twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from tocsin.engine.module import CycleContext
from tocsin.notifications import actions as outbox
from tocsin.schedules import handoffs
from tocsin.schedules.handoffs import Outgoing

BATCH: Final = 100
MAX_BATCHES: Final = 20
# Planning renders every schedule; once a minute is plenty for a day-ahead horizon
# (rows are durable: a new process simply plans again on its first cycle).
PLAN_EVERY: Final = timedelta(minutes=1)


class Handoffs:
    name = "handoffs"
    version = 1

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._planned_at: datetime | None = None

    def run(self, ctx: CycleContext) -> int:
        now = ctx.clock.now()
        done = 0
        last = self._planned_at
        if last is None or now < last or now - last >= PLAN_EVERY:
            with ctx.db.transaction() as tx:
                done += handoffs.plan(tx, now=now)
            self._planned_at = now
        for _ in range(MAX_BATCHES):
            with ctx.db.transaction() as tx:
                rows = handoffs.due(tx, now=now, limit=BATCH)
                for row in rows:
                    ready = handoffs.prepare(tx, row, now=now, base_url=self.base_url)
                    note_id = ready.note_id if ready else None
                    if handoffs.settle(tx, row, now=now, sent=ready is not None, note_id=note_id):
                        done += 1
                        if ready is not None:
                            _queue(tx, f"handoff:{row.id}", ready, now, kind=row.kind)
            if len(rows) < BATCH:
                break
        with ctx.db.transaction() as tx:
            for request in handoffs.unasked_cover_requests(tx, limit=BATCH):
                asks = handoffs.claim_cover_asks(tx, request, now=now, base_url=self.base_url)
                for ask in asks:
                    _queue(tx, f"cover:{request.id}:{ask.user_id}", ask, now, kind="cover")
                done += 1
        return done


def _queue(tx: Session, key: str, out: Outgoing, now: datetime, *, kind: str) -> None:
    outbox.enqueue(
        tx,
        dedup_key=key,
        channel="email",
        recipient=out.recipient,
        user_id=out.user_id,
        subject=out.message.subject,
        body=out.message.body,
        context={"kind": f"handoff.{kind}" if kind != "cover" else "cover.asked"},
        now=now,
    )
