"""The demo schedules on both databases: every team shows someone, seeding twice is a no-op."""

from __future__ import annotations

from tocsin.bootstrap import Container
from tocsin.cli import demo, demo_schedules
from tocsin.people import repo as people_repo
from tocsin.schedules import repo
from tocsin.schedules.tables import OverrideRow, TimeOffRow


def test_demo_schedules_cover_every_team_and_are_idempotent(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        demo.seed(tx, now=now, base_url="http://localhost:8080")
        assert demo_schedules.seed(tx, now=now)
        assert not demo_schedules.seed(tx, now=now)
    with container.db.read() as tx:
        names = {s.name for s in repo.list_schedules(tx)}
        assert {"Payments primary", "Payments backup", "Platform primary", "Incident Commander",
                "Incident Commander shadow", "Legal business hours"} <= names  # fmt: skip
        assert len(repo.list_overrides(tx, [s.id for s in repo.list_schedules(tx)])) == 1
        assert tx.query(TimeOffRow).count() == 1 and tx.query(OverrideRow).count() == 1
        for team in people_repo.list_teams(tx):
            assert repo.list_schedules(tx, team_id=team.id), team.name
        # Platform follows the sun: three regional layers, each with someone at its hours.
        platform = repo.find_schedule_by_name(tx, "Platform primary")
        assert platform is not None and len(platform.layers) == 3
        for hour in (3, 10, 18):
            at = now.replace(hour=hour)
            [entry] = repo.oncall_of(tx, [platform], at=at)
            assert entry.now, hour
        ic = repo.find_schedule_by_name(tx, "Incident Commander")
        assert ic is not None and ic.layers[0].shadows
