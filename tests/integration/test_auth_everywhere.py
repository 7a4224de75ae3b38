"""Every route but health, metrics, login and the API docs refuses anonymous requests."""

from __future__ import annotations

import re
import uuid

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from tocsin.bootstrap import Container, create_web_app
from tocsin.db.audit import AuditEvent

OPEN = {"/healthz", "/readyz", "/metrics", "/login"}
# Authenticated by a key in the body or URL, as PagerDuty's intake is (tested below).
KEY_AUTH_PREFIXES = ("/v2/", "/integrations/", "/calendars/")
# One-click links carry a signed token bound to one person (tested in test_links.py); a
# refused token is audited, so they are left out of the "changes nothing" sweep below.
SIGNED_LINK_PREFIXES = ("/a/", "/t/")


def _routes(container: Container) -> list[tuple[str, str]]:
    app = create_web_app(container)
    endpoints: list[object] = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            endpoints.append(route)
        elif hasattr(route, "effective_route_contexts"):  # FastAPI >= 0.160 wraps included routers
            endpoints.extend(route.effective_route_contexts())
    found = []
    for route in endpoints:
        path, methods = getattr(route, "path", ""), getattr(route, "methods", None) or set()
        if path in OPEN or path.startswith(KEY_AUTH_PREFIXES + SIGNED_LINK_PREFIXES):
            continue
        concrete = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        found.extend((method, concrete) for method in sorted(set(methods) - {"HEAD"}))
    return found


def test_there_are_routes_to_check(container: Container) -> None:
    routes = _routes(container)
    assert len(routes) > 20
    assert any(p.startswith("/api/v1/") for _, p in routes)
    assert ("GET", "/") in routes


@pytest.mark.parametrize("accept", ["application/json", "text/html"])
def test_anonymous_requests_are_refused_and_change_nothing(
    container: Container, accept: str
) -> None:
    with TestClient(create_web_app(container), follow_redirects=False) as client:
        for method, path in _routes(container):
            response = client.request(method, path, headers={"accept": accept}, json={})
            if path.startswith("/api/") or accept == "application/json":
                assert response.status_code == 401, (method, path, response.status_code)
                assert response.json()["error"]["code"] == "auth.required"
            else:
                assert response.status_code in (303, 401, 403), (method, path, response.status_code)
                if response.status_code == 303:
                    assert response.headers["location"].startswith("/login")
    with container.db.read() as tx:
        assert tx.query(AuditEvent).count() == 0


def test_open_routes_answer_without_credentials(container: Container) -> None:
    with TestClient(create_web_app(container)) as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/login").status_code == 200
        assert client.get("/readyz").status_code in (200, 503)


def test_key_authenticated_intake_refuses_unknown_keys_and_stores_nothing(
    container: Container,
) -> None:
    from tocsin.incidents.tables import InboundEvent

    key = "0" * 32
    event = {
        "routing_key": key,
        "event_action": "trigger",
        "payload": {"summary": "s", "source": "h", "severity": "info"},
    }
    with TestClient(create_web_app(container)) as client:
        assert client.post("/v2/enqueue", json=event).status_code == 400
        assert client.post("/v2/change/enqueue", json=event).status_code == 400
        assert client.post(f"/integrations/alertmanager/{key}", json={}).status_code == 400
        assert client.post(f"/integrations/webhook/{key}", json={}).status_code == 400
        assert client.post(f"/integrations/heartbeat/{key}").status_code == 404
    with container.db.read() as tx:
        assert tx.query(InboundEvent).count() == 0
        assert tx.query(AuditEvent).count() == 0
