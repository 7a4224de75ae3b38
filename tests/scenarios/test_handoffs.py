"""Handoffs through the real engine on a frozen clock: once per person, notes, DST, restarts."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from tests.scenarios.harness import Scenario
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people_actions
from tocsin.schedules import actions, personal
from tocsin.schedules.convert import LayerInput
from tocsin.schedules.tables import CoverRequest, HandoffRow

SYSTEM = Actor.system(via="cli")
ALICE, BOB, CAROL = "alice@example.com", "bob@example.com", "carol@example.com"


def _people(scenario: Scenario) -> dict[str, uuid.UUID]:
    ids: dict[str, uuid.UUID] = {}
    with scenario.container.db.transaction() as tx:
        for email, name, zone in [
            (ALICE, "Alice", "Europe/London"),
            (BOB, "Bob", "America/New_York"),
            (CAROL, "Carol", "Europe/London"),
        ]:
            user = people_actions.create_user(
                tx,
                email=email,
                name=name,
                role="responder",
                time_zone=zone,
                password="correct horse battery",
                actor=SYSTEM,
                now=scenario.clock.now(),
            )
            ids[email] = user.id
    return ids


def _weekly(scenario: Scenario, people: list[uuid.UUID], start: date) -> uuid.UUID:
    with scenario.container.db.transaction() as tx:
        row = actions.create_schedule(
            tx,
            name="Payments primary",
            time_zone="Europe/London",
            layers=[LayerInput(participants=people, turn_hours=168, start_date=start)],
            actor=SYSTEM,
            now=scenario.clock.now(),
        )
        return row.id


def _statuses(scenario: Scenario) -> list[tuple[str, str, datetime]]:
    with scenario.container.db.read() as tx:
        rows = tx.execute(select(HandoffRow).order_by(HandoffRow.at, HandoffRow.kind)).scalars()
        return [(r.kind, r.status, r.at) for r in rows]


def test_weekly_handoff_tells_each_person_once_with_the_note(scenario: Scenario) -> None:
    scenario.clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))  # Sunday, GMT
    ids = _people(scenario)
    schedule_id = _weekly(scenario, [ids[ALICE], ids[BOB]], date(2026, 2, 23))
    with scenario.container.db.transaction() as tx:
        personal.leave_handoff_note(
            tx,
            schedule_id=schedule_id,
            text="The payments-db replica keeps flapping; silence it if it fires again.",
            actor=SYSTEM,
            now=scenario.clock.now(),
            from_user_id=ids[ALICE],
        )
    scenario.run_cycle()
    handoff_at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # Monday 09:00 GMT
    assert ("start", "pending", handoff_at) in _statuses(scenario)
    assert ("end", "pending", handoff_at) in _statuses(scenario)

    scenario.fast_forward(minutes=20 * 60 + 59)  # 08:59: not yet
    scenario.expect_sent(count=0)
    scenario.fast_forward(minutes=1)
    [incoming] = scenario.expect_sent(count=1, recipient=BOB)
    [outgoing] = scenario.expect_sent(count=1, recipient=ALICE)
    assert scenario.channels["email"].sent_at == [handoff_at, handoff_at]
    assert "You are on call for Payments primary from Mon 2 Mar 04:00 EST" in incoming.body
    assert "until Mon 9 Mar 05:00 EDT" in incoming.body  # New York moves on 8 March
    assert "Alice hands over to you." in incoming.body
    assert "payments-db replica keeps flapping" in incoming.body
    assert f"http://tocsin.test/schedules/{schedule_id}" in incoming.body
    assert "Your shift on Payments primary ends at Mon 2 Mar 09:00 GMT" in outgoing.body
    assert "Bob takes over." in outgoing.body

    scenario.run_cycle()
    scenario.fast_forward(minutes=5)
    scenario.restart_engine()  # a new process finds nothing left to send
    scenario.run_cycle()
    scenario.fast_forward(minutes=90)
    scenario.expect_sent(count=2)
    assert [s for k, s, at in _statuses(scenario) if at == handoff_at] == ["sent", "sent"]


def test_handoff_across_a_dst_change_keeps_the_wall_clock_time(scenario: Scenario) -> None:
    # Clocks in London go forward at 01:00 UTC on Sunday 29 March 2026.
    scenario.clock.set(datetime(2026, 3, 29, 12, 0, tzinfo=UTC))
    ids = _people(scenario)
    _weekly(scenario, [ids[ALICE], ids[CAROL]], date(2026, 3, 23))
    scenario.run_cycle()
    handoff_at = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)  # Monday 09:00 BST
    assert [at for _, _, at in _statuses(scenario)] == [handoff_at, handoff_at]
    scenario.fast_forward(minutes=(handoff_at - scenario.clock.now()).total_seconds() / 60 - 1)
    scenario.expect_sent(count=0)
    scenario.fast_forward(minutes=1)
    [incoming] = scenario.expect_sent(count=1, recipient=CAROL)
    scenario.expect_sent(count=1, recipient=ALICE)
    assert "from Mon 30 Mar 09:00 BST until Mon 6 Apr 09:00 BST" in incoming.body
    assert "Nobody" not in incoming.body


def test_a_handoff_that_no_longer_happens_is_skipped(scenario: Scenario) -> None:
    scenario.clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ids = _people(scenario)
    schedule_id = _weekly(scenario, [ids[ALICE], ids[BOB]], date(2026, 2, 23))
    scenario.run_cycle()
    with scenario.container.db.transaction() as tx:  # Alice keeps the pager for the day
        actions.add_override(
            tx,
            schedule_id=schedule_id,
            user_id=ids[ALICE],
            start_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
            end_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
            actor=SYSTEM,
            now=scenario.clock.now(),
        )
    scenario.fast_forward(minutes=21 * 60)
    scenario.expect_sent(count=0)
    statuses = {(k, at): s for k, s, at in _statuses(scenario)}
    assert statuses[("start", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))] == "skipped"
    assert statuses[("end", datetime(2026, 3, 2, 9, 0, tzinfo=UTC))] == "skipped"
    scenario.fast_forward(minutes=24 * 60)  # the real handoff, a day later
    scenario.expect_sent(count=1, recipient=BOB)
    scenario.expect_sent(count=1, recipient=ALICE)


def test_a_late_engine_skips_handoffs_long_past(scenario: Scenario) -> None:
    scenario.clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ids = _people(scenario)
    _weekly(scenario, [ids[ALICE], ids[BOB]], date(2026, 2, 23))
    scenario.run_cycle()
    scenario.clock.set(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))  # three hours late
    scenario.run_cycle()
    scenario.expect_sent(count=0)
    assert {s for _, s, _ in _statuses(scenario)} == {"skipped"}


def test_cover_request_asks_each_teammate_once(scenario: Scenario) -> None:
    scenario.clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ids = _people(scenario)
    schedule_id = _weekly(scenario, [ids[ALICE], ids[BOB], ids[CAROL]], date(2026, 2, 23))
    with scenario.container.db.transaction() as tx:
        request = personal.request_cover(
            tx,
            schedule_id=schedule_id,
            start_at=datetime(2026, 3, 4, 9, 0, tzinfo=UTC),
            end_at=datetime(2026, 3, 5, 9, 0, tzinfo=UTC),
            reason="Dentist",
            actor=SYSTEM,
            now=scenario.clock.now(),
            requester_id=ids[ALICE],
        )
        request_id = request.id
    scenario.run_cycle()
    scenario.run_cycle()
    scenario.restart_engine()
    scenario.run_cycle()
    [bob] = scenario.expect_sent(count=1, recipient=BOB)
    scenario.expect_sent(count=1, recipient=CAROL)
    scenario.expect_sent(count=0, recipient=ALICE)
    assert bob.subject == "Can you cover Alice on Payments primary?"
    assert "from Wed 4 Mar 04:00 EST until Thu 5 Mar 04:00 EST" in bob.body
    assert "Reason: Dentist" in bob.body
    assert f"http://tocsin.test/schedules/{schedule_id}" in bob.body
    with scenario.container.db.read() as tx:
        row = tx.get(CoverRequest, request_id)
        assert row is not None and row.notified_at == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_planning_twice_inserts_nothing_new(scenario: Scenario) -> None:
    scenario.clock.set(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    ids = _people(scenario)
    _weekly(scenario, [ids[ALICE], ids[BOB]], date(2026, 2, 23))
    scenario.run_cycle()
    first = _statuses(scenario)
    scenario.restart_engine()
    scenario.fast_forward(minutes=3)
    assert _statuses(scenario) == first
    assert len(first) == 2
    assert timedelta(0) < first[0][2] - scenario.clock.now() < timedelta(hours=24)
