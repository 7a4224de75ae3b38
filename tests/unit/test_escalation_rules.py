"""Pure escalation rules: policy validation, walking the levels, choosing whom to page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.escalation import rules
from tocsin.escalation.rules import Level, Policy, Position, Recipient, Target
from tocsin.kernel.errors import ValidationFailed

KNOWN = {"user": {"u1", "u2", "u3"}, "schedule": {"s1"}, "team": {"t1"}}


def _fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> dict[str, str]:
    return {f.field: f.message for f in exc.value.fields}


def test_parse_levels_accepts_a_three_level_policy_with_default_delay() -> None:
    levels = rules.parse_levels(
        [
            {"targets": [{"kind": "schedule", "id": "s1"}]},
            {"delay_minutes": 10, "targets": [{"kind": "user", "id": "u1"}]},
            {"delay_minutes": 1, "round_robin": True, "targets": [{"kind": "team", "id": "t1"}]},
        ],
        known=KNOWN,
    )
    assert [level.delay_minutes for level in levels] == [5, 10, 1]
    assert levels[2].round_robin and levels[0].targets == (Target("schedule", "s1"),)


def test_every_problem_is_named_by_its_field_path() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.parse_levels(
            [
                {"delay_minutes": 0, "targets": []},
                {"delay_minutes": 2000, "targets": [{"kind": "user", "id": "nobody"}]},
                {"delay_minutes": True, "targets": [{"kind": "robot", "id": "u1"}]},
                {"targets": [{"kind": "user", "id": "u1"}, {"kind": "user", "id": "u1"}]},
                "not a level",
            ],
            known=KNOWN,
        )
    fields = _fields(exc)
    assert set(fields) == {
        "levels[0].delay_minutes",
        "levels[0].targets",
        "levels[1].delay_minutes",
        "levels[1].targets[0].id",
        "levels[2].delay_minutes",
        "levels[2].targets[0].kind",
        "levels[3].targets[1].id",
        "levels[4]",
    }
    assert "at least one" in fields["levels[0].targets"]


@pytest.mark.parametrize("raw", [None, [], {}, "x"])
def test_a_policy_needs_levels(raw: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.parse_levels(raw, known=KNOWN)
    assert "levels" in _fields(exc)


def test_too_many_levels_and_targets_are_refused() -> None:
    with pytest.raises(ValidationFailed):
        rules.parse_levels([{"targets": [{"kind": "user", "id": "u1"}]}] * 11, known=KNOWN)
    many = {"user": {f"u{i}" for i in range(30)}}
    with pytest.raises(ValidationFailed) as exc:
        rules.parse_levels(
            [{"targets": [{"kind": "user", "id": f"u{i}"} for i in range(21)]}], known=many
        )
    assert "levels[0].targets" in _fields(exc)


@pytest.mark.parametrize("repeat", [-1, 10, "2", 1.5, True])
def test_repeat_is_0_to_9(repeat: object) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.check_repeat(repeat)
    assert "repeat" in _fields(exc)


def _policy(levels: int, repeat: int) -> Policy:
    return Policy(tuple(Level(5, (Target("user", "u1"),)) for _ in range(levels)), repeat)


@given(levels=st.integers(1, 10), repeat=st.integers(0, 9))
def test_walking_a_policy_pages_every_level_once_per_pass_then_stops(
    levels: int, repeat: int
) -> None:
    policy = _policy(levels, repeat)
    position: Position | None = Position(0, 0)
    visited: list[Position] = []
    while position is not None:
        visited.append(position)
        position = rules.after(policy, position)
    assert len(visited) == levels * (repeat + 1)
    assert visited == [
        Position(level, loop) for loop in range(repeat + 1) for level in range(levels)
    ]


def test_the_next_level_waits_the_delay_of_the_level_just_paged() -> None:
    policy = Policy((Level(5, (Target("user", "u1"),)), Level(15, (Target("user", "u2"),))))
    at = datetime(2026, 3, 29, 0, 58, tzinfo=UTC)
    assert rules.next_step_at(policy, Position(0, 0), at) == at + timedelta(minutes=5)
    assert rules.next_step_at(policy, Position(1, 0), at) == at + timedelta(minutes=15)


def test_snapshot_round_trips_through_json() -> None:
    policy = Policy(
        (
            Level(3, (Target("user", "u1"), Target("team", "t1")), True),
            Level(7, (Target("schedule", "s1"),)),
        ),
        repeat=2,
    )
    assert rules.policy_from_json(policy.to_json()) == policy


def test_recipients_follow_target_order_each_person_once_with_shadows_marked() -> None:
    level = Level(5, (Target("schedule", "s1"), Target("user", "u1"), Target("team", "t1")))
    got = rules.recipients(
        level,
        oncall={"s1": [("u1", False), ("u9", True)]},
        members={"t1": ["u2", "u1"]},
    )
    assert got == [
        Recipient("u1", "schedule", "s1"),
        Recipient("u9", "schedule", "s1", shadow=True),
        Recipient("u2", "team", "t1"),
    ]


def test_a_schedule_with_nobody_on_call_reaches_nobody() -> None:
    assert rules.recipients(Level(5, (Target("schedule", "s1"),)), oncall={}, members={}) == []


@given(rotation=st.integers(0, 1000))
def test_round_robin_pages_one_acting_person_in_turn_and_keeps_shadows(rotation: int) -> None:
    level = Level(5, (Target("team", "t1"), Target("schedule", "s1")), round_robin=True)
    got = rules.recipients(
        level,
        oncall={"s1": [("u9", True)]},
        members={"t1": ["u1", "u2", "u3"]},
        rotation=rotation,
    )
    acting = [r for r in got if not r.shadow]
    assert len(acting) == 1 and acting[0].user_id == ["u1", "u2", "u3"][rotation % 3]
    assert [r.user_id for r in got if r.shadow] == ["u9"]


def test_round_robin_over_three_turns_pages_everyone_once() -> None:
    level = Level(5, (Target("team", "t1"),), round_robin=True)
    picked = [
        rules.recipients(level, oncall={}, members={"t1": ["a", "b", "c"]}, rotation=n)[0].user_id
        for n in range(3)
    ]
    assert sorted(picked) == ["a", "b", "c"]
