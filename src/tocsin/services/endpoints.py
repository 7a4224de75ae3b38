"""Where senders deliver events: the public intake URL of each integration kind and heartbeat."""

from __future__ import annotations

from typing import Final

# Paths served by ``web.compat.intake``; ``{key}`` is the integration's routing key. The
# Events API v2 carries its routing key in the body, like PagerDuty, so its URL has none.
INTAKE_PATHS: Final = {
    "events_v2": "/v2/enqueue",
    "alertmanager": "/integrations/alertmanager/{key}",
    "generic_webhook": "/integrations/webhook/{key}",
}
HEARTBEAT_PATH: Final = "/integrations/heartbeat/{key}"


def intake_url(base_url: str, kind: str, routing_key: str) -> str | None:
    """The URL a sender posts to for an integration (None for kinds without one)."""
    path = INTAKE_PATHS.get(kind)
    if path is None:
        return None
    return base_url.rstrip("/") + path.replace("{key}", routing_key)


def heartbeat_url(base_url: str, ping_key: str) -> str:
    """The URL a monitored job pings (GET or POST) every interval."""
    return base_url.rstrip("/") + HEARTBEAT_PATH.replace("{key}", ping_key)
