"""Routing keys → integrations, cached briefly, and a per-key rate limit (token bucket)."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass

from tocsin.db.session import Database
from tocsin.services import repo as service_repo

POSITIVE_TTL = 10.0  # seconds a known key is trusted without a query
NEGATIVE_TTL = 2.0  # seconds an unknown key stays unknown (a new integration appears fast)
CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Route:
    service_id: uuid.UUID
    integration_id: uuid.UUID
    kind: str
    mapping: dict[str, object] | None


class RoutingTable:
    """Looks up integrations by routing key; a removed key stops working within 10 s."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[float, Route | None]] = {}
        self._lock = threading.Lock()

    def lookup(self, key: str) -> Route | None:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        with self._db.read() as tx:
            integration = service_repo.find_integration_by_routing_key(tx, key)
            route = (
                None
                if integration is None
                else Route(
                    service_id=integration.service_id,
                    integration_id=integration.id,
                    kind=integration.kind,
                    mapping=integration.mapping,
                )
            )
        with self._lock:
            if len(self._cache) >= CACHE_MAX:
                self._cache.clear()
            ttl = POSITIVE_TTL if route is not None else NEGATIVE_TTL
            self._cache[key] = (now + ttl, route)
        return route

    def forget(self, key: str) -> None:
        with self._lock:
            self._cache.pop(key, None)


class RateLimiter:
    """Token bucket per routing key: ``per_minute`` sustained, a minute's worth of burst.

    Per web process (documented): N processes admit up to N times the rate.
    """

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def admit(self, key: str) -> float | None:
        """None when admitted, else the seconds to wait before retrying."""
        if self.per_minute <= 0:
            return None
        rate = self.per_minute / 60.0
        capacity = float(self.per_minute)
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / rate
