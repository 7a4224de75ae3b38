"""Public holidays: calendars, whole local days across DST, and Layer.on_holidays."""

import dataclasses
from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.test_schedule_properties import SETTINGS, ranges, schedules, well_formed
from tocsin.kernel.errors import ValidationFailed
from tocsin.schedules import holidays, rules
from tocsin.schedules.model import OnHolidays
from tocsin.schedules.rules import HolidayCalendar, Layer, Restriction, Schedule, Shift

US = HolidayCalendar("US")
NEW_YORK = "America/New_York"


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _christmas_schedule(*, only: bool = True) -> Schedule:
    base = Layer(("ann", "bob"), 24, date(2026, 12, 1), time(9))
    office = Layer(("cat",), 24, date(2026, 12, 1), time(9), (Restriction(time(9), time(17)),))
    layers = [base, dataclasses.replace(office, on_holidays="off")]
    if only:
        layers.append(Layer(("hal",), 24, date(2026, 12, 1), time(0), on_holidays="only"))
    return rules.validate(Schedule(NEW_YORK, tuple(layers), holidays=US))


def test_holiday_dates_come_from_the_calendar_and_its_subdivision() -> None:
    december = holidays.holiday_dates(US, date(2026, 12, 1), date(2026, 12, 31))
    assert december == [date(2026, 12, 25)]
    scotland = HolidayCalendar("GB", "SCT")
    england = HolidayCalendar("GB", "ENG")
    assert date(2026, 1, 2) in holidays.holiday_dates(scotland, date(2026, 1, 1), date(2026, 1, 3))
    assert holidays.holiday_dates(england, date(2026, 1, 1), date(2026, 1, 3)) == [date(2026, 1, 1)]


def test_holiday_dates_span_years() -> None:
    found = holidays.holiday_dates(US, date(2026, 12, 20), date(2027, 1, 5))
    assert found == [date(2026, 12, 25), date(2027, 1, 1)]


def test_a_holiday_is_its_whole_local_day() -> None:
    found = holidays.holiday_intervals(US, NEW_YORK, at(2026, 12, 25, 12), at(2026, 12, 25, 13))
    assert found == [(at(2026, 12, 25, 5), at(2026, 12, 26, 5))]


def test_holidays_across_a_fall_back_night_last_25_hours() -> None:
    # Chile: Good Friday and Holy Saturday 2026, and the clocks go back at the end of
    # Saturday (24:00 -03:00 becomes 23:00 -04:00): one span of 24 + 25 hours.
    chile = HolidayCalendar("CL")
    found = holidays.holiday_intervals(chile, "America/Santiago", at(2026, 4, 1), at(2026, 4, 8))
    assert found == [(at(2026, 4, 3, 3), at(2026, 4, 5, 4))]


def test_holidays_on_new_york_transition_days_follow_the_wall_clock() -> None:
    # A team in New York keeping another country's calendar: All Saints' Day in
    # France falls on the fall-back day there (25 hours), International Women's Day
    # in Georgia on the spring-forward day (23 hours, from the first midnight).
    france = holidays.holiday_intervals(
        HolidayCalendar("FR"), NEW_YORK, at(2026, 11, 1, 12), at(2026, 11, 1, 13)
    )
    assert france == [(at(2026, 11, 1, 4), at(2026, 11, 2, 5))]
    georgia = holidays.holiday_intervals(
        HolidayCalendar("GE"), NEW_YORK, at(2026, 3, 8, 12), at(2026, 3, 8, 13)
    )
    assert georgia == [(at(2026, 3, 8, 5), at(2026, 3, 9, 4))]


def test_only_and_off_layers_on_christmas_in_new_york() -> None:
    schedule = _christmas_schedule()
    shifts = rules.render(schedule, at(2026, 12, 24), at(2026, 12, 27))
    assert shifts == [
        Shift("ann", at(2026, 12, 24), at(2026, 12, 24, 14), "layer:0"),
        Shift("cat", at(2026, 12, 24, 14), at(2026, 12, 24, 22), "layer:1"),
        Shift("bob", at(2026, 12, 24, 22), at(2026, 12, 25, 5), "layer:0"),
        # Christmas, midnight to midnight in New York: the holiday layer only.
        Shift("hal", at(2026, 12, 25, 5), at(2026, 12, 26, 5), "layer:2"),
        Shift("ann", at(2026, 12, 26, 5), at(2026, 12, 26, 14), "layer:0"),
        Shift("cat", at(2026, 12, 26, 14), at(2026, 12, 26, 22), "layer:1"),
        Shift("bob", at(2026, 12, 26, 22), at(2026, 12, 27), "layer:0"),
    ]
    assert [o.user for o in rules.oncall_at(schedule, at(2026, 12, 25, 15))] == ["hal"]
    assert [o.user for o in rules.oncall_at(schedule, at(2026, 12, 24, 15))] == ["cat"]
    edge = at(2026, 12, 25, 5)
    assert rules.oncall_at(schedule, edge)[0].source == "layer:2"
    assert rules.oncall_at(schedule, edge - timedelta(microseconds=1))[0].user == "bob"
    assert rules.gaps(schedule, at(2026, 12, 2), at(2027, 1, 1)) == []


def test_an_off_layer_lets_the_layer_below_show_through() -> None:
    schedule = _christmas_schedule(only=False)
    found = rules.oncall_at(schedule, at(2026, 12, 25, 15))
    assert [(o.user, o.source) for o in found] == [("ann", "layer:0")]
    office = [
        s for s in rules.render(schedule, at(2026, 12, 21), at(2026, 12, 28)) if s.user == "cat"
    ]
    assert len(office) == 6  # Mon-Sun with daily hours, Christmas Friday off


def test_an_only_layer_alone_leaves_every_other_day_a_gap() -> None:
    layer = Layer(("hal",), 168, date(2026, 12, 7), time(9), on_holidays="only")
    schedule = rules.validate(Schedule(NEW_YORK, (layer,), holidays=US))
    assert rules.gaps(schedule, at(2026, 12, 20), at(2026, 12, 30)) == [
        (at(2026, 12, 20), at(2026, 12, 25, 5)),
        (at(2026, 12, 26, 5), at(2026, 12, 30)),
    ]
    assert rules.oncall_at(schedule, at(2026, 12, 24, 15)) == ()


def test_only_layer_across_the_chilean_fall_back_night() -> None:
    chile = HolidayCalendar("CL")
    base = Layer(("ann",), 24, date(2026, 3, 1), time(9))
    holiday = Layer(("hal",), 24, date(2026, 3, 1), time(9), on_holidays="only")
    schedule = rules.validate(Schedule("America/Santiago", (base, holiday), holidays=chile))
    shifts = rules.render(schedule, at(2026, 4, 2), at(2026, 4, 7))
    assert [(s.user, s.start_at, s.end_at) for s in shifts] == [
        ("ann", at(2026, 4, 2), at(2026, 4, 3, 3)),
        ("hal", at(2026, 4, 3, 3), at(2026, 4, 5, 4)),
        ("ann", at(2026, 4, 5, 4), at(2026, 4, 7)),
    ]


def test_validation_of_calendars_and_modes() -> None:
    layer = Layer(("ann",), 24, date(2026, 1, 1), time(9), on_holidays="off")
    with pytest.raises(ValidationFailed) as caught:
        rules.validate(Schedule("UTC", (layer,)))
    assert [f.field for f in caught.value.fields] == ["layers[0].on_holidays"]
    with pytest.raises(ValidationFailed) as caught:
        rules.validate(Schedule("UTC", (layer,), holidays=HolidayCalendar("XX")))
    assert [f.field for f in caught.value.fields] == ["holidays.country"]
    with pytest.raises(ValidationFailed) as caught:
        rules.validate(Schedule("UTC", (layer,), holidays=HolidayCalendar("US", "ZZ")))
    assert [f.field for f in caught.value.fields] == ["holidays.subdivision"]
    odd = dataclasses.replace(layer, on_holidays="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed) as caught:
        rules.validate(Schedule("UTC", (odd,), holidays=US))
    assert [f.field for f in caught.value.fields] == ["layers[0].on_holidays"]
    ok = Schedule("UTC", (layer,), holidays=HolidayCalendar("US", "TX"))
    assert rules.validate(ok) is ok


def test_normal_layers_ignore_the_calendar() -> None:
    layer = Layer(("ann", "bob"), 24, date(2026, 12, 1), time(9))
    plain = Schedule(NEW_YORK, (layer,))
    with_calendar = Schedule(NEW_YORK, (layer,), holidays=US)
    span = (at(2026, 12, 1), at(2027, 1, 1))
    assert rules.render(plain, *span) == rules.render(with_calendar, *span)


CALENDARS = st.sampled_from(
    [US, HolidayCalendar("GB"), HolidayCalendar("CL"), HolidayCalendar("IN")]
)
MODES: st.SearchStrategy[OnHolidays] = st.sampled_from(["normal", "off", "only"])


@st.composite
def holiday_schedules(draw: st.DrawFn) -> Schedule:
    schedule = draw(schedules())
    layers = tuple(dataclasses.replace(x, on_holidays=draw(MODES)) for x in schedule.layers)
    return rules.validate(dataclasses.replace(schedule, layers=layers, holidays=draw(CALENDARS)))


@SETTINGS
@given(holiday_schedules(), ranges(), st.floats(0, 1))
def test_holiday_layers_keep_the_render_properties(
    schedule: Schedule, span: tuple[datetime, datetime], cut: float
) -> None:
    start, end = span
    whole = rules.render(schedule, start, end)
    well_formed(whole, start, end)
    covered = sum(((s.end_at - s.start_at) for s in whole), timedelta())
    gap = sum(((b - a) for a, b in rules.gaps(schedule, start, end)), timedelta())
    assert covered + gap == end - start
    middle = start + timedelta(minutes=15 * int((end - start) / timedelta(minutes=15) * cut))
    if start < middle < end:
        halves = rules.render(schedule, start, middle) + rules.render(schedule, middle, end)
        assert rules.merge(halves) == whole
    spans = holidays.holiday_intervals(schedule.holidays or US, schedule.time_zone, start, end)
    for shift in whole[:8]:
        found = rules.oncall_at(schedule, shift.start_at)
        assert [(o.user, o.source) for o in found if not o.shadow] == [(shift.user, shift.source)]
        if shift.source == "override":
            continue
        mode = schedule.layers[int(shift.source.split(":")[1])].on_holidays
        inside = any(a <= shift.start_at < b for a, b in spans)
        assert mode == "normal" or inside == (mode == "only")
