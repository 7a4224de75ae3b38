"""The cached roster on both databases: on-call with phones, written atomically, only on change."""

from __future__ import annotations

import json
import stat
from datetime import timedelta
from pathlib import Path

from tests.scenarios.paging_support import SYSTEM
from tocsin.bootstrap import Container
from tocsin.cli import demo, demo_paging, demo_schedules
from tocsin.cli.schedules import offline_rows
from tocsin.engine.module import CycleContext
from tocsin.engine.roster import Roster, roster_path
from tocsin.people import contacts
from tocsin.people import repo as people_repo
from tocsin.schedules import actions as schedule_actions
from tocsin.schedules import repo as schedule_repo


def _seed(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        demo.seed(tx, now=now, base_url="http://localhost:8080")
        demo_schedules.seed(tx, now=now)
        assert demo_paging.seed(tx, now=now)
        assert not demo_paging.seed(tx, now=now)


def _ctx(container: Container) -> CycleContext:
    return CycleContext(db=container.db, clock=container.clock, instance_id="test")


def test_roster_has_oncall_with_phones_and_is_rewritten_only_on_change(
    container: Container,
) -> None:
    _seed(container)
    data_dir = Path(container.settings.data_dir)
    module = Roster(data_dir, every=timedelta(seconds=60))
    path = roster_path(data_dir)
    assert module.run(_ctx(container)) == 1
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = json.loads(path.read_text())
    assert first["generated_at"] == container.clock.now().isoformat()

    rows = offline_rows(first, container.clock.now())
    [payments] = [r for r in rows if r["schedule"] == "Payments primary"]
    [person] = payments["oncall"]
    assert person["phones"] and person["phones"][0].startswith("+155555501")
    assert {"kind": "email", "address": person["email"]} in person["methods"]
    assert person["time_zone"]
    policy = next(p for p in first["policies"] if p["name"] == "Payments escalation")
    assert policy["team"] == "Payments" and policy["level_1_users"] == []
    # Seven days of shifts, so an old file still answers "who is on call now".
    payments_schedule = next(s for s in first["schedules"] if s["name"] == "Payments primary")
    ends = [s["end_at"] for s in payments_schedule["shifts"]]
    assert max(ends) >= (container.clock.now() + timedelta(days=7)).isoformat()

    container.clock.advance(timedelta(seconds=30))
    assert module.run(_ctx(container)) == 0  # at most every 60 s
    container.clock.advance(timedelta(seconds=60))
    assert module.run(_ctx(container)) == 0  # nothing changed: not rewritten
    assert json.loads(path.read_text())["generated_at"] == first["generated_at"]
    # A fresh process compares with the file, so a restart does not rewrite it either.
    assert Roster(data_dir).run(_ctx(container)) == 0

    with container.db.transaction() as tx:
        user = people_repo.get_user_by_email(tx, person["email"])
        contacts.add_method(
            tx,
            user_id=user.id,
            kind="voice",
            address="+15555550199",
            label="Desk",
            actor=SYSTEM,
            now=container.clock.now(),
            verified=True,
        )
    container.clock.advance(timedelta(seconds=60))
    assert module.run(_ctx(container)) == 1
    second = json.loads(path.read_text())
    assert second["generated_at"] == container.clock.now().isoformat()
    assert "+15555550199" in second["people"][person["id"]]["phones"]
    assert [p.name for p in data_dir.iterdir() if p.name.startswith(".roster-")] == []


def test_offline_rows_follow_the_rendered_shifts_and_overrides(container: Container) -> None:
    _seed(container)
    now = container.clock.now()
    with container.db.transaction() as tx:
        schedule = schedule_repo.find_schedule_by_name(tx, "Payments primary")
        assert schedule is not None
        stand_in = people_repo.get_user_by_email(tx, "admin@example.com")
        schedule_actions.add_override(
            tx,
            schedule_id=schedule.id,
            user_id=stand_in.id,
            start_at=now + timedelta(days=2),
            end_at=now + timedelta(days=2, hours=4),
            actor=SYSTEM,
            now=now,
        )
    Roster(Path(container.settings.data_dir)).run(_ctx(container))
    roster = json.loads(roster_path(Path(container.settings.data_dir)).read_text())
    later = now + timedelta(days=2, hours=1)
    [row] = [r for r in offline_rows(roster, later) if r["schedule"] == "Payments primary"]
    assert [p["email"] for p in row["oncall"]] == ["admin@example.com"]
    teams = {r["team"] for r in offline_rows(roster, now)}
    assert {"Payments", "Platform", "Legal"} <= teams
