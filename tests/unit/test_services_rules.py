"""Support hours across DST changes and zones, urgency rules, runbook links: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.kernel.errors import ValidationFailed
from tocsin.services.rules import (
    check_runbook_links,
    check_support_hours,
    in_support_hours,
    urgency_for,
)

WEEKDAYS = [0, 1, 2, 3, 4]


def hours(zone: str, start: str = "09:00", end: str = "17:00", days: Any = None) -> dict[str, Any]:
    windows = [{"days": WEEKDAYS if days is None else days, "start": start, "end": end}]
    return check_support_hours({"time_zone": zone, "windows": windows})


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def fields(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [f.field for f in exc.value.fields]


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        # Friday 2026-03-27, GMT (UTC+0): 09:00 local is 09:00 UTC
        (utc(2026, 3, 27, 8, 59), False),
        (utc(2026, 3, 27, 9, 0), True),
        (utc(2026, 3, 27, 16, 59), True),
        (utc(2026, 3, 27, 17, 0), False),
        # Monday 2026-03-30, after clocks went forward on Sunday 29 March: BST (UTC+1)
        (utc(2026, 3, 30, 7, 59), False),
        (utc(2026, 3, 30, 8, 0), True),
        (utc(2026, 3, 30, 15, 59), True),
        (utc(2026, 3, 30, 16, 0), False),
        # Friday 2026-10-23, still BST
        (utc(2026, 10, 23, 8, 0), True),
        (utc(2026, 10, 23, 16, 0), False),
        # Monday 2026-10-26, after clocks went back on Sunday 25 October: GMT again
        (utc(2026, 10, 26, 8, 30), False),
        (utc(2026, 10, 26, 9, 0), True),
        (utc(2026, 10, 26, 16, 30), True),
        # weekend
        (utc(2026, 3, 28, 12, 0), False),
    ],
)
def test_london_windows_follow_the_wall_clock_across_dst(instant: datetime, expected: bool) -> None:
    assert in_support_hours(hours("Europe/London"), instant) is expected


def test_london_window_over_the_spring_gap_and_the_autumn_repeat() -> None:
    night = hours("Europe/London", "00:30", "02:30", days=[6])
    # Sunday 29 March 2026: 01:00-02:00 local does not exist; 00:59 UTC is 00:59 GMT
    assert in_support_hours(night, utc(2026, 3, 29, 0, 59))
    assert in_support_hours(night, utc(2026, 3, 29, 1, 0))  # 02:00 BST, still before 02:30
    assert not in_support_hours(night, utc(2026, 3, 29, 1, 30))  # 02:30 BST
    # Sunday 25 October 2026: 01:00-02:00 local happens twice; both count
    assert in_support_hours(night, utc(2026, 10, 25, 0, 30))  # 01:30 BST
    assert in_support_hours(night, utc(2026, 10, 25, 1, 30))  # 01:30 GMT
    assert not in_support_hours(night, utc(2026, 10, 25, 2, 30))  # 02:30 GMT


def test_new_york_uses_local_weekday_and_offset() -> None:
    ny = hours("America/New_York")
    # Monday 2026-01-05 09:00 EST is 14:00 UTC
    assert not in_support_hours(ny, utc(2026, 1, 5, 13, 59))
    assert in_support_hours(ny, utc(2026, 1, 5, 14, 0))
    # Monday 2026-07-06 09:00 EDT is 13:00 UTC
    assert in_support_hours(ny, utc(2026, 7, 6, 13, 0))
    # Saturday 01:00 UTC is still Friday 20:00/21:00 in New York: outside 9-17 anyway
    late = hours("America/New_York", "20:00", "22:00", days=[4])
    assert in_support_hours(late, utc(2026, 1, 10, 1, 30))  # Friday 20:30 EST


def test_lord_howe_half_hour_dst() -> None:
    lh = hours("Australia/Lord_Howe")
    # January: +11:00, so Monday 2026-01-05 09:00 local is Sunday 22:00 UTC
    assert in_support_hours(lh, utc(2026, 1, 4, 22, 0))
    assert not in_support_hours(lh, utc(2026, 1, 4, 21, 59))
    # July: +10:30, so 09:00 local Monday 2026-07-06 is Sunday 22:30 UTC
    assert not in_support_hours(lh, utc(2026, 7, 5, 22, 29))
    assert in_support_hours(lh, utc(2026, 7, 5, 22, 30))


def test_window_may_end_at_midnight_with_2400() -> None:
    evening = hours("Europe/London", "18:00", "24:00", days=[0])
    assert in_support_hours(evening, utc(2026, 1, 5, 23, 59, 59))
    assert not in_support_hours(evening, utc(2026, 1, 6, 0, 0))  # Tuesday
    with pytest.raises(ValidationFailed) as exc:
        hours("UTC", "24:00", "24:00")
    assert "support_hours.windows[0].start" in fields(exc)
    with pytest.raises(ValidationFailed) as exc:
        hours("UTC", "09:00", "24:30")
    assert fields(exc) == ["support_hours.windows[0].end"]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"time_zone": "Mars/Olympus", "windows": [{"days": [0], "start": "09:00", "end": "10:00"}]},
         "support_hours.time_zone"),
        ({"time_zone": "UTC", "windows": []}, "support_hours.windows"),
        ({"time_zone": "UTC", "windows": [{"days": [7], "start": "09:00", "end": "10:00"}]},
         "support_hours.windows[0].days"),
        ({"time_zone": "UTC", "windows": [{"days": [0], "start": "9:00", "end": "10:00"}]},
         "support_hours.windows[0].start"),
        ({"time_zone": "UTC", "windows": [{"days": [0], "start": "10:00", "end": "09:00"}]},
         "support_hours.windows[0].end"),
        ({"time_zone": "UTC", "windows": [{"days": [0], "start": "10:00", "end": "10:60"}]},
         "support_hours.windows[0].end"),
    ],
)  # fmt: skip
def test_bad_support_hours_name_the_field(value: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_support_hours(value)
    assert field in fields(exc)


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as exc:
        check_support_hours(
            {
                "time_zone": "Nowhere",
                "windows": [
                    {"days": [0], "start": "09:00", "end": "17:00"},
                    {"days": [], "start": "x", "end": "08:00"},
                ],
            }
        )
    assert fields(exc) == [
        "support_hours.time_zone",
        "support_hours.windows[1].days",
        "support_hours.windows[1].start",
    ]


minutes = st.integers(min_value=0, max_value=24 * 60)
zones = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe"])
dates = st.dates(min_value=datetime(2020, 1, 1).date(), max_value=datetime(2035, 1, 1).date())


@given(zone=zones, day=dates, a=minutes, b=minutes, offset=st.integers(min_value=0))
def test_inside_a_window_is_in_hours_and_the_minute_before_start_is_not(
    zone: str, day: Any, a: int, b: int, offset: int
) -> None:
    start, end = sorted((a, b))
    if start == end or start == 24 * 60:
        return
    window = hours(zone, f"{start // 60:02}:{start % 60:02}", f"{end // 60:02}:{end % 60:02}",
                   days=list(range(7)))  # fmt: skip
    tz = ZoneInfo(zone)
    inside = start + offset % (end - start)
    local = datetime.combine(day, datetime.min.time(), tz) + timedelta(minutes=inside)
    # wall-clock arithmetic: skip local times that do not exist (spring-forward gaps)
    instant = local.astimezone(UTC)
    if instant.astimezone(tz).replace(tzinfo=None) != local.replace(tzinfo=None):
        return
    assert in_support_hours(window, instant)
    if start > 0:
        before = local - timedelta(minutes=inside - start + 1)
        before_utc = before.astimezone(UTC)
        if before_utc.astimezone(tz).replace(tzinfo=None) == before.replace(tzinfo=None):
            assert not in_support_hours(window, before_utc)


@pytest.mark.parametrize(
    ("rule", "severity", "in_hours", "outside", "expected"),
    [
        ("high", "info", False, "low", "high"),
        ("low", "critical", True, "low", "low"),
        ("severity", "critical", False, "low", "high"),
        ("severity", "error", False, "low", "high"),
        ("severity", "warning", True, "low", "low"),
        ("severity", "info", True, "low", "low"),
        ("support_hours", "info", True, "hold", "high"),
        ("support_hours", "critical", False, "low", "low"),
        ("support_hours", "critical", False, "hold", "held"),
    ],
)
def test_urgency_for(rule: str, severity: str, in_hours: bool, outside: str, expected: str) -> None:
    assert urgency_for(rule, severity, in_hours, outside) == expected


def test_urgency_for_refuses_unknown_values() -> None:
    with pytest.raises(ValueError):
        urgency_for("sometimes", "info", True)
    with pytest.raises(ValueError):
        urgency_for("high", "fatal", True)


def test_runbook_links_only_http_and_https() -> None:
    ok = check_runbook_links([{"title": " Wiki ", "url": "https://wiki.example.com/db"}])
    assert ok == [{"title": "Wiki", "url": "https://wiki.example.com/db"}]
    with pytest.raises(ValidationFailed) as exc:
        check_runbook_links(
            [
                {"title": "x", "url": "javascript:alert(1)"},
                {"title": "", "url": "http://ok.example"},
                {"title": "f", "url": "file:///etc/passwd"},
            ]
        )
    assert fields(exc) == ["runbook_links[0].url", "runbook_links[1].title", "runbook_links[2].url"]
