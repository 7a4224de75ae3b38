"""Pure incident rules: severity, quality flags, event rules, placement and transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.incidents import rules
from tocsin.incidents.events import Event
from tocsin.kernel.errors import Conflict, ValidationFailed
from tocsin.services.rules import next_support_start

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _event(**fields: object) -> Event:
    values: dict[str, object] = {
        "action": "trigger",
        "dedup_key": "k",
        "summary": "Checkout p99 latency above 2 s on web-3",
        "source": "web-3",
        "severity": "critical",
    }
    values.update(fields)
    return Event(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(("given_", "level"), [(1, 1), ("SEV-2", 2), ("sev-5", 5), ("3", 3)])
def test_severity_accepts_numbers_and_labels(given_: object, level: int) -> None:
    assert rules.check_severity(given_) == level


@pytest.mark.parametrize("bad", [0, 6, "SEV-9", "high", None, True, 2.5])
def test_severity_rejects_anything_else(bad: object) -> None:
    with pytest.raises(ValidationFailed):
        rules.check_severity(bad)


def test_major_is_sev2_and_worse() -> None:
    assert [rules.is_major(level) for level in (None, 1, 2, 3, 5)] == [
        False,
        True,
        True,
        False,
        False,
    ]


def test_quality_flags_name_what_is_missing() -> None:
    assert rules.quality_flags(_event(summary="Error")) == (
        "no_runbook",
        "vague_summary",
        "no_description",
    )
    good = _event(
        links=[{"href": "https://wiki/runbooks/latency"}],
        custom_details={"description": "p99 above 2 s for 10 minutes; customers time out."},
    )
    assert rules.quality_flags(good) == ()
    assert rules.quality_flags(_event(), service_runbooks=True) == ("no_description",)


def test_event_rules_first_match_wins() -> None:
    checked = rules.check_event_rules(
        [
            {"field": "source", "op": "matches", "value": r"^batch-\d+$", "priority": "low"},
            {"field": "summary", "op": "contains", "value": "latency", "suppress": True},
        ]
    )
    assert rules.apply_event_rules(checked, _event(source="batch-7")).priority == "low"
    assert rules.apply_event_rules(checked, _event()).suppress
    assert rules.apply_event_rules(checked, _event(summary="Disk full")).rule_index is None


def test_event_rule_errors_name_the_field() -> None:
    with pytest.raises(ValidationFailed) as caught:
        rules.check_event_rules(
            [{"field": "colour", "op": "matches", "value": "(", "priority": "urgent"}]
        )
    assert {e.field for e in caught.value.fields} >= {
        "event_rules[0].field",
        "event_rules[0].value",
        "event_rules[0].priority",
    }


def _group(number: int, key: str | None, minutes_ago: int, storm: bool = False) -> rules.OpenGroup:
    return rules.OpenGroup(
        incident_id=number,
        number=number,
        group_key=key,
        created_at=NOW - timedelta(minutes=minutes_ago),
        storm=storm,
    )


def test_placement_prefers_grouping_then_storm_then_new() -> None:
    grouping = {"mode": "fields", "window_minutes": 10, "fields": ["source"]}
    key = rules.group_key(grouping, _event())
    joined = rules.place_alert(
        grouping=grouping,
        key=key,
        candidates=[_group(1, key, 3)],
        new_incidents_last_minute=0,
        storm_threshold=5,
        now=NOW,
    )
    assert joined.join is not None and joined.join.number == 1
    too_old = rules.place_alert(
        grouping=grouping,
        key=key,
        candidates=[_group(1, key, 11)],
        new_incidents_last_minute=0,
        storm_threshold=5,
        now=NOW,
    )
    assert too_old.join is None and not too_old.storm
    storm = rules.place_alert(
        grouping={"mode": "none"},
        key=None,
        candidates=[],
        new_incidents_last_minute=5,
        storm_threshold=5,
        now=NOW,
    )
    assert storm.storm and storm.join is None
    into_storm = rules.place_alert(
        grouping={"mode": "none"},
        key=None,
        candidates=[_group(9, None, 0, storm=True)],
        new_incidents_last_minute=6,
        storm_threshold=5,
        now=NOW,
    )
    assert into_storm.join is not None and into_storm.join.number == 9


@given(st.integers(min_value=0, max_value=50), st.integers(min_value=1, max_value=20))
def test_never_more_new_incidents_than_the_threshold_allows(recent: int, threshold: int) -> None:
    placement = rules.place_alert(
        grouping={"mode": "none"},
        key=None,
        candidates=[_group(1, None, 0, storm=True)],
        new_incidents_last_minute=recent,
        storm_threshold=threshold,
        now=NOW,
    )
    assert (placement.join is None) == (recent < threshold)


def test_transitions() -> None:
    with pytest.raises(Conflict) as caught:
        rules.check_transition("resolved", "acknowledge", 7)
    assert caught.value.code == "incident.already_resolved"
    with pytest.raises(Conflict):
        rules.check_transition("triggered", "snooze", 7)
    rules.check_transition("acknowledged", "snooze", 7)


def test_next_support_start_crosses_the_weekend_and_dst() -> None:
    hours = {
        "time_zone": "Europe/London",
        "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
    }
    friday_night = datetime(2026, 10, 23, 20, 0, tzinfo=UTC)
    # Clocks go back on Sunday 25 Oct: Monday 09:00 GMT is 09:00 UTC (not 08:00).
    assert next_support_start(hours, friday_night) == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)
    assert next_support_start(hours, summer) == datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


def test_storm_timeline_notes_the_first_joins_then_every_hundredth() -> None:
    noted = [n for n in range(1, 1001) if rules.storm_join_is_noted(n)]
    assert noted[:20] == list(range(1, 21))
    assert noted[20:] == list(range(100, 1001, 100))


def test_storm_title_keeps_a_first_summary_with_parentheses() -> None:
    title = rules.title_for("Disk full on db-1 (/var)", 1, True)
    assert title == "Alert storm: 1 alert (first: Disk full on db-1 (/var))"
    assert (
        rules.storm_title(title, 42) == "Alert storm: 42 alerts (first: Disk full on db-1 (/var))"
    )
    assert rules.storm_title(rules.storm_title(title, 2), 3).endswith(
        "(first: Disk full on db-1 (/var))"
    )
