"""Prometheus metrics: HTTP requests of this process, outbox and engine state from the database."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from tocsin.notifications import repo as outbox_repo
from tocsin.notifications.tables import STATUSES
from tocsin.web.deps import Services


class DatabaseCollector(Collector):
    """Reads outbox and engine state at scrape time, so every web replica reports the same truth."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def collect(self) -> Iterator[GaugeMetricFamily]:
        outbox = GaugeMetricFamily(
            "tocsin_outbox_messages", "Outbound messages by status", labels=["status"]
        )
        engine = GaugeMetricFamily(
            "tocsin_engine_cycle_lag_seconds", "Seconds since the last engine cycle"
        )
        instances = GaugeMetricFamily(
            "tocsin_engine_instances", "Engine instances with a heartbeat"
        )
        try:
            with self.services.db.read() as tx:
                counts = outbox_repo.count_by_status(tx)
            health = self.services.engine_health()
        except Exception:
            return
        for status in STATUSES:
            outbox.add_metric([status], counts.get(status, 0))
        yield outbox
        if health.lag_seconds is not None:
            engine.add_metric([], health.lag_seconds)
            yield engine
        instances.add_metric([], health.instances)
        yield instances


def install(app: FastAPI, services: Services) -> None:
    registry = CollectorRegistry()
    requests = Counter(
        "tocsin_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    latency = Histogram(
        "tocsin_http_request_seconds", "HTTP request latency", ["route"], registry=registry
    )
    registry.register(DatabaseCollector(services))
    app.state.metrics_registry = registry

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        begun = time.perf_counter()
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        requests.labels(request.method, route, str(response.status_code)).inc()
        latency.labels(route).observe(time.perf_counter() - begun)
        return response


def registry_for(app: FastAPI) -> CollectorRegistry:
    registry: CollectorRegistry = app.state.metrics_registry
    return registry
