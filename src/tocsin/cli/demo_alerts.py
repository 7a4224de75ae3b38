"""Demo alerts: a short incident history, then a slow trickle of realistic events while it runs.

Everything enters through ``incidents.intake.accept_events`` (the path monitoring uses)
and the lifecycle actions (the path people use), so the demo shows exactly what a real
instance would record: deduplication, suppressed notifications, change events, grouping
and a timeline with people's notes.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin import bootstrap
from tocsin.incidents import actions as incident_actions
from tocsin.incidents import repo as incident_repo
from tocsin.incidents.events import Event
from tocsin.incidents.intake import Accepted, accept_events, process_pending
from tocsin.incidents.tables import Alert, Incident
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.services import repo as service_repo


@dataclass(frozen=True)
class Sample:
    """One realistic alert a monitoring system would send for a service."""

    service: str
    summary: str
    source: str
    severity: str
    description: str = ""
    runbook: bool = True
    component: str | None = None


SAMPLES = (
    Sample(
        "Checkout API",
        "Checkout API 5xx rate 7.2% (threshold 2%) in eu-west-1",
        "prometheus: checkout-api",
        "critical",
        "HTTP 5xx responses from POST /v1/orders rose above 2% for 5 minutes; customers "
        "cannot pay. Started after the 14:02 deploy.",
        component="api-gateway",
    ),
    Sample(
        "Checkout API",
        "Card authorisations timing out at the payment provider (p99 9.8 s)",
        "datadog: payments-psp",
        "error",
        "p99 latency of provider authorisations above 5 s for 10 minutes; retries are "
        "piling up in the payment queue.",
    ),
    Sample(
        "Primary Postgres",
        "Replication lag 184 s on pg-replica-2",
        "prometheus: postgres-exporter",
        "warning",
        "The replica serving reporting queries is behind the primary; reads may be stale.",
        component="pg-replica-2",
    ),
    Sample(
        "Primary Postgres",
        "Disk 91% full on pg-primary-1 (/var/lib/postgresql)",
        "prometheus: node-exporter",
        "error",
        "At the current growth rate the volume is full in about 6 hours.",
        component="pg-primary-1",
    ),
    Sample(
        "Kubernetes Platform",
        "Node ip-10-2-14-7 NotReady for 6 minutes (prod-eu cluster)",
        "alertmanager: kube-state-metrics",
        "error",
        "Pods are being rescheduled; capacity in eu-west-1b is down one node.",
        component="prod-eu",
    ),
    Sample(
        "Kubernetes Platform",
        "Ingress controller restarts: 4 in 10 minutes",
        "alertmanager: kube-state-metrics",
        "warning",
        "",
        runbook=False,
    ),
    Sample(
        "Storefront Web",
        "Storefront LCP above 4 s for 10% of visitors",
        "grafana: rum",
        "warning",
        "Largest Contentful Paint regressed after the image CDN change.",
    ),
    Sample("Storefront Web", "Error", "legacy-nagios", "error", "", runbook=False),
    Sample(
        "Recommendations",
        "Model feature store stale: last refresh 3 h ago",
        "airflow",
        "warning",
        "Recommendations fall back to best sellers until the refresh runs.",
    ),
    Sample(
        "Nightly ETL",
        "Warehouse load orders_daily failed (exit 137, OOMKilled)",
        "airflow",
        "error",
        "The orders fact table for yesterday is missing; finance reports are incomplete.",
    ),
    Sample(
        "Payouts",
        "Payout batch 2026-11-27 not confirmed by the bank",
        "payouts-worker",
        "critical",
        "Merchants will not be paid today unless the batch is resubmitted before 16:00.",
    ),
)
CHANGES = (
    ("Checkout API", "Deploy checkout-api v2.41.0 (build 7712)", "github-actions"),
    ("Kubernetes Platform", "Upgrade ingress-nginx to 1.11.3", "argocd"),
    ("Storefront Web", "Switch image CDN to the new provider", "terraform"),
)
NOTIFICATIONS = (
    ("Primary Postgres", "Autovacuum finished on orders (42 min)", "postgres-exporter"),
    ("Kubernetes Platform", "Certificate for api.example.com renews in 20 days", "cert-manager"),
)


def _services(tx: Session) -> dict[str, Any]:
    return {service.name: service for service in service_repo.list_services(tx, limit=100)}


def _event(sample: Sample, dedup: str) -> Event:
    links = [{"href": "https://grafana.example.com/d/demo", "text": "Dashboard"}]
    if sample.runbook:
        slug = sample.service.lower().replace(" ", "-")
        links.append({"href": f"https://runbooks.example.com/{slug}", "text": "Runbook"})
    return Event(
        action="trigger",
        dedup_key=dedup,
        summary=sample.summary,
        source=sample.source,
        severity=sample.severity,
        component=sample.component,
        custom_details={"description": sample.description} if sample.description else None,
        links=links,
        client="Demo monitoring",
    )


def _accept(tx: Session, services: dict[str, Any], name: str, event: Event, now: datetime) -> None:
    service = services[name]
    integration = service.integrations[0]
    accept_events(
        tx,
        items=[
            Accepted(
                service_id=service.id,
                integration_id=integration.id,
                kind="events_v2",
                event=event,
            )
        ],
        now=now,
    )


def seed_history(tx: Session, *, now: datetime) -> bool:
    """A few incidents from the last days in every state, with people's actions. Idempotent."""
    if tx.execute(select(func.count()).select_from(Incident)).scalar_one() > 0:
        return False
    services = _services(tx)
    if not services:
        return False
    people = {u.email: u for u in people_repo.list_users(tx, limit=100)}
    responder = next((u for u in people.values() if u.role == "responder"), None)
    if responder is None:
        return False
    as_responder = people_actions.actor_for(responder, via="web")
    story = [
        (timedelta(days=2, hours=3), SAMPLES[3], "pg-disk", "resolved", 3),
        (timedelta(days=1, hours=5), SAMPLES[0], "checkout-5xx", "resolved", 2),
        (timedelta(minutes=12), SAMPLES[2], "pg-lag", "acknowledged", 4),
        (timedelta(minutes=4), SAMPLES[4], "k8s-node", "triggered", None),
    ]
    for ago, sample, dedup, state, severity in story:
        at = now - ago
        _accept(tx, services, sample.service, _event(sample, dedup), at)
        process_pending(tx, now=at)
        alert = tx.execute(select(Alert).where(Alert.dedup_key == dedup)).scalars().first()
        if alert is None or alert.incident_id is None:
            continue
        incident_id = alert.incident_id
        if severity is not None:
            incident_actions.set_severity(
                tx, incident_id=incident_id, severity=severity, actor=as_responder, now=at
            )
        if state in ("acknowledged", "resolved"):
            incident_actions.acknowledge_incident(
                tx, incident_id=incident_id, actor=as_responder, now=at + timedelta(minutes=3)
            )
            incident_actions.add_note(
                tx,
                incident_id=incident_id,
                text="Looking now. Dashboards show it started with the last deploy.",
                actor=as_responder,
                now=at + timedelta(minutes=6),
            )
        if state == "resolved":
            incident_actions.resolve_incident(
                tx,
                incident_id=incident_id,
                actor=as_responder,
                now=at + timedelta(minutes=48),
                note="Rolled back; error rate back to baseline for 20 minutes.",
            )
    for name, summary, source in NOTIFICATIONS:
        _accept(
            tx,
            services,
            name,
            Event(
                action="trigger",
                dedup_key=f"note-{source}",
                summary=summary,
                source=source,
                severity="info",
            ),
            now - timedelta(hours=1),
        )
    for name, summary, source in CHANGES:
        _accept(
            tx,
            services,
            name,
            Event(action="change", dedup_key=None, summary=summary, source=source),
            now - timedelta(hours=2),
        )
    process_pending(tx, now=now)
    return True


class Trickle:
    """Sends a realistic event every ``every`` seconds (jittered) until stopped.

    Mostly new alerts and repeats of open ones (deduplicated), sometimes a resolve, a
    change event or a suppressed notification. Events go in like monitoring's would:
    accepted, then turned into alerts and incidents by the engine.
    """

    def __init__(self, container: bootstrap.Container, every: float = 90.0) -> None:
        self.container = container
        self.every = every
        self.stopped = threading.Event()
        self.random = random.Random()  # noqa: S311 - picks demo events, not secrets
        self.thread = threading.Thread(target=self._run, name="tocsin-demo-alerts", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()

    def _run(self) -> None:
        while not self.stopped.wait(self.every * self.random.uniform(0.5, 1.5)):
            try:
                self.send_one()
            except Exception:  # noqa: S112 - a demo nicety must never stop the server
                continue

    def send_one(self) -> str:
        """Send one event now; returns what it was (for tests and logs)."""
        c = self.container
        now = c.clock.now()
        roll = self.random.random()
        with c.db.transaction() as tx:
            services = _services(tx)
            open_alerts = incident_repo.list_alerts(tx, limit=20, status="triggered")
            if roll < 0.15 and open_alerts:
                alert = self.random.choice(list(open_alerts))
                name = next(n for n, s in services.items() if s.id == alert.service_id)
                _accept(
                    tx,
                    services,
                    name,
                    Event(action="resolve", dedup_key=alert.dedup_key),
                    now,
                )
                kind = "resolve"
            elif roll < 0.25:
                name, summary, source = self.random.choice(CHANGES)
                event = Event(action="change", dedup_key=None, summary=summary, source=source)
                _accept(tx, services, name, event, now)
                kind = "change"
            elif roll < 0.35:
                name, summary, source = self.random.choice(NOTIFICATIONS)
                event = Event(
                    action="trigger",
                    dedup_key=f"note-{source}",
                    summary=summary,
                    source=source,
                    severity="info",
                )
                _accept(tx, services, name, event, now)
                kind = "notification"
            else:
                sample = self.random.choice(SAMPLES)
                # Half the time the same problem fires again: deduplicated, nobody re-paged.
                dedup = f"demo-{SAMPLES.index(sample)}"
                if self.random.random() < 0.5:
                    dedup += f"-{int(now.timestamp())}"
                _accept(tx, services, sample.service, _event(sample, dedup), now)
                kind = "alert"
        c.wake()
        return kind
