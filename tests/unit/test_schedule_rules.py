from datetime import UTC, date, datetime, time, timedelta

import pytest

from tocsin.kernel.errors import ValidationFailed
from tocsin.schedules import rules
from tocsin.schedules.rules import (
    Layer,
    OnCall,
    Override,
    Restriction,
    Schedule,
    Shadow,
    Shift,
    TimeOff,
)

UTC_ZONE = "UTC"
DAY0 = date(2026, 1, 5)  # a Monday


def at(day: int, hour: float = 0) -> datetime:
    return datetime(2026, 1, 5, tzinfo=UTC) + timedelta(days=day, hours=hour)


def daily(*people: str, **kwargs: object) -> Layer:
    return Layer(tuple(people), 24, DAY0, time(9), **kwargs)  # type: ignore[arg-type]


def who(schedule: Schedule, instant: datetime) -> str | None:
    found = rules.oncall_at(schedule, instant)
    return found[0].user if found else None


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {f.field for f in exc.value.fields}


# --- validation -----------------------------------------------------------------


def test_valid_schedule_passes() -> None:
    schedule = Schedule("Europe/London", (daily("a", "b"),))
    assert rules.validate(schedule) is schedule


def test_unknown_zone() -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(Schedule("Mars/Olympus", (daily("a"),)))
    assert fields(exc) == {"time_zone"}


@pytest.mark.parametrize("turn", [0, -24])
def test_turn_must_be_positive(turn: int) -> None:
    layer = Layer(("a",), turn, DAY0, time(9))
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(Schedule(UTC_ZONE, (daily("x"), layer)))
    assert fields(exc) == {"layers[1].turn_hours"}


@pytest.mark.parametrize(
    "restriction",
    [
        Restriction(time(18), time(8)),
        Restriction(time(8), time(8)),
        Restriction(time(9), time(17), 4, 0),
        Restriction(time(17), time(9), 2, 2),
    ],
)
def test_restriction_must_end_after_it_starts(restriction: Restriction) -> None:
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(Schedule(UTC_ZONE, (daily("a", restrictions=(restriction,)),)))
    assert fields(exc) == {"layers[0].restrictions[0].end"}


def test_restriction_weekdays_checked() -> None:
    bad = Restriction(time(9), time(17), 7, 8)
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(Schedule(UTC_ZONE, (daily("a", restrictions=(bad,)),)))
    assert fields(exc) == {
        "layers[0].restrictions[0].start_day",
        "layers[0].restrictions[0].end_day",
    }


def test_restrictions_ending_at_midnight_are_valid() -> None:
    ok = (Restriction(time(18), time(0)), Restriction(time(0), time(0), 5, 7))
    rules.validate(Schedule(UTC_ZONE, (daily("a", restrictions=ok),)))


def test_override_must_end_after_it_starts() -> None:
    schedule = Schedule(UTC_ZONE, (daily("a"),), overrides=(Override("b", at(1), at(1)),))
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(schedule)
    assert fields(exc) == {"overrides[0].end_at"}


def test_overlapping_overrides_rejected() -> None:
    overrides = (
        Override("b", at(1), at(5)),
        Override("c", at(7), at(8)),
        Override("d", at(4), at(4, 2)),  # overlaps the first, not its neighbour
    )
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(Schedule(UTC_ZONE, (daily("a"),), overrides=overrides))
    assert fields(exc) == {"overrides[2].start_at"}
    assert "overrides[0]" in exc.value.fields[0].message


def test_touching_overrides_allowed() -> None:
    overrides = (Override("b", at(1), at(2)), Override("c", at(2), at(3)))
    rules.validate(Schedule(UTC_ZONE, (daily("a"),), overrides=overrides))


def test_naive_datetimes_refused() -> None:
    naive = datetime(2026, 1, 1)
    schedule = Schedule(
        UTC_ZONE,
        (daily("a", end=naive),),
        overrides=(Override("b", naive, at(1)),),
        time_off=(TimeOff("a", at(1), naive),),
    )
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(schedule)
    assert fields(exc) == {"layers[0].end", "overrides[0].start_at", "time_off[0].end_at"}
    ok = Schedule(UTC_ZONE, (daily("a"),))
    with pytest.raises(ValidationFailed) as exc:
        rules.oncall_at(ok, naive)
    assert fields(exc) == {"at"}
    with pytest.raises(ValidationFailed) as exc:
        rules.render(ok, naive, at(1))
    assert fields(exc) == {"start"}
    with pytest.raises(ValidationFailed) as exc:
        rules.gaps(ok, at(2), at(1))
    assert fields(exc) == {"end"}


def test_every_error_reported_at_once() -> None:
    schedule = Schedule(
        "Nowhere/Nothing",
        (Layer(("a",), 0, DAY0, time(9)),),
        overrides=(Override("b", at(2), at(1)),),
    )
    with pytest.raises(ValidationFailed) as exc:
        rules.validate(schedule)
    assert fields(exc) == {"time_zone", "layers[0].turn_hours", "overrides[0].end_at"}


# --- rotation ---------------------------------------------------------------------


def test_daily_rotation_hands_off_at_the_handoff_time() -> None:
    schedule = Schedule(UTC_ZONE, (daily("a", "b", "c"),))
    assert who(schedule, at(0, 9)) == "a"
    assert who(schedule, at(1, 8.99)) == "a"
    assert who(schedule, at(1, 9)) == "b"
    assert who(schedule, at(2, 12)) == "c"
    assert who(schedule, at(3, 12)) == "a"
    assert who(schedule, at(300, 12)) == ["a", "b", "c"][300 % 3]


def test_nobody_before_the_anchor_or_after_the_end() -> None:
    schedule = Schedule(UTC_ZONE, (daily("a", "b", end=at(2, 9)),))
    assert who(schedule, at(0, 8)) is None
    assert who(schedule, at(2, 8)) == "b"
    assert who(schedule, at(2, 9)) is None
    assert rules.gaps(schedule, at(0), at(3)) == [(at(0), at(0, 9)), (at(2, 9), at(3))]


def test_hour_turns() -> None:
    layer = Layer(("a", "b", "c"), 8, DAY0, time(6))
    schedule = Schedule(UTC_ZONE, (layer,))
    shifts = rules.render(schedule, at(0, 6), at(1, 6))
    assert [(s.user, s.start_at, s.end_at) for s in shifts] == [
        ("a", at(0, 6), at(0, 14)),
        ("b", at(0, 14), at(0, 22)),
        ("c", at(0, 22), at(1, 6)),
    ]


def test_weekly_turns() -> None:
    layer = Layer(("a", "b"), 168, DAY0, time(10))
    schedule = Schedule(UTC_ZONE, (layer,))
    assert who(schedule, at(6, 23)) == "a"
    assert who(schedule, at(7, 10)) == "b"
    assert who(schedule, at(14, 10)) == "a"


def test_empty_layer_is_a_gap() -> None:
    schedule = Schedule(UTC_ZONE, (Layer((), 24, DAY0, time(9)),))
    assert rules.render(schedule, at(1), at(2)) == []
    assert rules.gaps(schedule, at(1), at(2)) == [(at(1), at(2))]
    assert rules.oncall_at(schedule, at(1, 3)) == ()


# --- layers, restrictions, overrides, shadows ----------------------------------------


def test_later_layer_wins_where_it_has_someone() -> None:
    business = daily("day", restrictions=(Restriction(time(8), time(18)),))
    schedule = Schedule(UTC_ZONE, (daily("base"), business))
    shifts = rules.render(schedule, at(1), at(2))
    assert shifts == [
        Shift("base", at(1), at(1, 8), "layer:0"),
        Shift("day", at(1, 8), at(1, 18), "layer:1"),
        Shift("base", at(1, 18), at(2), "layer:0"),
    ]
    assert rules.oncall_at(schedule, at(1, 12)) == (OnCall("day", "layer:1"),)


def test_weekly_window() -> None:
    weekdays = Restriction(time(9), time(17), 0, 4)  # Mon 09:00 - Fri 17:00
    schedule = Schedule(UTC_ZONE, (daily("a", restrictions=(weekdays,)),))
    assert who(schedule, at(0, 9)) == "a"  # Monday
    assert who(schedule, at(2, 3)) == "a"  # Wednesday night: inside the week window
    assert who(schedule, at(4, 16.9)) == "a"
    assert who(schedule, at(4, 17)) is None  # Friday 17:00
    assert who(schedule, at(5, 12)) is None  # Saturday
    assert who(schedule, at(7, 9)) == "a"  # next Monday


def test_weekend_window_until_the_end_of_sunday() -> None:
    weekend = Restriction(time(0), time(0), 5, 7)
    schedule = Schedule(UTC_ZONE, (daily("a", restrictions=(weekend,)),))
    assert rules.render(schedule, at(0), at(8)) == [Shift("a", at(5), at(7), "layer:0")]


def test_overrides_win_and_are_merged_as_their_own_source() -> None:
    overrides = (Override("o", at(1, 12), at(1, 14)), Override("o", at(1, 14), at(1, 15)))
    schedule = Schedule(UTC_ZONE, (daily("a"),), overrides=overrides)
    assert rules.render(schedule, at(1, 10), at(1, 20)) == [
        Shift("a", at(1, 10), at(1, 12), "layer:0"),
        Shift("o", at(1, 12), at(1, 15), "override"),
        Shift("a", at(1, 15), at(1, 20), "layer:0"),
    ]
    assert rules.oncall_at(schedule, at(1, 13)) == (OnCall("o", "override"),)


def test_override_fills_a_gap() -> None:
    night = daily("a", restrictions=(Restriction(time(8), time(18)),))
    schedule = Schedule(UTC_ZONE, (night,), overrides=(Override("o", at(1, 20), at(1, 22)),))
    assert rules.gaps(schedule, at(1, 18), at(2, 8)) == [
        (at(1, 18), at(1, 20)),
        (at(1, 22), at(2, 8)),
    ]


def test_shadows_ride_along_the_person_they_shadow() -> None:
    layer = daily("a", "b", shadows=(Shadow("trainee", "b"),))
    schedule = Schedule(UTC_ZONE, (layer,), overrides=(Override("o", at(1, 20), at(1, 22)),))
    assert rules.oncall_at(schedule, at(0, 12)) == (OnCall("a", "layer:0"),)
    assert rules.oncall_at(schedule, at(1, 12)) == (
        OnCall("b", "layer:0"),
        OnCall("trainee", "layer:0", shadow=True, shadows_user="b"),
    )
    assert rules.oncall_at(schedule, at(1, 21)) == (OnCall("o", "override"),)


def test_render_merges_consecutive_turns_of_one_person() -> None:
    schedule = Schedule(UTC_ZONE, (daily("a"),))
    assert rules.render(schedule, at(1), at(5)) == [Shift("a", at(1), at(5), "layer:0")]


# --- time off ------------------------------------------------------------------------


def test_time_off_skips_and_pays_back() -> None:
    # a holds turns 0, 3, 6 and is away for an hour in turn 3.
    off = (TimeOff("a", at(3, 12), at(3, 13)),)
    schedule = Schedule(UTC_ZONE, (daily("a", "b", "c"),), time_off=off)
    holders = [who(schedule, at(day, 12)) for day in range(9)]
    # turn 3: a away, b covers; turn 4: a takes b's next turn (payback).
    assert holders == ["a", "b", "c", "b", "a", "c", "a", "b", "c"]
    counts = {p: holders.count(p) for p in "abc"}
    assert counts == {"a": 3, "b": 3, "c": 3}


def test_time_off_covered_by_the_next_available_person() -> None:
    off = (TimeOff("a", at(3), at(4)), TimeOff("b", at(2), at(5)))
    schedule = Schedule(UTC_ZONE, (daily("a", "b", "c"),), time_off=off)
    holders = [who(schedule, at(day, 12)) for day in range(8)]
    # Turn k runs from 09:00 on day k. Turn 1: b away, c covers, b owes turn 2 but is
    # still away (forgiven). Turn 3: a and b away, c covers, a owes turn 5. Turn 4:
    # b away, c covers; b's debt would also be turn 5: the older (a's) wins.
    assert holders == ["a", "c", "c", "c", "c", "a", "a", "b"]


def test_debt_forgiven_when_still_away() -> None:
    off = (TimeOff("a", at(3, 12), at(4, 12)),)
    schedule = Schedule(UTC_ZONE, (daily("a", "b", "c"),), time_off=off)
    holders = [who(schedule, at(day, 12)) for day in range(7)]
    # a away in turns 3 and 4: b covers 3; the payback (turn 4) is forgiven.
    assert holders == ["a", "b", "c", "b", "b", "c", "a"]


def test_everyone_away_is_a_gap() -> None:
    off = (TimeOff("a", at(1), at(2)), TimeOff("b", at(0), at(3)))
    schedule = Schedule(UTC_ZONE, (daily("a", "b"),), time_off=off)
    assert who(schedule, at(0, 12)) is None  # turn 0: a away, b away
    assert rules.gaps(schedule, at(0, 9), at(2, 9)) == [(at(0, 9), at(2, 9))]


def test_time_off_does_not_beat_overrides() -> None:
    off = (TimeOff("o", at(0), at(5)),)
    schedule = Schedule(
        UTC_ZONE, (daily("a"),), overrides=(Override("o", at(1), at(2)),), time_off=off
    )
    assert who(schedule, at(1, 5)) == "o"


def test_time_off_far_in_the_past_is_consistent() -> None:
    off = tuple(TimeOff("a", at(d, 12), at(d, 13)) for d in range(0, 60, 3))
    schedule = Schedule(UTC_ZONE, (daily("a", "b", "c"),), time_off=off)
    full = rules.render(schedule, at(0), at(90))
    for day in range(0, 90, 7):
        assert rules.render(schedule, at(day), at(day + 5)) == [
            Shift(s.user, max(s.start_at, at(day)), min(s.end_at, at(day + 5)), s.source)
            for s in full
            if s.start_at < at(day + 5) and s.end_at > at(day)
        ]


# --- load ----------------------------------------------------------------------------


def test_load_counts_hours_nights_and_weekends() -> None:
    shifts = [
        Shift("a", at(4, 20), at(5, 8), "layer:0"),  # Fri 20:00 - Sat 08:00
        Shift("b", at(5, 8), at(5, 12), "override"),
        Shift("a", at(6, 23), at(7, 1), "layer:0"),  # Sun 23:00 - Mon 01:00
    ]
    load = rules.load(shifts, UTC_ZONE)
    assert load["a"].hours == 14
    assert load["a"].night_hours == 9 + 2
    assert load["a"].weekend_hours == 8 + 1
    assert load["a"].shifts == 2
    assert load["b"].hours == 4 and load["b"].night_hours == 0 and load["b"].weekend_hours == 4


def test_load_uses_the_zone_wall_clock() -> None:
    # 21:00-23:00 UTC in New York winter is 16:00-18:00: no night.
    shifts = [Shift("a", at(1, 21), at(1, 23), "layer:0")]
    assert rules.load(shifts, "America/New_York")["a"].night_hours == 0
    assert rules.load(shifts, "Asia/Kolkata")["a"].night_hours == 2  # 02:30-04:30 IST


def test_load_custom_night_and_empty() -> None:
    shifts = [Shift("a", at(1, 0), at(1, 10), "layer:0")]
    load = rules.load(shifts, UTC_ZONE, night=(time(0), time(6)), weekend=())
    assert load["a"].night_hours == 6 and load["a"].weekend_hours == 0
    assert rules.load([], UTC_ZONE) == {}


def test_merge_joins_touching_shifts() -> None:
    shifts = [
        Shift("a", at(1), at(2), "layer:0"),
        Shift("a", at(0), at(1), "layer:0"),
        Shift("a", at(2), at(3), "override"),
    ]
    assert rules.merge(shifts) == [
        Shift("a", at(0), at(2), "layer:0"),
        Shift("a", at(2), at(3), "override"),
    ]
