"""Web Push (RFC 8030) to browsers: payload encrypted per RFC 8291, VAPID-signed (RFC 8292)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from tocsin.channels.base import Delivered, DeliveryError, Envelope
from tocsin.channels.outbound import post, status_error

TTL_SECONDS = 3600  # a page older than an hour is stale; the escalation has moved on
VAPID_LIFETIME = 12 * 3600  # push services refuse tokens valid for more than 24 h


def generate_vapid_keys() -> tuple[str, str]:
    """A new P-256 key pair: (private, public), both unpadded base64url.

    The private key is the raw 32-byte scalar, as pywebpush/py_vapid accept it;
    the public key is the uncompressed point the browser takes as
    ``applicationServerKey`` in ``pushManager.subscribe``.
    """
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(private), _b64url(public)


def vapid_public_key(private_key: str) -> str:
    """The browser's ``applicationServerKey`` (base64url point) for a VAPID private key.

    Raises ValueError when ``private_key`` is not one.
    """
    try:
        vapid = Vapid02.from_string(private_key)
    except (VapidException, ValueError) as exc:
        raise ValueError("not a VAPID private key") from exc
    public = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _b64url(public)


def notification(envelope: Envelope) -> dict[str, Any]:
    """The JSON our service worker shows: title, body, url, tag and action buttons."""
    context = envelope.context
    actions = [
        {"action": action, "title": title, "url": str(context[key])}
        for action, title, key in (
            ("ack", "Acknowledge", "ack_url"),
            ("resolve", "Resolve", "resolve_url"),
        )
        if context.get(key)
    ]
    return {
        "title": envelope.subject,
        "body": envelope.body,
        "url": str(context.get("ack_url") or ""),
        # One notification per incident on the device: a repeat page replaces the last.
        "tag": str(context.get("incident_id") or envelope.message_id),
        "actions": actions,
    }


class WebPush:
    """Sends to the subscription in the recipient (JSON: endpoint, keys.p256dh, keys.auth).

    404 and 410 mean the browser dropped the subscription: permanent. 429 and 5xx
    are temporary. The push endpoint comes from a browser, so the SSRF guard applies.
    """

    name = "push"

    def __init__(
        self,
        vapid_private_key: str,
        vapid_subject: str,
        *,
        allow_private: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        try:
            self.vapid = Vapid02.from_string(vapid_private_key)
        except (VapidException, ValueError) as exc:
            raise ValueError("vapid_private_key is not a VAPID private key") from exc
        self.vapid_subject = vapid_subject
        self.allow_private = allow_private
        self.clock = clock

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        subscription = _subscription(envelope.recipient)
        endpoint = subscription["endpoint"]
        data = json.dumps(notification(envelope)).encode()
        try:
            body = WebPusher(subscription).encode(data, "aes128gcm")["body"]
        except (WebPushException, ValueError) as exc:
            raise DeliveryError(
                f"push: cannot encrypt for this subscription: {exc}", temporary=False
            ) from exc
        reply = post(
            endpoint,
            timeout=timeout,
            label="push",
            allow_private=self.allow_private,
            content=bytes(body),
            headers={
                **self._vapid_headers(endpoint),
                "Content-Type": "application/octet-stream",
                "Content-Encoding": "aes128gcm",
                "TTL": str(TTL_SECONDS),
                "Urgency": "high"
                if envelope.context.get("priority", "high") == "high"
                else "normal",
            },
        )
        if reply.status in (404, 410):
            raise DeliveryError(f"push: subscription gone (HTTP {reply.status})", temporary=False)
        if not reply.ok:
            raise status_error("push", reply)
        location = reply.headers.get("Location")
        return Delivered(provider_ref=location or None)

    def _vapid_headers(self, endpoint: str) -> dict[str, str]:
        parts = urlsplit(endpoint)
        claims = {
            "sub": self.vapid_subject,
            "aud": f"{parts.scheme}://{parts.netloc}",
            "exp": int(self.clock()) + VAPID_LIFETIME,
        }
        try:
            headers: dict[str, str] = self.vapid.sign(claims)
        except VapidException as exc:
            raise DeliveryError(f"push: VAPID signing failed: {exc}", temporary=False) from exc
        return headers


def _subscription(recipient: str) -> dict[str, Any]:
    """Parse and check the browser's PushSubscription JSON; malformed is permanent."""
    try:
        value = json.loads(recipient)
        endpoint, keys = value["endpoint"], value["keys"]
        if not (isinstance(endpoint, str) and keys["p256dh"] and keys["auth"]):
            raise ValueError("empty field")
    except (ValueError, KeyError, TypeError) as exc:
        raise DeliveryError("push: recipient is not a push subscription", temporary=False) from exc
    return {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}}


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
