"""Engine heartbeats: readiness counts only instances that cycled recently."""

from __future__ import annotations

from datetime import timedelta

from tocsin.bootstrap import Container
from tocsin.engine import status
from tocsin.kernel.clock import FrozenClock


def _beat(container: Container, instance: str, clock: FrozenClock) -> None:
    with container.db.transaction() as tx:
        now = clock.now()
        status.record_cycle(
            tx, instance_id=instance, hostname="h", pid=1, started_at=now, now=now, duration_ms=1.0
        )


def test_dead_instances_do_not_count(container: Container, clock: FrozenClock) -> None:
    _beat(container, "dead", clock)
    clock.advance(minutes=10)
    _beat(container, "alive", clock)
    health = container.engine_health()
    assert health.ok and health.instances == 1
    assert health.lag_seconds == 0
    clock.advance(seconds=container.settings.engine_ready_seconds + 1)
    late = container.engine_health()
    assert not late.ok and late.instances == 0
    assert late.last_cycle_at == clock.now() - timedelta(
        seconds=container.settings.engine_ready_seconds + 1
    )


def test_purge_forgets_long_dead_instances(container: Container, clock: FrozenClock) -> None:
    _beat(container, "dead", clock)
    clock.advance(days=2)
    with container.db.transaction() as tx:
        assert status.purge_stale(tx, now=clock.now(), older_than=timedelta(days=1)) == 1
