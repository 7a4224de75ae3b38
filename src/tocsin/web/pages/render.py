"""Page rendering: the shared template context, time filters and HTML responses."""

from __future__ import annotations

import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from starlette.responses import Response

from tocsin import __version__
from tocsin.people import rules as people_rules
from tocsin.web.deps import Principal


def zone(name: str | None) -> tzinfo:
    """The zone called ``name``; UTC when unset or unknown (never fails a page)."""
    if not name:
        return UTC
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def localtime(value: datetime | None, zone_name: str | None = "UTC") -> Markup:
    """A ``<time>`` in the viewer's zone with the UTC instant in its title."""
    if value is None:
        return Markup('<span class="muted">never</span>')
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    utc = value.astimezone(UTC)
    local = utc.astimezone(zone(zone_name))
    text = f"{local:%d %b %Y %H:%M} {local.tzname()}"
    return Markup('<time datetime="{}" title="{} UTC">{}</time>').format(
        utc.isoformat(), f"{utc:%Y-%m-%d %H:%M}", text
    )


def wall_clock(value: datetime, zone_name: str) -> str:
    """Local wall time in ``zone_name``, e.g. ``Mon 14:05 CET``."""
    local = value.astimezone(zone(zone_name))
    return f"{local:%a %H:%M} {local.tzname()}"


def templates_of(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.templates
    filters = templates.env.filters
    if "localtime" not in filters:
        filters["localtime"] = localtime
        filters["wall_clock"] = wall_clock
    return templates


def render(
    request: Request,
    name: str,
    viewer: Principal | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Render ``name`` with the viewer, their zone and CSRF token in the context."""
    ctx: dict[str, Any] = {
        "viewer": viewer,
        "tz": viewer.user.time_zone if viewer else "UTC",
        "csrf_token": viewer.csrf_token if viewer else None,
        "can": (lambda permission: people_rules.allows(viewer.actor.role, permission))
        if viewer
        else (lambda permission: False),
        "version": __version__,
        "errors": {},
        "values": {},
    }
    ctx.update(context or {})
    response: Response = templates_of(request).TemplateResponse(
        request, name, ctx, status_code=status, headers=dict(headers) if headers else None
    )
    return response
