"""Request dependencies: the container, who is asking (session or API token), CSRF."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Protocol

from fastapi import Depends, Request

from tocsin.db.session import Database
from tocsin.incidents.paging import PagingConfig
from tocsin.kernel.actor import Actor, Scope
from tocsin.kernel.clock import Clock
from tocsin.kernel.errors import PermissionDenied, Unauthenticated
from tocsin.people import actions as people_actions
from tocsin.people.tables import User
from tocsin.settings import Settings

SESSION_COOKIE = "tocsin_session"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class EngineStatus(Protocol):
    """Read-only view of ``engine.status.EngineHealth``."""

    @property
    def last_cycle_at(self) -> datetime | None: ...
    @property
    def instances(self) -> int: ...
    @property
    def ok(self) -> bool: ...
    @property
    def lag_seconds(self) -> float | None: ...


class PagingHealthView(Protocol):
    """Read-only view of ``engine.watchdog.PagingHealth``."""

    @property
    def escalations_overdue(self) -> int: ...
    @property
    def escalation_oldest_due_seconds(self) -> float: ...
    @property
    def outbox_oldest_due_seconds(self) -> float: ...
    @property
    def outbox_failed(self) -> int: ...
    @property
    def alarms(self) -> Mapping[str, bool]: ...


class Services(Protocol):
    """What the web adapter needs from the composition root (``bootstrap.Container``)."""

    settings: Settings
    db: Database
    clock: Clock
    secret_key: bytes
    vapid_public_key: str

    @property
    def paging(self) -> PagingConfig: ...

    def wake(self) -> None: ...

    def engine_health(self) -> EngineStatus: ...

    def paging_health(self) -> PagingHealthView: ...


def get_container(request: Request) -> Services:
    container: Services = request.app.state.container
    return container


@dataclass(frozen=True)
class Principal:
    """The signed-in person behind a request and how they proved it."""

    user: User
    actor: Actor
    csrf_token: str | None  # set for browser sessions; API tokens need none


def authenticate(request: Request) -> Principal | None:
    """Resolve a bearer token or session cookie; None when neither is valid."""
    container = get_container(request)
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    now = container.clock.now()
    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, raw = header.partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise Unauthenticated("Use 'Authorization: Bearer <token>'.")
        with container.db.transaction() as tx:
            found = people_actions.resolve_token(tx, raw=raw.strip(), now=now)
            if found is None:
                raise Unauthenticated("The API token is unknown or revoked.")
            user, token = found
            token.last_used_at = now
            scope: Scope = "write" if token.scope == "write" else "read"
            principal = Principal(
                user, people_actions.actor_for(user, via="token", scope=scope), None
            )
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            with container.db.read() as tx:
                session_found = people_actions.resolve_session(tx, raw=cookie, now=now)
                if session_found is not None:
                    user, session = session_found
                    principal = Principal(
                        user, people_actions.actor_for(user, via="session"), session.csrf_token
                    )
                    # A read transaction ends in a rollback, which expires loaded rows;
                    # detach the user so the request can still read its attributes.
                    tx.expunge(user)
    request.state.principal = principal
    return principal


def check_csrf(request: Request, principal: Principal, submitted: str | None) -> None:
    """Unsafe requests authenticated by a cookie must echo the session's CSRF token."""
    if request.method in SAFE_METHODS or principal.csrf_token is None:
        return
    candidate = submitted or request.headers.get(CSRF_HEADER) or ""
    if not hmac.compare_digest(candidate.encode(), principal.csrf_token.encode()):
        raise PermissionDenied(
            "The form expired or did not come from Tocsin (CSRF check failed); reload the page.",
            code="auth.csrf",
        )


def require_principal(request: Request) -> Principal:
    """Any signed-in person (the API's dependency).

    A cookie-authenticated unsafe request must send the session's CSRF token in
    X-CSRF-Token, whatever its content type (a cross-site form post included). Pages
    read their token from the form instead (``pages.forms.CheckedForm``).
    """
    principal = authenticate(request)
    if principal is None:
        raise Unauthenticated()
    check_csrf(request, principal, None)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(require_principal)]
AppServices = Annotated[Services, Depends(get_container)]
