"""Outbound webhooks: a JSON POST signed with HMAC-SHA256 over timestamp and body."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tocsin.channels.base import Delivered, Envelope
from tocsin.channels.outbound import post, status_error

SIGNATURE_HEADER = "X-Tocsin-Signature"
TIMESTAMP_HEADER = "X-Tocsin-Timestamp"
MESSAGE_ID_HEADER = "X-Tocsin-Message-Id"


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The X-Tocsin-Signature value: ``sha256=`` + hex HMAC-SHA256 of ``b"<timestamp>.<body>"``."""
    mac = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(
    secret: bytes, timestamp: str, body: bytes, header: str, now: float, tolerance: int = 300
) -> bool:
    """True if ``header`` signs ``body`` at ``timestamp``, within ``tolerance`` s of ``now``.

    The timestamp is inside the signed text, so an old request replayed later
    fails the window; receivers wanting exactly-once also drop repeated message ids.
    """
    try:
        stamp = int(timestamp)
    except ValueError:
        return False
    if abs(now - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), header)


def payload(envelope: Envelope, sent_at: int) -> dict[str, Any]:
    """The JSON document a webhook receives (see docs/channels.md)."""
    context = envelope.context
    links = {
        key.removesuffix("_url"): str(context[key])
        for key in ("ack_url", "resolve_url")
        if context.get(key)
    }
    if context.get("incident_url"):
        links["incident"] = str(context["incident_url"])
    number = context.get("incident_number")
    return {
        "type": str(context.get("kind", "page")),
        "subject": envelope.subject,
        "body": envelope.body,
        "incident": {
            "id": str(context["incident_id"]) if context.get("incident_id") else None,
            "number": int(number) if number is not None else None,
        },
        "links": links,
        "message_id": envelope.message_id,
        "dedup_key": envelope.dedup_key,
        "sent_at": datetime.fromtimestamp(sent_at, UTC).isoformat().replace("+00:00", "Z"),
    }


class SignedWebhook:
    """POSTs ``payload`` to the recipient URL; any 2xx is delivery.

    The SSRF guard (netguard) refuses loopback, private, link-local and reserved
    addresses unless ``allow_private``; redirects are never followed.
    ``clock`` returns Unix seconds (tests pass a fixed one).
    """

    name = "webhook"

    def __init__(
        self,
        secret: bytes,
        allow_private: bool = False,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.secret = secret
        self.allow_private = allow_private
        self.clock = clock

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        timestamp = int(self.clock())
        body = json.dumps(payload(envelope, timestamp), separators=(",", ":")).encode()
        reply = post(
            envelope.recipient,
            timeout=timeout,
            label="webhook",
            allow_private=self.allow_private,
            content=body,
            headers={
                "Content-Type": "application/json",
                "User-Agent": "Tocsin-Webhook/1",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                MESSAGE_ID_HEADER: envelope.message_id,
            },
        )
        if not reply.ok:
            raise status_error("webhook", reply)
        return Delivered(provider_ref=envelope.message_id)
