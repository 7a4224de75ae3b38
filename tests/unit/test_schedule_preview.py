"""Previewing a schedule edit: who gains or loses shifts, which gaps appear or close."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given

from tests.unit.test_schedule_properties import SETTINGS, ranges, schedules
from tocsin.schedules import rules
from tocsin.schedules.preview import NO_CHANGE, PersonChange, diff
from tocsin.schedules.rules import Layer, Override, Restriction, Schedule, Shift

NAMES = {"alice": "Alice", "bob": "Bob"}
WEEK = (datetime(2026, 12, 7, tzinfo=UTC), datetime(2026, 12, 14, tzinfo=UTC))


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _daily(zone: str = "Europe/London", *restrictions: Restriction) -> Schedule:
    # From Monday 7 December: alice on 7, 9, 11, 13, bob on 8, 10, 12.
    layer = Layer(("alice", "bob"), 24, date(2026, 12, 7), time(0), tuple(restrictions))
    return rules.validate(Schedule(zone, (layer,)))


def test_the_same_schedule_is_unchanged() -> None:
    schedule = _daily()
    preview = diff(schedule, schedule, *WEEK, names=NAMES)
    assert preview.unchanged
    assert preview.summary == (NO_CHANGE,) == ("No change to the final schedule.",)
    assert preview.changes == ()
    assert preview.shifts_added == preview.shifts_removed == ()
    assert preview.gaps_added == preview.gaps_removed == ()


def test_overrides_move_shifts_from_one_person_to_another() -> None:
    before = _daily()
    after = dataclasses.replace(
        before,
        overrides=(
            Override("bob", at(2026, 12, 9), at(2026, 12, 10)),
            Override("bob", at(2026, 12, 11), at(2026, 12, 12)),
        ),
    )
    preview = diff(before, after, *WEEK, names=NAMES)
    assert not preview.unchanged
    assert preview.summary == ("Alice loses 2 shifts (-48 h)", "Bob gains 2 shifts (+48 h)")
    assert preview.changes == (
        PersonChange("alice", 4, 2, 96.0, 48.0),
        PersonChange("bob", 3, 5, 72.0, 120.0),
    )
    assert preview.shifts_removed == (
        Shift("alice", at(2026, 12, 9), at(2026, 12, 10), "layer:0"),
        Shift("alice", at(2026, 12, 11), at(2026, 12, 12), "layer:0"),
    )
    assert [s.source for s in preview.shifts_added] == ["override", "override"]
    assert preview.gaps_added == preview.gaps_removed == ()


def test_names_fall_back_to_the_user_id() -> None:
    before = _daily()
    after = dataclasses.replace(
        before, overrides=(Override("carol", at(2026, 12, 8), at(2026, 12, 9)),)
    )
    preview = diff(before, after, *WEEK, names={"carol": "Carol"})
    assert preview.summary == ("bob loses 1 shift (-24 h)", "Carol gains 1 shift (+24 h)")


def test_a_gap_appears_and_is_filled_in_the_after_zone() -> None:
    zone = "America/New_York"
    before = _daily(zone)
    # No one from Saturday 02:00 to 08:00 (New York time): a 6-hour hole in bob's turn.
    after = _daily(zone, Restriction(time(0), time(2), 0, 5), Restriction(time(8), time(0), 5, 7))
    preview = diff(before, after, *WEEK, names=NAMES)
    assert preview.gaps_added == ((at(2026, 12, 12, 7), at(2026, 12, 12, 13)),)
    assert preview.gaps_removed == ()
    assert preview.summary == (
        "Bob gains 1 shift (-6 h)",  # his Saturday turn is now two shifts
        "A 6-hour gap appears on Sat 12 Dec 02:00",
    )
    back = diff(after, before, *WEEK, names=NAMES)
    assert back.gaps_removed == preview.gaps_added and back.gaps_added == ()
    assert back.summary == (
        "Bob loses 1 shift (+6 h)",
        "A 6-hour gap on Sat 12 Dec 02:00 is filled",
    )


def test_only_the_new_part_of_a_wider_gap_is_added() -> None:
    before = _daily("UTC", Restriction(time(0), time(22)))
    after = _daily("UTC", Restriction(time(0), time(20, 30)))
    preview = diff(before, after, at(2026, 12, 7), at(2026, 12, 8))
    assert preview.gaps_added == ((at(2026, 12, 7, 20, 30), at(2026, 12, 7, 22)),)
    assert "A 90-minute gap appears on Mon 7 Dec 20:30" in preview.summary
    assert preview.summary[0] == "alice keeps 1 shift (-1.5 h)"


def test_a_change_of_source_alone_is_reported() -> None:
    before = _daily()
    after = dataclasses.replace(
        before, overrides=(Override("alice", at(2026, 12, 7), at(2026, 12, 8)),)
    )
    preview = diff(before, after, *WEEK)
    assert preview.changes == ()
    assert preview.summary == ("1 shift changes source only.",)
    assert not preview.unchanged


def test_shifts_that_move_keep_count_and_hours() -> None:
    before = _daily()
    swapped = Layer(("bob", "alice"), 24, date(2026, 12, 7), time(0))
    after = dataclasses.replace(before, layers=(swapped,))
    preview = diff(before, after, at(2026, 12, 7), at(2026, 12, 9))
    assert preview.summary == (
        "alice's 1 shift moves (same hours)",
        "bob's 1 shift moves (same hours)",
    )


@SETTINGS
@given(schedules(), ranges())
def test_a_schedule_compared_with_itself_is_unchanged(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    preview = diff(schedule, schedule, *span)
    assert preview.unchanged and preview.summary == (NO_CHANGE,)


@SETTINGS
@given(schedules(), schedules(), ranges())
def test_added_and_removed_shifts_turn_before_into_after(
    before: Schedule, after: Schedule, span: tuple[datetime, datetime]
) -> None:
    preview = diff(before, after, *span)
    old, new = rules.render(before, *span), rules.render(after, *span)
    kept = [s for s in old if s not in preview.shifts_removed]
    assert sorted(kept + list(preview.shifts_added)) == sorted(new)
    assert set(preview.shifts_added).isdisjoint(old)
    assert set(preview.shifts_removed).isdisjoint(new)
    assert preview.unchanged == (old == new)
    assert preview.summary

    def total(
        gaps: tuple[tuple[datetime, datetime], ...] | list[tuple[datetime, datetime]],
    ) -> timedelta:
        return sum((b - a for a, b in gaps), timedelta())

    grown = total(rules.gaps(after, *span)) - total(rules.gaps(before, *span))
    assert grown == total(preview.gaps_added) - total(preview.gaps_removed)
    for change in preview.changes:
        mine = [s for s in new if s.user == change.user]
        assert change.shifts_after == len(mine)
        hours = sum((s.end_at - s.start_at for s in mine), timedelta()) / timedelta(hours=1)
        assert abs(change.hours_after - hours) < 1e-9
