"""The demo's incident history and alert trickle, on both databases."""

from __future__ import annotations

import random

from sqlalchemy import select

from tocsin.bootstrap import Container
from tocsin.cli import demo, demo_alerts
from tocsin.incidents.intake import process_pending
from tocsin.incidents.tables import Alert, ChangeEvent, InboundEvent, Incident


def test_history_has_every_state_and_is_seeded_once(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        demo.seed(tx, now=now, base_url="http://localhost:8080")
        assert demo_alerts.seed_history(tx, now=now)
        assert not demo_alerts.seed_history(tx, now=now)
    with container.db.read() as tx:
        states = [
            i.status for i in tx.execute(select(Incident).order_by(Incident.number)).scalars()
        ]
        assert states == ["resolved", "resolved", "acknowledged", "triggered"]
        suppressed = tx.execute(select(Alert).where(Alert.suppressed.is_(True))).scalars().all()
        assert len(suppressed) == len(demo_alerts.NOTIFICATIONS)
        assert tx.query(ChangeEvent).count() == len(demo_alerts.CHANGES)


def test_the_trickle_sends_every_kind_of_event_through_the_intake(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        demo.seed(tx, now=now, base_url="http://localhost:8080")
    trickle = demo_alerts.Trickle(container)
    trickle.random = random.Random(7)
    kinds = set()
    for _ in range(60):
        kinds.add(trickle.send_one())
        with container.db.transaction() as tx:
            process_pending(tx, now=now)
    assert kinds == {"alert", "resolve", "change", "notification"}
    with container.db.read() as tx:
        assert tx.query(InboundEvent).filter(InboundEvent.processed_at.is_(None)).count() == 0
        assert tx.query(Incident).count() > 0
