"""Event intake endpoints: PagerDuty Events API v2, Alertmanager, generic webhook, heartbeats.

These answer in PagerDuty's shapes (not the native API's error format), so clients
written for PagerDuty work by changing only the base URL. Authentication is the
routing key (body for Events v2, path for webhooks), as with PagerDuty. The
handlers only validate and hand events to the group committer; the engine turns
them into alerts and incidents.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from tocsin.incidents import events as ev
from tocsin.incidents import heartbeats
from tocsin.incidents.events import Event, EventRejected
from tocsin.incidents.intake import Accepted
from tocsin.incidents.mapping import alertmanager_events, check_mapping, webhook_event
from tocsin.kernel.errors import NotFound, ValidationFailed
from tocsin.kernel.ids import new_id
from tocsin.web.compat.committer import GroupCommitter
from tocsin.web.compat.routing import RateLimiter, Route, RoutingTable
from tocsin.web.deps import Services

JSON_TYPES = ("application/json", "text/json")
Answer = tuple[int, dict[str, Any], dict[str, str]]


def _answer(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return status, body, headers or {}


def invalid(errors: list[str], message: str = "Event object is invalid") -> Answer:
    return _answer(400, {"status": "invalid event", "message": message, "errors": errors})


TOO_LARGE: Answer = (
    413,
    {
        "status": "invalid event",
        "message": "Request body is too large",
        "errors": [f"The request body must be at most {ev.BODY_MAX_BYTES // 1024} KB"],
    },
    {},
)
UNAVAILABLE: Answer = (
    # Clients retry 5xx: right when the database is briefly unreachable.
    503,
    {"status": "unavailable", "message": "The event store is unavailable; retry shortly."},
    {"Retry-After": "5"},
)
NO_HEARTBEAT: Answer = (404, {"status": "not found", "message": "No heartbeat with this key."}, {})
_MALFORMED = object()


class Intake:
    """Per-app intake state: routing cache, rate limiter and group committer."""

    def __init__(self, services: Services) -> None:
        settings = services.settings
        self.services = services
        self.routes = RoutingTable(services.db)
        self.limiter = RateLimiter(settings.intake_rate_per_minute)
        self.committer = GroupCommitter(
            services.db,
            services.clock,
            on_commit=services.wake,
            max_batch=settings.intake_max_batch,
            # PostgreSQL overlaps commits from two writers; SQLite has one writer anyway.
            writers=2 if services.db.is_postgres else 1,
        )

    def close(self) -> None:
        self.committer.close()

    def route(self, key: str) -> Route | Answer:
        try:
            route = self.routes.lookup(key)
        except SQLAlchemyError:
            return UNAVAILABLE
        if route is None or route.kind == "heartbeat":
            return invalid(["'routing_key' does not match any integration"])
        wait = self.limiter.admit(key)
        if wait is not None:
            return _answer(
                429,
                {
                    "status": "throttle event",
                    "message": "Requests for this routing key are arriving too quickly. "
                    "Please retry later.",
                },
                {"Retry-After": str(max(1, int(wait + 0.999)))},
            )
        return route

    async def store(self, route: Route, kind: str, events: list[Event]) -> Answer | None:
        items = [
            Accepted(
                service_id=route.service_id,
                integration_id=route.integration_id,
                kind=kind,
                event=event,
            )
            for event in events
        ]
        try:
            await self.committer.submit(items)
        except SQLAlchemyError:
            return UNAVAILABLE
        return None

    # --- handlers: (path parameter, decoded body) -> answer ------------------------------

    async def enqueue(self, _key: str, body: Any) -> Answer:
        """PagerDuty Events API v2: trigger, acknowledge or resolve an alert."""
        try:
            route = self.route(ev.check_routing_key(body))
            if not isinstance(route, Route):
                return route
            event = ev.parse_alert_event(body, generated_key=new_id().hex)
        except EventRejected as exc:
            return invalid(exc.errors)
        failed = await self.store(route, "events_v2", [event])
        if failed is not None:
            return failed
        return _answer(
            202, {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key}
        )

    async def change(self, _key: str, body: Any) -> Answer:
        """PagerDuty change events: context beside incidents, never a page."""
        try:
            route = self.route(ev.check_routing_key(body))
            if not isinstance(route, Route):
                return route
            event = ev.parse_change_event(body)
        except EventRejected as exc:
            return invalid(exc.errors)
        failed = await self.store(route, "change", [event])
        if failed is not None:
            return failed
        return _answer(202, {"status": "success", "message": "Change event processed"})

    async def alertmanager(self, key: str, body: Any) -> Answer:
        """Prometheus Alertmanager webhook receiver (payload version 4)."""
        route = self.route(key)
        if not isinstance(route, Route):
            return route
        try:
            events = alertmanager_events(body)
        except EventRejected as exc:
            return invalid(exc.errors)
        failed = await self.store(route, "alertmanager", events)
        if failed is not None:
            return failed
        return _answer(
            202,
            {
                "status": "success",
                "message": "Events processed",
                "count": len(events),
                "dedup_keys": [e.dedup_key for e in events],
            },
        )

    async def webhook(self, key: str, body: Any) -> Answer:
        """Generic JSON webhook, mapped to an event by the integration's field mapping."""
        route = self.route(key)
        if not isinstance(route, Route):
            return route
        if not route.mapping:
            return invalid(
                ["This integration has no field mapping yet; set one on the service page"]
            )
        try:
            event = webhook_event(body, check_mapping(route.mapping))
        except EventRejected as exc:
            return invalid(exc.errors)
        except ValidationFailed:
            return invalid(["This integration's field mapping is not valid; fix it on the service"])
        failed = await self.store(route, "webhook", [event])
        if failed is not None:
            return failed
        return _answer(
            202, {"status": "success", "message": "Event processed", "dedup_key": event.dedup_key}
        )

    def heartbeat(self, key: str) -> Answer:
        """A heartbeat ping: the monitor is up for another interval (runs in a worker thread)."""
        services = self.services
        try:
            with services.db.transaction() as tx:
                beat = heartbeats.ping(tx, ping_key=key, now=services.clock.now())
                due = beat.next_due_at
        except NotFound:
            return NO_HEARTBEAT
        except SQLAlchemyError:
            return UNAVAILABLE
        services.wake()
        return _answer(
            200, {"status": "ok", "next_due_at": None if due is None else due.isoformat()}
        )


class LazyIntake:
    """Builds the intake state on first use (an app built only for its OpenAPI has none)."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._intake: Intake | None = None

    def get(self) -> Intake:
        if self._intake is None:
            self._intake = Intake(self.services)
        return self._intake

    def close(self) -> None:
        if self._intake is not None:
            self._intake.close()


class _IntakeRoute(NamedTuple):
    """What metrics read from ``scope["route"]``: the route template."""

    path: str


Handler = Callable[[Intake, str, Any], Awaitable[Answer]]
# path prefix -> (route template, handler, whether the path carries a key)
_ROUTES: dict[str, tuple[str, Handler, bool]] = {
    "/v2/enqueue": ("/v2/enqueue", Intake.enqueue, False),
    "/v2/change/enqueue": ("/v2/change/enqueue", Intake.change, False),
    "/integrations/alertmanager/": ("/integrations/alertmanager/{key}", Intake.alertmanager, True),
    "/integrations/webhook/": ("/integrations/webhook/{key}", Intake.webhook, True),
}
HEARTBEAT = "/integrations/heartbeat/"


def _key_from_path(key: str) -> str | None:
    return key if len(key) == ev.ROUTING_KEY_LENGTH and key.isalnum() else None


class IntakeEndpoints:
    """Serves the intake paths as plain ASGI, ahead of the framework's routing.

    The intake is the hottest path in Tocsin (monitoring floods): it skips FastAPI's
    dependency machinery and answers in PagerDuty's shapes. Every other path goes on
    to the app unchanged.
    """

    def __init__(self, app: ASGIApp, *, intake: LazyIntake) -> None:
        self.app = app
        self.lazy = intake

    def _match(self, path: str) -> tuple[str, Handler | None, str] | None:
        if path.startswith(HEARTBEAT):
            return "/integrations/heartbeat/{key}", None, path[len(HEARTBEAT) :]
        for prefix, (template, handler, keyed) in _ROUTES.items():
            if keyed and path.startswith(prefix) and "/" not in path[len(prefix) :]:
                return template, handler, path[len(prefix) :]
            if not keyed and path == prefix:
                return template, handler, ""
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(("/v2/", "/integrations/")):
            await self.app(scope, receive, send)
            return
        matched = self._match(scope["path"])
        if matched is None:
            await self.app(scope, receive, send)
            return
        template, handler, key = matched
        state = self.lazy.get()
        scope["route"] = _IntakeRoute(template)
        method = scope["method"]
        if handler is None:
            if method not in ("GET", "POST", "HEAD"):
                answer = _answer(405, {"status": "error", "message": "Use GET or POST."})
            elif _key_from_path(key) is None:
                answer = NO_HEARTBEAT
            else:
                answer = await run_in_threadpool(state.heartbeat, key)
        elif method != "POST":
            answer = _answer(405, {"status": "error", "message": "Use POST."}, {"Allow": "POST"})
        elif (
            template != "/v2/enqueue"
            and template != "/v2/change/enqueue"
            and (_key_from_path(key) is None)
        ):
            answer = invalid(["The integration key in the URL is not valid"])
        else:
            body = await _read_body(scope, receive)
            if isinstance(body, tuple):
                answer = body
            else:
                decoded = _decode(body)
                if decoded is _MALFORMED:
                    answer = invalid(["Malformed JSON: the body could not be parsed"])
                else:
                    answer = await handler(state, key, decoded)
        await _send(send, answer)


async def _read_body(scope: Scope, receive: Receive) -> bytes | Answer:
    """The body, or a PagerDuty-shaped refusal (wrong content type, too large)."""
    content_type = b""
    declared = b""
    for name, value in scope["headers"]:
        if name == b"content-type":
            content_type = value
        elif name == b"content-length":
            declared = value
    kind = content_type.split(b";", 1)[0].strip().lower().decode("latin-1")
    if kind not in JSON_TYPES:
        return invalid(["Content-Type must be application/json"])
    if declared.isdigit() and int(declared) > ev.BODY_MAX_BYTES:
        return TOO_LARGE
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > ev.BODY_MAX_BYTES:
            return TOO_LARGE
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return _MALFORMED


async def _send(send: Send, answer: Answer) -> None:
    status, body, headers = answer
    payload = json.dumps(body, separators=(",", ":")).encode()
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        *((name.lower().encode(), value.encode()) for name, value in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
