"""The Events API v2 contract and the webhook mappings, checked without I/O."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tocsin.incidents.events import (
    Event,
    EventRejected,
    check_routing_key,
    parse_alert_event,
    parse_change_event,
)
from tocsin.incidents.mapping import alertmanager_events, check_mapping, lookup, webhook_event
from tocsin.kernel.errors import ValidationFailed

KEY = "a" * 32


def _trigger(**extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "routing_key": KEY,
        "event_action": "trigger",
        "payload": {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"},
    }
    body.update(extra)
    return body


def test_a_full_trigger_keeps_every_documented_field() -> None:
    event = parse_alert_event(
        _trigger(
            dedup_key="k",
            images=[{"src": "https://img/x.png", "href": "https://g", "alt": "graph"}],
            links=[{"href": "https://runbooks/x", "text": "Runbook"}],
            client="Grafana",
            client_url="https://grafana.example",
            payload={
                "summary": "s" * 1024,
                "source": "db-1",
                "severity": "warning",
                "timestamp": "2026-11-27T07:14:28.297372587Z"[:26] + "Z",
                "component": "postgres",
                "group": "prod",
                "class": "disk",
                "custom_details": {"free": "2%"},
            },
        ),
        generated_key="gen",
    )
    assert event.dedup_key == "k"
    assert (event.component, event.group, event.class_) == ("postgres", "prod", "disk")
    assert event.timestamp is not None and event.timestamp.tzinfo is not None
    assert event.images[0]["alt"] == "graph"
    assert Event.from_json(event.to_json()) == event


def test_a_trigger_without_dedup_key_gets_the_generated_one() -> None:
    assert parse_alert_event(_trigger(), generated_key="gen").dedup_key == "gen"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(EventRejected) as caught:
        parse_alert_event(
            {"routing_key": KEY, "event_action": "trigger", "payload": {}}, generated_key="g"
        )
    assert caught.value.errors == [
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is missing or blank",
    ]


def test_resolve_may_come_without_payload() -> None:
    event = parse_alert_event(
        {"routing_key": KEY, "event_action": "resolve", "dedup_key": "k"}, generated_key="g"
    )
    assert event.action == "resolve" and event.dedup_key == "k"


@pytest.mark.parametrize("key", [None, "", 5, "a" * 31, "a" * 33, "-" * 32])
def test_routing_key_rules(key: object) -> None:
    with pytest.raises(EventRejected):
        check_routing_key({"routing_key": key})


def test_change_events_need_only_a_summary() -> None:
    event = parse_change_event({"routing_key": KEY, "payload": {"summary": "Deploy 42"}})
    assert event.action == "change" and event.timestamp is None
    with pytest.raises(EventRejected):
        parse_change_event({"routing_key": KEY, "payload": {}})


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=40),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
        ),
        max_leaves=20,
    )
)
def test_any_json_is_either_an_event_or_a_list_of_readable_errors(body: Any) -> None:
    for candidate in (body, {"routing_key": KEY, **body} if isinstance(body, dict) else body):
        try:
            parse_alert_event(candidate, generated_key="g")
        except EventRejected as exc:
            assert exc.errors and all(isinstance(e, str) and e for e in exc.errors)


def test_alertmanager_groups_become_one_event_per_alert() -> None:
    body = {
        "version": "4",
        "groupKey": '{}:{alertname="X"}',
        "externalURL": "http://am:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "X", "instance": "a"},
                "fingerprint": "f1",
            },
            {"status": "resolved", "labels": {"alertname": "X", "instance": "b"}},
        ],
    }
    first, second = alertmanager_events(body)
    assert (first.action, first.dedup_key, first.summary) == ("trigger", "am:f1", "X on a")
    assert second.action == "resolve" and second.dedup_key.startswith("am:")
    assert first.client_url == "http://am:9093"


def test_mapping_paths_and_errors() -> None:
    assert lookup({"a": [{"b": 1}]}, "a[0].b") == 1
    assert lookup({"a": []}, "a[3].b") is None
    with pytest.raises(ValidationFailed) as caught:
        check_mapping({"summary": "a..b", "severity_map": {"x": "huge"}, "colour": "c"})
    fields = {e.field for e in caught.value.fields}
    assert fields == {"mapping.summary", "mapping.severity_map.x", "mapping.colour"}


def test_webhook_without_dedup_path_deduplicates_on_summary_and_source() -> None:
    mapping = check_mapping({"summary": "t", "source": "h"})
    one = webhook_event({"t": "Queue backlog above 10k", "h": "mq-1"}, mapping)
    two = webhook_event({"t": "Queue backlog above 10k", "h": "mq-1"}, mapping)
    assert one.dedup_key == two.dedup_key
    with pytest.raises(EventRejected):
        webhook_event({"h": "mq-1"}, mapping)
