"""Rows and inputs to the pure schedule model: clock strings, restrictions, layers."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time

import pytest

from tocsin.kernel.errors import FieldError, ValidationFailed
from tocsin.schedules import convert, model
from tocsin.schedules.tables import (
    LayerParticipant,
    LayerRow,
    LayerShadow,
    OverrideRow,
    ScheduleRow,
    TimeOffRow,
)


@pytest.mark.parametrize(("text", "value"), [("09:00", time(9)), ("23:30", time(23, 30)),
                                             ("00:00:30", time(0, 0, 30))])  # fmt: skip
def test_parse_clock_accepts_wall_clock_times(text: str, value: time) -> None:
    errors: list[FieldError] = []
    assert convert.parse_clock(text, "x", errors) == value and errors == []


@pytest.mark.parametrize("text", ["25:00", "9am", "", None, 9, "09:00+01:00"])
def test_parse_clock_reports_bad_values_by_path(text: object) -> None:
    errors: list[FieldError] = []
    assert convert.parse_clock(text, "layers[0].handoff_time", errors) == time(0)
    assert [e.field for e in errors] == ["layers[0].handoff_time"]


def test_restrictions_round_trip() -> None:
    errors: list[FieldError] = []
    weekly = convert.restriction_of(
        {"start": "09:00", "end": "17:30", "start_day": 0, "end_day": 4}, "r", errors
    )
    assert weekly == model.Restriction(time(9), time(17, 30), 0, 4) and not errors
    assert convert.restriction_json(weekly) == {
        "start": "09:00", "end": "17:30", "start_day": 0, "end_day": 4,
    }  # fmt: skip
    convert.restriction_of({"start": "9", "end": "10:00", "start_day": "Mon"}, "r", errors)
    assert [e.field for e in errors] == ["r.start", "r.start_day"]


def test_layer_input_to_model_names_people_by_id() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    errors: list[FieldError] = []
    layer = convert.layer_of_input(
        convert.LayerInput(
            participants=[a, b],
            turn_hours=24,
            start_date=date(2026, 1, 5),
            handoff_time="08:30",
            restrictions=[{"start": "08:00", "end": "18:00"}],
            shadows=[(b, a)],
        ),
        "layers[0]",
        errors,
    )
    assert not errors
    assert layer.participants == (str(a), str(b)) and layer.handoff == time(8, 30)
    assert layer.shadows == (model.Shadow(str(b), str(a)),)
    assert convert.user_id_of(layer.participants[0]) == a


def test_rows_to_schedule() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    layer = LayerRow(
        position=0, name="x", turn_hours=168, start_date=date(2026, 1, 5), handoff_time="09:00",
        restrictions=[], end_at=None, on_holidays="normal",
    )  # fmt: skip
    layer.participants = [LayerParticipant(position=0, user_id=a)]
    layer.shadows = [LayerShadow(user_id=b, shadows_user_id=a)]
    row = ScheduleRow(name="s", time_zone="Europe/London", holiday_country="GB")
    row.layers = [layer]
    schedule = convert.schedule_of(
        row,
        [OverrideRow(user_id=b, start_at=start, end_at=start.replace(hour=10))],
        [TimeOffRow(user_id=a, start_at=start, end_at=start.replace(hour=11))],
    )
    assert schedule.holidays == model.HolidayCalendar("GB")
    assert schedule.overrides[0].user == str(b) and schedule.time_off[0].user == str(a)
    assert schedule.layers[0].participants == (str(a),)
    assert convert.participants_of(row) == [a, b]
    model.validate(schedule)
    layer.restrictions = [{"start": "bad", "end": "10:00"}]
    with pytest.raises(ValidationFailed):
        convert.layer_of_row(layer)
