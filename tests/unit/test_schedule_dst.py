"""The DST rules of docs/schedules.md, one explicit case at a time."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from tocsin.schedules import rules
from tocsin.schedules.rules import Layer, Restriction, Schedule, Shift
from tocsin.schedules.wallclock import Wall, to_us, wall_to_us

HOUR = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def rotation(zone: str, handoff: time, turn_hours: int = 24, **kwargs: object) -> Schedule:
    layer = Layer(("a", "b", "c", "d"), turn_hours, date(2026, 1, 1), handoff, **kwargs)  # type: ignore[arg-type]
    return rules.validate(Schedule(zone, (layer,)))


def handoffs(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    return [s.start_at for s in rules.render(schedule, start, end)][1:]


def turn_lengths(schedule: Schedule, start: datetime, end: datetime) -> list[timedelta]:
    times = handoffs(schedule, start, end)
    return [b - a for a, b in itertools.pairwise(times)]


# Rule 2: a whole-day turn spans calendar days; 23 or 25 real hours across a change.


@pytest.mark.parametrize(
    ("zone", "day", "changed"),
    [
        ("Europe/London", date(2026, 3, 29), 23),
        ("Europe/London", date(2026, 10, 25), 25),
        ("America/New_York", date(2026, 3, 8), 23),
        ("America/New_York", date(2026, 11, 1), 25),
        ("Australia/Lord_Howe", date(2026, 4, 5), 24.5),
        ("Australia/Lord_Howe", date(2026, 10, 4), 23.5),
        ("Asia/Kolkata", date(2026, 3, 29), 24),
        ("Asia/Kolkata", date(2026, 10, 25), 24),
    ],
)
def test_daily_turn_across_a_change(zone: str, day: date, changed: float) -> None:
    schedule = rotation(zone, time(9))
    local = ZoneInfo(zone)
    start = datetime.combine(day - timedelta(days=2), time(12), local)
    end = datetime.combine(day + timedelta(days=2), time(12), local)
    # handoffs on day-1, day, day+1, day+2 (the change is in the night before 09:00)
    lengths = turn_lengths(schedule, start.astimezone(UTC), end.astimezone(UTC))
    assert [x / HOUR for x in lengths] == [changed, 24, 24]


# Rule 1: handoffs keep their wall-clock time on both sides of the change.


@pytest.mark.parametrize(
    ("zone", "around"),
    [
        ("Europe/London", utc(2026, 3, 29)),
        ("Europe/London", utc(2026, 10, 25)),
        ("America/New_York", utc(2026, 3, 8)),
        ("America/New_York", utc(2026, 11, 1)),
        ("Australia/Lord_Howe", utc(2026, 4, 5)),
        ("Australia/Lord_Howe", utc(2026, 10, 4)),
        ("Asia/Kolkata", utc(2026, 3, 8)),
    ],
)
def test_handoffs_keep_wall_clock_time(zone: str, around: datetime) -> None:
    schedule = rotation(zone, time(9, 30))
    times = handoffs(schedule, around - 4 * 24 * HOUR, around + 4 * 24 * HOUR)
    assert len(times) >= 7
    assert {t.astimezone(ZoneInfo(zone)).time() for t in times} == {time(9, 30)}


def test_weekly_turn_across_a_change_is_167_or_169_hours() -> None:
    spring = rotation("Europe/London", time(9), 168)
    lengths = turn_lengths(spring, utc(2026, 3, 10), utc(2026, 4, 20))
    assert sorted(x / HOUR for x in lengths) == [167, 168, 168, 168, 168]
    autumn = rotation("America/New_York", time(9), 168)
    lengths = turn_lengths(autumn, utc(2026, 10, 10), utc(2026, 11, 20))
    assert sorted(x / HOUR for x in lengths) == [168, 168, 168, 168, 169]


# Rule 3: turns that are not whole days are real hours from the anchor.


def test_twelve_hour_turns_are_real_hours_and_move_on_the_wall_clock() -> None:
    schedule = rotation("America/New_York", time(8), 12)
    times = handoffs(schedule, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert {b - a for a, b in itertools.pairwise(times)} == {12 * HOUR}
    ny = ZoneInfo("America/New_York")
    assert [t.astimezone(ny).strftime("%d %H:%M") for t in times] == [
        "07 08:00",
        "07 20:00",
        "08 09:00",  # clocks went forward: the real-hour handoff is 09:00 on the wall
        "08 21:00",
    ]


def test_eight_hour_turns_across_lord_howe_fall_back() -> None:
    schedule = rotation("Australia/Lord_Howe", time(6), 8)
    times = handoffs(schedule, utc(2026, 4, 3), utc(2026, 4, 6))
    assert {b - a for a, b in itertools.pairwise(times)} == {8 * HOUR}
    zone = ZoneInfo("Australia/Lord_Howe")
    assert times[-1].astimezone(zone).time() in {time(5, 30), time(13, 30), time(21, 30)}


# Rule 4: a handoff at a time the clocks skip happens when the clocks jump.


@pytest.mark.parametrize(
    ("zone", "day", "handoff", "instant"),
    [
        ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7)),
        ("America/New_York", date(2026, 3, 8), time(2, 0), utc(2026, 3, 8, 7)),
        ("Europe/London", date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1)),
        ("Australia/Lord_Howe", date(2026, 10, 4), time(2, 15), utc(2026, 10, 3, 15, 30)),
    ],
)
def test_skipped_handoff_happens_at_the_jump(
    zone: str, day: date, handoff: time, instant: datetime
) -> None:
    schedule = rotation(zone, handoff)
    times = handoffs(schedule, instant - 36 * HOUR, instant + 36 * HOUR)
    assert instant in times
    # the local reading is the first one after the gap
    assert instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None) in {
        datetime(2026, 3, 8, 3),
        datetime(2026, 3, 29, 2),
        datetime(2026, 10, 4, 2, 30),
    }
    # the day before and after, the handoff is at its wall-clock time
    local = {t.astimezone(ZoneInfo(zone)).time() for t in times if t != instant}
    assert local == {handoff}


def test_plain_fold_zero_would_be_an_hour_late() -> None:
    ny = ZoneInfo("America/New_York")
    plain = datetime(2026, 3, 8, 2, 30, tzinfo=ny).astimezone(UTC)
    assert plain == utc(2026, 3, 8, 7, 30)  # what zoneinfo's fold=0 gives: 03:30 EDT
    ours = wall_to_us(ny, datetime(2026, 3, 8, 2, 30))
    assert ours == to_us(utc(2026, 3, 8, 7))  # 03:00 EDT, the jump


# Rule 5: a handoff at a time that occurs twice happens at the first occurrence.


@pytest.mark.parametrize(
    ("zone", "handoff", "first", "second"),
    [
        ("America/New_York", time(1, 30), utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)),
        ("Europe/London", time(1, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)),
        ("Australia/Lord_Howe", time(1, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 4, 15, 15)),
    ],
)
def test_repeated_handoff_happens_at_the_first_occurrence(
    zone: str, handoff: time, first: datetime, second: datetime
) -> None:
    schedule = rotation(zone, handoff)
    times = handoffs(schedule, first - 36 * HOUR, first + 36 * HOUR)
    assert first in times
    assert second not in times
    before = rules.oncall_at(schedule, first - timedelta(seconds=1))[0].user
    during = rules.oncall_at(schedule, first)[0].user
    assert before != during
    assert rules.oncall_at(schedule, second + timedelta(minutes=1))[0].user == during
    zone_info = ZoneInfo(zone)
    assert first.astimezone(zone_info).time() == second.astimezone(zone_info).time() == handoff


# Rule 6: restriction windows convert both ends by the same rules.


@pytest.mark.parametrize(
    ("zone", "days"),
    [
        ("Europe/London", (date(2026, 3, 29), date(2026, 10, 25))),
        ("America/New_York", (date(2026, 3, 8), date(2026, 11, 1))),
        ("Australia/Lord_Howe", (date(2026, 4, 5), date(2026, 10, 4))),
        ("Asia/Kolkata", (date(2026, 3, 8),)),
    ],
)
def test_business_hours_window_is_ten_real_hours_every_day(
    zone: str, days: tuple[date, ...]
) -> None:
    schedule = rotation(zone, time(12), restrictions=(Restriction(time(8), time(18)),))
    zone_info = ZoneInfo(zone)
    for day in days:
        start = datetime.combine(day, time(0), zone_info).astimezone(UTC) - 24 * HOUR
        shifts = rules.render(schedule, start, start + 72 * HOUR)
        by_day: dict[date, timedelta] = {}
        for s in shifts:
            local = s.start_at.astimezone(zone_info)
            by_day[local.date()] = by_day.get(local.date(), timedelta()) + s.end_at - s.start_at
        assert set(by_day.values()) == {10 * HOUR}
        assert all(time(8) <= s.start_at.astimezone(zone_info).time() < time(18) for s in shifts)


def test_window_inside_a_gap_is_empty_that_day() -> None:
    schedule = rotation(
        "America/New_York", time(12), restrictions=(Restriction(time(2), time(2, 30)),)
    )
    shifts = rules.render(schedule, utc(2026, 3, 7), utc(2026, 3, 10))
    days = [s.start_at.astimezone(ZoneInfo("America/New_York")).day for s in shifts]
    assert days == [7, 9]


def test_window_over_the_repeated_hour_includes_it() -> None:
    schedule = rotation("America/New_York", time(12), restrictions=(Restriction(time(1), time(2)),))
    shifts = rules.render(schedule, utc(2026, 11, 1), utc(2026, 11, 2))
    assert [(s.start_at, s.end_at) for s in shifts] == [(utc(2026, 11, 1, 5), utc(2026, 11, 1, 7))]


# Rule 8: nights and weekends in load are wall clock.


def test_night_across_spring_forward_is_an_hour_shorter() -> None:
    shift = Shift("a", utc(2026, 3, 28, 12), utc(2026, 3, 29, 12), "layer:0")
    assert rules.load([shift], "Europe/London")["a"].night_hours == 8
    assert rules.load([shift], "Asia/Kolkata")["a"].night_hours == 9


def test_weekend_across_fall_back_is_an_hour_longer() -> None:
    shift = Shift("a", utc(2026, 10, 23), utc(2026, 10, 28), "layer:0")
    assert rules.load([shift], "Europe/London")["a"].weekend_hours == 49


def test_wall_memo_agrees_with_the_slow_path() -> None:
    zones = (
        *("Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"),
        # transitions at midnight, two-hour shifts, Ramadan suspensions
        *("America/Havana", "America/Santiago", "Asia/Beirut", "Antarctica/Troll"),
        "Africa/Casablanca",
    )
    for name in zones:
        zone = ZoneInfo(name)
        wall = Wall(zone)
        start = date(2026, 1, 1).toordinal()
        for ordinal in range(start, start + 730):
            for minutes in (0, 30, 60, 90, 105, 150, 570, 1410, 1439):
                clock = minutes * 60 * 1_000_000
                naive = datetime.fromordinal(ordinal) + timedelta(minutes=minutes)
                assert wall.at(ordinal, clock) == wall_to_us(zone, naive)


@pytest.mark.parametrize(
    ("zone", "day"),
    [
        ("Europe/London", date(2026, 3, 29)),
        ("Europe/London", date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8)),
        ("America/New_York", date(2026, 11, 1)),
        ("Australia/Lord_Howe", date(2026, 4, 5)),
        ("Australia/Lord_Howe", date(2026, 10, 4)),
        ("Asia/Kolkata", date(2026, 3, 8)),
    ],
)
def test_oncall_at_agrees_with_render_around_each_change(zone: str, day: date) -> None:
    layers = (
        Layer(("a", "b", "c"), 24, date(2026, 1, 1), time(1, 30)),
        Layer(("d", "e"), 24, date(2026, 1, 1), time(2, 15), (Restriction(time(1), time(2)),)),
        Layer(("f", "g"), 8, date(2026, 1, 1), time(2, 30), (Restriction(time(2), time(3)),)),
        Layer(("h",), 168, date(2026, 1, 1), time(0), (Restriction(time(1, 30), time(0), 6, 7),)),
    )
    schedule = rules.validate(Schedule(zone, layers))
    start = datetime.combine(day - timedelta(days=1), time(12), ZoneInfo(zone)).astimezone(UTC)
    end = start + 36 * HOUR
    shifts = rules.render(schedule, start, end)
    probe = start
    while probe < end:
        expected = [(s.user, s.source) for s in shifts if s.start_at <= probe < s.end_at]
        assert [(o.user, o.source) for o in rules.oncall_at(schedule, probe)] == expected
        probe += timedelta(minutes=5)
