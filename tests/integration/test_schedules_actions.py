"""Schedule actions on both databases: validation, overrides, time off, cover, previews."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.db.base import Base
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, PermissionDenied, ValidationFailed
from tocsin.people import actions as people_actions
from tocsin.people.tables import User
from tocsin.schedules import actions, personal, repo, rules
from tocsin.schedules.convert import LayerInput, user_key
from tocsin.schedules.tables import LayerRow, OverrideRow, ScheduleRow, TimeOffRow

ADMIN = Actor(user_id=None, name="admin", role="admin", via="cli")
H = timedelta(hours=1)


def _count(container: Container, table: type[Base]) -> int:
    with container.db.read() as tx:
        return int(tx.execute(select(func.count()).select_from(table)).scalar_one())


def _people(container: Container, *names: str) -> list[User]:
    with container.db.transaction() as tx:
        return [
            people_actions.create_user(
                tx,
                email=f"{n.lower()}@example.com",
                name=n,
                role="responder",
                actor=ADMIN,
                now=container.clock.now(),
            )
            for n in names
        ]


def _weekly(*users: User, **extra: object) -> LayerInput:
    values: dict[str, object] = {
        "participants": [u.id for u in users],
        "turn_hours": 168,
        "start_date": date(2026, 1, 5),
        "handoff_time": "09:00",
    }
    values.update(extra)
    return LayerInput(**values)  # type: ignore[arg-type]


def _schedule(container: Container, *users: User, name: str = "Payments primary") -> uuid.UUID:
    with container.db.transaction() as tx:
        row = actions.create_schedule(
            tx,
            name=name,
            time_zone="Europe/London",
            layers=[_weekly(*users)],
            actor=ADMIN,
            now=container.clock.now(),
        )
        return row.id


def test_create_schedule_then_who_is_on_call(container: Container) -> None:
    ada, bob = _people(container, "Ada", "Bob")
    schedule_id = _schedule(container, ada, bob)
    now = container.clock.now()
    with container.db.read() as tx:
        row = repo.get_schedule(tx, schedule_id)
        assert [p.user_id for p in row.layers[0].participants] == [ada.id, bob.id]
        assert row.layers[0].handoff_time == "09:00"
        [entry] = repo.oncall_now(tx, at=now + H)
        assert [o.user for o in entry.now] == [user_key(ada.id)]
        assert entry.next is not None and entry.next.user == user_key(bob.id)
        assert entry.next.start_at == datetime(2026, 1, 12, 9, tzinfo=now.tzinfo)
    assert _count(container, AuditEvent) >= 1


@pytest.mark.parametrize(
    ("zone", "layer", "field"),
    [
        ("Mars/Olympus", {}, "time_zone"),
        ("UTC", {"turn_hours": 0}, "layers[0].turn_hours"),
        ("UTC", {"turn_hours": -24}, "layers[0].turn_hours"),
        (
            "UTC",
            {"restrictions": [{"start": "17:00", "end": "09:00"}]},
            "layers[0].restrictions[0].end",
        ),
        ("UTC", {"handoff_time": "25:99"}, "layers[0].handoff_time"),
    ],
)
def test_bad_schedules_are_refused_field_by_field_and_nothing_is_saved(
    container: Container, zone: str, layer: dict[str, object], field: str
) -> None:
    (ada,) = _people(container, "Ada")
    with pytest.raises(ValidationFailed) as caught, container.db.transaction() as tx:
        actions.create_schedule(
            tx,
            name="Bad",
            time_zone=zone,
            layers=[_weekly(ada, **layer)],
            actor=ADMIN,
            now=container.clock.now(),
        )
    assert field in {f.field for f in caught.value.fields}
    assert _count(container, ScheduleRow) == 0
    assert _count(container, LayerRow) == 0


def test_a_participant_who_is_not_a_user_is_refused_with_its_path(container: Container) -> None:
    ada, bob = _people(container, "Ada", "Bob")
    schedule_id = _schedule(container, ada)
    ghost = uuid.uuid4()
    with pytest.raises(ValidationFailed) as caught, container.db.transaction() as tx:
        actions.replace_layers(
            tx,
            schedule_id=schedule_id,
            layers=[
                _weekly(bob),
                _weekly(ada),
                LayerInput(
                    participants=[bob.id, ghost], turn_hours=24, start_date=date(2026, 1, 1)
                ),
            ],
            actor=ADMIN,
            now=container.clock.now(),
        )
    assert [f.field for f in caught.value.fields] == ["layers[2].participants[1]"]
    with container.db.read() as tx:  # the old layers are untouched
        row = repo.get_schedule(tx, schedule_id)
        assert [[p.user_id for p in x.participants] for x in row.layers] == [[ada.id]]


def test_a_layer_with_nobody_is_allowed_and_shows_as_a_gap(container: Container) -> None:
    with container.db.transaction() as tx:
        row = actions.create_schedule(
            tx,
            name="Empty",
            time_zone="UTC",
            layers=[LayerInput(participants=[], turn_hours=24, start_date=date(2026, 1, 1))],
            actor=ADMIN,
            now=container.clock.now(),
        )
        now = container.clock.now()
        schedule = repo.load_schedule(tx, row)
        assert rules.gaps(schedule, now, now + H) == [(now, now + H)]


def test_duplicate_names_conflict(container: Container) -> None:
    (ada,) = _people(container, "Ada")
    _schedule(container, ada, name="Ops")
    with pytest.raises(Conflict) as caught, container.db.transaction() as tx:
        actions.create_schedule(
            tx, name="ops", time_zone="UTC", actor=ADMIN, now=container.clock.now()
        )
    assert caught.value.code == "schedule.name_taken"


def test_overrides_win_and_bad_overrides_are_refused(container: Container) -> None:
    ada, bob = _people(container, "Ada", "Bob")
    schedule_id = _schedule(container, ada)
    now = container.clock.now()
    with container.db.transaction() as tx:
        actions.add_override(
            tx,
            schedule_id=schedule_id,
            user_id=bob.id,
            start_at=now + H,
            end_at=now + 3 * H,
            actor=ADMIN,
            now=now,
        )
    with container.db.read() as tx:
        [entry] = repo.oncall_now(tx, at=now + 2 * H)
        assert [(o.user, o.source) for o in entry.now] == [(user_key(bob.id), "override")]
    with pytest.raises(ValidationFailed) as bad, container.db.transaction() as tx:
        actions.add_override(
            tx,
            schedule_id=schedule_id,
            user_id=bob.id,
            start_at=now + 5 * H,
            end_at=now + 4 * H,
            actor=ADMIN,
            now=now,
        )
    assert [f.field for f in bad.value.fields] == ["end_at"]
    with pytest.raises(Conflict) as overlap, container.db.transaction() as tx:
        actions.add_override(
            tx,
            schedule_id=schedule_id,
            user_id=ada.id,
            start_at=now + 2 * H,
            end_at=now + 4 * H,
            actor=ADMIN,
            now=now,
        )
    assert overlap.value.code == "override.overlaps"
    assert [f.field for f in overlap.value.fields] == ["start_at"]
    with pytest.raises(ValidationFailed) as ghost, container.db.transaction() as tx:
        actions.add_override(
            tx,
            schedule_id=schedule_id,
            user_id=uuid.uuid4(),
            start_at=now + 5 * H,
            end_at=now + 6 * H,
            actor=ADMIN,
            now=now,
        )
    assert [f.field for f in ghost.value.fields] == ["user_id"]
    assert _count(container, OverrideRow) == 1


def test_previews_write_nothing_and_describe_the_change(container: Container) -> None:
    ada, bob = _people(container, "Ada", "Bob")
    schedule_id = _schedule(container, ada, bob)
    now = container.clock.now()
    before = _count(container, AuditEvent)
    with container.db.read() as tx:
        found = actions.preview_add_override(
            tx,
            schedule_id=schedule_id,
            user_id=bob.id,
            start_at=now + H,
            end_at=now + 5 * H,
            actor=ADMIN,
            now=now,
        )
        assert not found.unchanged
        assert any("Bob" in line for line in found.summary)
        swapped = actions.preview_replace_layers(
            tx, schedule_id=schedule_id, layers=[_weekly(bob, ada)], actor=ADMIN, now=now
        )
        assert {c.user for c in swapped.changes} == {user_key(ada.id), user_key(bob.id)}
        with pytest.raises(ValidationFailed):
            actions.preview_replace_layers(
                tx, schedule_id=schedule_id, layers=[], actor=ADMIN, now=now, weeks=13
            )
    assert _count(container, OverrideRow) == 0
    assert _count(container, AuditEvent) == before


def test_time_off_skips_the_person_in_every_rotation(container: Container) -> None:
    ada, bob = _people(container, "Ada", "Bob")
    schedule_id = _schedule(container, ada, bob)
    now = container.clock.now()
    ada_actor = people_actions.actor_for(ada, via="session")
    with container.db.read() as tx:
        previews = personal.preview_add_time_off(
            tx, user_id=ada.id, start_at=now, end_at=now + 48 * H, actor=ada_actor, now=now
        )
        assert list(previews) == [schedule_id] and not previews[schedule_id].unchanged
    with container.db.transaction() as tx:
        personal.add_time_off(
            tx, user_id=ada.id, start_at=now, end_at=now + 48 * H, actor=ada_actor, now=now
        )
    with container.db.read() as tx:
        [entry] = repo.oncall_now(tx, at=now + H)
        assert entry.now[0].user == user_key(bob.id)
    bob_actor = people_actions.actor_for(bob, via="session")
    with pytest.raises(PermissionDenied), container.db.transaction() as tx:
        personal.add_time_off(
            tx, user_id=ada.id, start_at=now, end_at=now + H, actor=bob_actor, now=now
        )
    with pytest.raises(ValidationFailed), container.db.transaction() as tx:
        personal.add_time_off(
            tx, user_id=ada.id, start_at=now, end_at=now - H, actor=ada_actor, now=now
        )
    assert _count(container, TimeOffRow) == 1


def test_cover_request_first_accept_wins(container: Container) -> None:
    ada, bob, cy = _people(container, "Ada", "Bob", "Cy")
    schedule_id = _schedule(container, ada, bob, cy)
    now = container.clock.now()
    actors = {u.name: people_actions.actor_for(u, via="session") for u in (ada, bob, cy)}
    with container.db.transaction() as tx:
        request = personal.request_cover(
            tx,
            schedule_id=schedule_id,
            start_at=now + H,
            end_at=now + 4 * H,
            reason="dentist",
            actor=actors["Ada"],
            now=now,
        )
        request_id, version = request.id, request.version
    with container.db.transaction() as tx:
        accepted = personal.accept_cover(
            tx, request_id=request_id, actor=actors["Bob"], now=now, expected_version=version
        )
        assert accepted.status == "accepted" and accepted.accepted_by == bob.id
    with pytest.raises(Conflict) as late, container.db.transaction() as tx:
        personal.accept_cover(
            tx, request_id=request_id, actor=actors["Cy"], now=now, expected_version=version
        )
    assert late.value.code == "cover.taken"
    with container.db.read() as tx:
        [entry] = repo.oncall_now(tx, at=now + 2 * H)
        assert entry.now[0].user == user_key(bob.id)
        assert repo.get_cover_request(tx, request_id).override_id is not None
    with pytest.raises(ValidationFailed), container.db.transaction() as tx:
        again = personal.request_cover(
            tx,
            schedule_id=schedule_id,
            start_at=now + 10 * H,
            end_at=now + 11 * H,
            actor=actors["Ada"],
            now=now,
        )
        personal.accept_cover(tx, request_id=again.id, actor=actors["Ada"], now=now)


def test_handoff_notes_and_calendar_tokens(container: Container) -> None:
    (ada,) = _people(container, "Ada")
    schedule_id = _schedule(container, ada)
    now = container.clock.now()
    ada_actor = people_actions.actor_for(ada, via="session")
    with container.db.transaction() as tx:
        personal.leave_handoff_note(
            tx, schedule_id=schedule_id, text="disk alerts flapping", actor=ada_actor, now=now
        )
        first = personal.rotate_calendar_token(tx, user_id=ada.id, actor=ada_actor, now=now)
        second = personal.rotate_calendar_token(tx, user_id=ada.id, actor=ada_actor, now=now)
        assert first != second
        [note] = repo.list_handoff_notes(tx, schedule_id)
        assert note.text == "disk alerts flapping"
    with pytest.raises(ValidationFailed), container.db.transaction() as tx:
        personal.leave_handoff_note(
            tx, schedule_id=schedule_id, text="  ", actor=ada_actor, now=now
        )


def test_observers_cannot_change_schedules(container: Container) -> None:
    observer = Actor(user_id=uuid.uuid4(), name="o", role="observer", via="session")
    with pytest.raises(PermissionDenied), container.db.transaction() as tx:
        actions.create_schedule(
            tx, name="X", time_zone="UTC", actor=observer, now=container.clock.now()
        )


def test_update_and_delete(container: Container) -> None:
    (ada,) = _people(container, "Ada")
    schedule_id = _schedule(container, ada)
    now = container.clock.now()
    with container.db.transaction() as tx:
        team = people_actions.create_team(tx, name="Payments", actor=ADMIN, now=now)
        row = actions.update_schedule(
            tx,
            schedule_id=schedule_id,
            name="Payments primary (EU)",
            team_ids=[team.id],
            holiday_country="GB",
            actor=ADMIN,
            now=now,
        )
        assert row.holiday_country == "GB" and [t.team_id for t in row.teams] == [team.id]
        assert [r.id for r in repo.list_schedules(tx, team_id=team.id)] == [schedule_id]
    with pytest.raises(ValidationFailed) as caught, container.db.transaction() as tx:
        actions.update_schedule(
            tx, schedule_id=schedule_id, time_zone="Nowhere/Land", actor=ADMIN, now=now
        )
    assert [f.field for f in caught.value.fields] == ["time_zone"]
    with container.db.transaction() as tx:
        actions.delete_schedule(tx, schedule_id=schedule_id, actor=ADMIN, now=now)
    assert _count(container, ScheduleRow) == 0
    assert _count(container, LayerRow) == 0
