"""A real webhook receiver on 127.0.0.1 that records every signed page Tocsin POSTs to it.

Thread-based (``ThreadingHTTPServer``), loopback only. Each request's X-Tocsin-Signature
is checked with the shared secret (``tocsin.channels.webhook.verify``); a bad signature
is answered 401 and counted, never recorded. A delivery is recorded just before the 200
goes out, after an optional random delay (so a ``kill -9`` of the sender can land while
a request is in flight). Used by the paging crash tests and by ``bench/paging.py``.
"""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import select

from tocsin.channels.webhook import MESSAGE_ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tocsin.db.session import Database
from tocsin.escalation import actions as escalation
from tocsin.incidents import transitions
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people
from tocsin.people import contacts
from tocsin.services import actions as services
from tocsin.services.tables import Service

SYSTEM = Actor.system(via="cli")


@dataclass(frozen=True)
class Delivery:
    """One accepted webhook: what it was about and when it arrived (``time.time()``)."""

    path: str
    message_id: str
    dedup_key: str
    incident_id: str | None
    received_at: float
    subject: str = ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    sink: PagingSink


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        sink = self.server.sink
        arrived = time.time()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) < length:
            # The sender died mid-request (kill -9): nothing was delivered, nothing is
            # counted; its claim expires and the page is sent again.
            with sink.lock:
                sink.truncated += 1
            self.close_connection = True
            return
        ok = verify(
            sink.secret,
            self.headers.get(TIMESTAMP_HEADER, ""),
            body,
            self.headers.get(SIGNATURE_HEADER, ""),
            now=time.time(),
        )
        if not ok:
            with sink.lock:
                sink.bad_signatures += 1
            self._answer(401)
            return
        document: dict[str, Any] = json.loads(body)
        delay = sink.next_delay()
        if delay > 0:
            time.sleep(delay)
        incident = document.get("incident") or {}
        delivery = Delivery(
            path=self.path,
            message_id=str(self.headers.get(MESSAGE_ID_HEADER) or document.get("message_id")),
            dedup_key=str(document.get("dedup_key")),
            incident_id=incident.get("id"),
            received_at=arrived,
            subject=str(document.get("subject") or ""),
        )
        with sink.lock:
            sink.deliveries.append(delivery)
        self._answer(200)

    def _answer(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        return


class PagingSink:
    """``with PagingSink(secret) as sink:`` … ``sink.url("ada")`` is a webhook address."""

    def __init__(
        self,
        secret: bytes,
        *,
        delay: tuple[float, float] = (0.0, 0.0),
        seed: int | None = None,
    ) -> None:
        self.secret = secret
        self.delay = delay
        self.lock = threading.Lock()
        self.deliveries: list[Delivery] = []
        self.bad_signatures = 0
        self.truncated = 0
        self._random = random.Random(seed)
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.sink = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, name: str = "hook") -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def next_delay(self) -> float:
        low, high = self.delay
        if high <= 0:
            return 0.0
        with self.lock:
            return self._random.uniform(low, high)

    def start(self) -> PagingSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> PagingSink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- reading what arrived ---------------------------------------------------------------

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def count(self) -> int:
        with self.lock:
            return len(self.deliveries)

    def by_dedup_key(self) -> Counter[str]:
        return Counter(d.dedup_key for d in self.snapshot())

    def by_message_id(self) -> Counter[str]:
        return Counter(d.message_id for d in self.snapshot())

    def first_by_incident(self) -> dict[str, float]:
        """The earliest arrival time per incident id."""
        first: dict[str, float] = {}
        for d in self.snapshot():
            if d.incident_id is not None:
                first[d.incident_id] = min(first.get(d.incident_id, d.received_at), d.received_at)
        return first


# -- the graph these pages come from ---------------------------------------------------------


@dataclass(frozen=True)
class Responder:
    """A person paged only by webhook (a rule: the webhook at once) and their own service."""

    user_id: uuid.UUID
    method_id: uuid.UUID
    service_id: uuid.UUID
    routing_key: str

    def page_key(self, incident_id: uuid.UUID | str, step: int = 1) -> str:
        """The dedup key of this person's page for ``step`` of an incident (rule 0)."""
        return f"page:{incident_id}:{step}:{self.user_id}:0:{self.method_id}"


def webhook_responders(
    db: Database, urls: Sequence[str], *, now: datetime, prefix: str = "Pager"
) -> list[Responder]:
    """One person per URL (verified webhook method, rule "webhook at once"), each the only
    target of a one-level policy of a service of their own (no grouping, no storm
    protection: every event opens an incident of its own)."""
    out: list[Responder] = []
    with db.transaction() as tx:
        for n, url in enumerate(urls):
            user = people.create_user(
                tx,
                email=f"{prefix.lower()}{n}@example.com",
                name=f"{prefix} {n}",
                role="responder",
                actor=SYSTEM,
                now=now,
            )
            method = contacts.add_method(
                tx,
                user_id=user.id,
                kind="webhook",
                address=url,
                label="",
                actor=SYSTEM,
                now=now,
                allow_private=True,
                verified=True,
            )
            for urgency in ("high", "low"):
                contacts.set_rules(
                    tx,
                    user_id=user.id,
                    urgency=urgency,
                    steps=[(0, method.id)],
                    actor=SYSTEM,
                    now=now,
                )
            policy = escalation.create_policy(
                tx,
                name=f"{prefix} policy {n}",
                levels=[{"delay_minutes": 5, "targets": [{"kind": "user", "id": str(user.id)}]}],
                actor=SYSTEM,
                now=now,
            )
            service = services.create_service(
                tx,
                name=f"{prefix} service {n}",
                escalation_policy_id=policy.id,
                actor=SYSTEM,
                now=now,
            )
            # Passing storm_threshold=None to create_service stores the column default (20).
            service.storm_threshold = None
            out.append(
                Responder(user.id, method.id, service.id, service.integrations[0].routing_key)
            )
    return out


def open_incidents(
    db: Database,
    responders: Sequence[Responder],
    count: int,
    *,
    now: datetime,
    batch: int = 100,
) -> list[tuple[uuid.UUID, Responder]]:
    """Open ``count`` incidents round-robin over the responders' services; each one's first
    (and only) escalation step is due at ``now``. Returns (incident id, who it pages)."""
    out: list[tuple[uuid.UUID, Responder]] = []
    for start in range(0, count, batch):
        with db.transaction() as tx:
            rows = {
                s.id: s
                for s in tx.execute(
                    select(Service).where(Service.id.in_([r.service_id for r in responders]))
                ).scalars()
            }
            for n in range(start, min(count, start + batch)):
                who = responders[n % len(responders)]
                incident = transitions.open_incident(
                    tx,
                    service=rows[who.service_id],
                    title=f"crash test incident {n}",
                    description="",
                    urgency="high",
                    priority=None,
                    actor=SYSTEM,
                    now=now,
                )
                out.append((incident.id, who))
    return out
