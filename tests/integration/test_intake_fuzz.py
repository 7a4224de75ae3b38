"""Fuzz the intake: any body gets 202, 400, 413 or 429 in PagerDuty's shape, never a 5xx.

A rejected event writes nothing: the count of accepted events grows by exactly the
number of 202 answers.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.api_support import api_client, count
from tests.integration.intake_support import make_service
from tocsin.bootstrap import Container
from tocsin.incidents.tables import InboundEvent
from tocsin.services import repo as service_repo

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
FIELDS = st.fixed_dictionaries(
    {},
    optional={
        "event_action": st.sampled_from(["trigger", "acknowledge", "resolve", "", "TRIGGER"])
        | JSON,
        "dedup_key": st.text(max_size=300) | JSON,
        "payload": st.fixed_dictionaries(
            {},
            optional={
                "summary": st.text(max_size=1100) | JSON,
                "source": st.text(max_size=20) | JSON,
                "severity": st.sampled_from(["critical", "error", "warning", "info", "x"]) | JSON,
                "timestamp": st.sampled_from(["2026-11-27T10:00:00Z", "now", ""]) | JSON,
                "custom_details": JSON,
                "component": JSON,
            },
        )
        | JSON,
        "links": JSON,
        "images": JSON,
        "client": JSON,
        "client_url": JSON,
    },
)
PATHS = st.sampled_from(["/v2/enqueue", "/v2/change/enqueue"])
CONTENT_TYPES = st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/xml"]
)


def _answer_is_pagerdutys(response: Any) -> None:
    assert response.status_code in (202, 400, 413, 429), response.text
    body = response.json()
    if response.status_code == 202:
        assert body["status"] == "success"
    elif response.status_code in (400, 413):
        assert body["status"] == "invalid event" and body["errors"]
        assert all(isinstance(error, str) for error in body["errors"])


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    fields=FIELDS,
    with_key=st.sampled_from(["valid", "missing", "unknown", "junk"]),
    path=PATHS,
    content_type=CONTENT_TYPES,
)
def test_any_event_body(
    container: Container, fields: dict[str, Any], with_key: str, path: str, content_type: str
) -> None:
    key = _routing_key(container)
    body = dict(fields)
    if with_key == "valid":
        body["routing_key"] = key
    elif with_key == "unknown":
        body["routing_key"] = "e" * 32
    elif with_key == "junk":
        body["routing_key"] = ["nope"]
    before = count(container, InboundEvent)
    with api_client(container) as client:
        response = client.post(
            path, content=json.dumps(body).encode(), headers={"content-type": content_type}
        )
    _answer_is_pagerdutys(response)
    after = count(container, InboundEvent)
    assert after - before == (1 if response.status_code == 202 else 0)


def _routing_key(container: Container) -> str:
    """The fuzz service's key (made on the first example; the container outlives examples)."""
    with container.db.read() as tx:
        service = service_repo.find_service_by_name(tx, "Fuzz")
        if service is not None:
            return service.integrations[0].routing_key
    return make_service(container, "Fuzz")[1]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=st.binary(max_size=300))
def test_any_bytes(container: Container, raw: bytes) -> None:
    before = count(container, InboundEvent)
    with api_client(container) as client:
        response = client.post(
            "/v2/enqueue", content=raw, headers={"content-type": "application/json"}
        )
        webhook = client.post(
            "/integrations/alertmanager/" + "a" * 32,
            content=raw,
            headers={"content-type": "application/json"},
        )
    _answer_is_pagerdutys(response)
    assert webhook.status_code == 400
    assert count(container, InboundEvent) == before
