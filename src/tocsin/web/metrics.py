"""Prometheus metrics: HTTP requests of this process, outbox and engine state from the database."""

from __future__ import annotations

import time
from collections.abc import Iterator

from fastapi import FastAPI
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tocsin.incidents import repo as incident_repo
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
        backlog = GaugeMetricFamily(
            "tocsin_intake_pending_events",
            "Accepted events not yet turned into alerts (the intake backlog)",
        )
        try:
            with self.services.db.read() as tx:
                counts = outbox_repo.count_by_status(tx)
                pending = incident_repo.pending_event_count(tx)
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
        backlog.add_metric([], pending)
        yield backlog
        yield from self._paging()

    def _paging(self) -> Iterator[GaugeMetricFamily]:
        """Paging's backlog and the watchdog's alarms (see docs/operations-paging.md)."""
        try:
            health = self.services.paging_health()
        except Exception:
            return
        values = (
            ("tocsin_escalations_overdue", "Escalation steps overdue beyond the watchdog's "
             "threshold", health.escalations_overdue),
            ("tocsin_escalation_oldest_due_seconds", "Age of the oldest due escalation step",
             health.escalation_oldest_due_seconds),
            ("tocsin_outbox_oldest_due_seconds", "Age of the oldest due outbound message",
             health.outbox_oldest_due_seconds),
            ("tocsin_outbox_failed_total", "Outbound messages that failed for good",
             health.outbox_failed),
        )  # fmt: skip
        for name, help_text, value in values:
            family = GaugeMetricFamily(name, help_text)
            family.add_metric([], value)
            yield family
        alarm = GaugeMetricFamily(
            "tocsin_watchdog_alarm", "1 while a watchdog alarm is raised", labels=["kind"]
        )
        for kind, raised in health.alarms.items():
            alarm.add_metric([kind], 1 if raised else 0)
        yield alarm


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

    app.add_middleware(MeasureRequests, requests=requests, latency=latency)


class MeasureRequests:
    """Counts requests and their latency per route template (pure ASGI: no per-request task)."""

    def __init__(self, app: ASGIApp, *, requests: Counter, latency: Histogram) -> None:
        self.app = app
        self.requests = requests
        self.latency = latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        begun = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], route, str(status)).inc()
            self.latency.labels(route).observe(time.perf_counter() - begun)


def registry_for(app: FastAPI) -> CollectorRegistry:
    registry: CollectorRegistry = app.state.metrics_registry
    return registry
