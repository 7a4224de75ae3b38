"""Health, readiness and metrics: open without credentials, truthful about the engine."""

from __future__ import annotations

from tests.integration.api_support import api_client
from tocsin.bootstrap import Container


def test_healthz_is_open(container: Container) -> None:
    with api_client(container) as client:
        r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok"


def test_readyz_waits_for_an_engine_cycle(container: Container) -> None:
    with api_client(container) as client:
        r = client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["database"]["ok"] is True
        assert r.json()["checks"]["engine"]["ok"] is False
        container.runner.run_cycle()
        r = client.get("/readyz")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "ready"


def test_metrics_are_open_and_report_the_outbox(container: Container) -> None:
    with api_client(container) as client:
        client.get("/healthz")
        r = client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'tocsin_outbox_messages{status="pending"} 0.0' in r.text
    assert "tocsin_http_requests_total" in r.text
