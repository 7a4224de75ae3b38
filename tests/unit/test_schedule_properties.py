"""Properties of the schedule rules over generated schedules in several zones."""

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.schedules import rules
from tocsin.schedules.rotation import Rotation
from tocsin.schedules.rules import Layer, Override, Restriction, Schedule, Shift, TimeOff
from tocsin.schedules.wallclock import Wall, to_us

ZONES = ("Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "UTC")
PEOPLE = ("ann", "bob", "cat", "dan", "eve")
ORIGIN = datetime(2026, 1, 1, tzinfo=UTC)
SPAN = 400 * 24  # hours after ORIGIN that generated instants fall in
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instants = st.integers(0, SPAN * 4).map(lambda q: ORIGIN + timedelta(minutes=15 * q))
clock = st.integers(0, 24 * 4 - 1).map(lambda q: time(q // 4, 15 * (q % 4)))


@st.composite
def restrictions(draw: st.DrawFn) -> Restriction:
    start = draw(clock)
    if draw(st.booleans()):
        later = [t for t in (time(h, m) for h in range(24) for m in (0, 30)) if t > start]
        return Restriction(start, draw(st.sampled_from([*later, time(0)])))
    start_day = draw(st.integers(0, 6))
    end_day = draw(st.integers(start_day, 7))
    end = time(0) if end_day == 7 else draw(clock)
    if (end_day, end) <= (start_day, start):
        end_day = min(7, start_day + 1)
        end = time(0) if end_day == 7 else end
    return Restriction(start, end, start_day, end_day)


@st.composite
def layers(draw: st.DrawFn) -> Layer:
    end = draw(st.none() | instants)
    return Layer(
        participants=tuple(draw(st.lists(st.sampled_from(PEOPLE), max_size=4))),
        turn_hours=draw(st.sampled_from([24, 168, 48]) | st.integers(1, 50)),
        start=date(2026, 1, 1) + timedelta(days=draw(st.integers(-30, 200))),
        handoff=draw(clock),
        restrictions=tuple(draw(st.lists(restrictions(), max_size=2))),
        end=end,
    )


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    points = sorted(set(draw(st.lists(instants, max_size=8))))
    overrides = tuple(
        Override(draw(st.sampled_from(PEOPLE)), a, b)
        for a, b in zip(points[::2], points[1::2], strict=False)
    )
    time_off = []
    for _ in range(draw(st.integers(0, 4))):
        a = draw(instants)
        time_off.append(
            TimeOff(
                draw(st.sampled_from(PEOPLE)), a, a + timedelta(hours=draw(st.integers(1, 200)))
            )
        )
    schedule = Schedule(
        draw(st.sampled_from(ZONES)),
        tuple(draw(st.lists(layers(), min_size=1, max_size=3))),
        overrides,
        tuple(time_off),
    )
    return rules.validate(schedule)


@st.composite
def ranges(draw: st.DrawFn) -> tuple[datetime, datetime]:
    start = draw(instants)
    return start, start + timedelta(minutes=15 * draw(st.integers(1, 4 * 24 * 21)))


def well_formed(shifts: list[Shift], start: datetime, end: datetime) -> None:
    for shift in shifts:
        assert start <= shift.start_at < shift.end_at <= end
    for a, b in itertools.pairwise(shifts):
        assert a.end_at <= b.start_at  # sorted, each instant covered at most once
        assert not (a.end_at == b.start_at and (a.user, a.source) == (b.user, b.source))


@SETTINGS
@given(schedules(), ranges())
def test_final_schedule_covers_each_instant_at_most_once(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    shifts = rules.render(schedule, *span)
    well_formed(shifts, *span)
    covered = sum(((s.end_at - s.start_at) for s in shifts), timedelta())
    gap = sum(((b - a) for a, b in rules.gaps(schedule, *span)), timedelta())
    assert covered + gap == span[1] - span[0]


@SETTINGS
@given(schedules(), ranges())
def test_within_a_layer_no_instant_has_two_people(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    wall = Wall(ZoneInfo(schedule.time_zone))
    low, high = to_us(span[0]), to_us(span[1])
    for layer in schedule.layers:
        pieces = Rotation(layer, wall, schedule.time_off).segments(low, high)
        for s, e, _ in pieces:
            assert low <= s < e <= high
        for (_, e1, _), (s2, _, _) in itertools.pairwise(pieces):
            assert e1 <= s2


@SETTINGS
@given(schedules(), ranges())
def test_overrides_always_win(schedule: Schedule, span: tuple[datetime, datetime]) -> None:
    shifts = rules.render(schedule, *span)
    for o in schedule.overrides:
        start, end = max(o.start_at, span[0]), min(o.end_at, span[1])
        if start >= end:
            continue
        inside = [s for s in shifts if s.start_at < end and s.end_at > start]
        assert all(s.user == o.user and s.source == "override" for s in inside)
        assert sum((min(s.end_at, end) - max(s.start_at, start) for s in inside), timedelta()) == (
            end - start
        )
        assert rules.oncall_at(schedule, start)[0].user == o.user


def _inside(restriction: Restriction, local: datetime) -> bool:
    t = local.time().replace(tzinfo=None)
    if restriction.start_day is None or restriction.end_day is None:
        return restriction.start <= t and (restriction.end == time(0) or t < restriction.end)
    here = (local.weekday(), t)
    return (
        (restriction.start_day, restriction.start)
        <= here
        < (
            restriction.end_day,
            restriction.end,
        )
    )


def _near_transition(zone: ZoneInfo, instant: datetime) -> bool:
    around = [(instant + timedelta(hours=h)).astimezone(zone).utcoffset() for h in (-3, 0, 3)]
    return len(set(around)) > 1


@SETTINGS
@given(schedules(), ranges())
def test_restrictions_are_respected(schedule: Schedule, span: tuple[datetime, datetime]) -> None:
    zone = ZoneInfo(schedule.time_zone)
    for shift in rules.render(schedule, *span):
        if shift.source == "override":
            continue
        layer = schedule.layers[int(shift.source.split(":")[1])]
        if not layer.restrictions:
            continue
        for instant in (shift.start_at, shift.start_at + (shift.end_at - shift.start_at) / 2):
            if _near_transition(zone, instant):
                continue  # the wall-clock reading is ambiguous there; see test_schedule_dst
            local = instant.astimezone(zone)
            assert any(_inside(r, local) for r in layer.restrictions), (shift, local)


@SETTINGS
@given(schedules(), ranges(), st.floats(0, 1))
def test_rendering_a_range_is_the_union_of_its_halves(
    schedule: Schedule, span: tuple[datetime, datetime], cut: float
) -> None:
    start, end = span
    middle = start + timedelta(minutes=15 * int((end - start) / timedelta(minutes=15) * cut))
    whole = rules.render(schedule, start, end)
    if start < middle < end:
        halves = rules.render(schedule, start, middle) + rules.render(schedule, middle, end)
        assert rules.merge(halves) == whole


@SETTINGS
@given(schedules(), ranges(), st.lists(st.floats(0, 1), min_size=1, max_size=5))
def test_oncall_at_agrees_with_render(
    schedule: Schedule, span: tuple[datetime, datetime], where: list[float]
) -> None:
    start, end = span
    shifts = rules.render(schedule, start, end)
    probes = [start + (end - start) * w for w in where]
    probes += [s.start_at for s in shifts[:5]] + [
        s.end_at - timedelta(microseconds=1) for s in shifts[:5]
    ]
    for probe in probes:
        if not start <= probe < end:
            continue
        expected = [(s.user, s.source) for s in shifts if s.start_at <= probe < s.end_at]
        found = rules.oncall_at(schedule, probe)
        assert [(o.user, o.source) for o in found if not o.shadow] == expected


@SETTINGS
@given(schedules(), ranges())
def test_nobody_holds_a_layer_turn_while_away(
    schedule: Schedule, span: tuple[datetime, datetime]
) -> None:
    for shift in rules.render(schedule, *span):
        if shift.source == "override":
            continue
        for off in schedule.time_off:
            if off.user == shift.user:
                assert off.end_at <= shift.start_at or shift.end_at <= off.start_at
