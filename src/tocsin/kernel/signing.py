"""Signed, expiring tokens for one-click links (acknowledge from an email, a test page).

A token is ``base64url(json payload) . base64url(HMAC-SHA256(key, purpose + payload))``.
The payload carries its expiry (``exp``, Unix seconds). The purpose is mixed into the
MAC so a token made for one kind of link never works for another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from tocsin.kernel.errors import TocsinError


class BadSignature(TocsinError):
    """The token was forged, altered, made for something else, or has expired."""

    def __init__(self, message: str, code: str = "link.invalid") -> None:
        super().__init__(code=code, message=message)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(key, f"{purpose}\n{body}".encode(), hashlib.sha256).digest()[:20])


def sign(key: bytes, purpose: str, payload: dict[str, Any], *, expires_at: datetime) -> str:
    """A token for ``payload`` that :func:`verify` accepts until ``expires_at``."""
    data = {**payload, "exp": int(expires_at.timestamp())}
    body = _b64(json.dumps(data, separators=(",", ":"), sort_keys=True).encode())
    return f"{body}.{_mac(key, purpose, body)}"


def verify(key: bytes, purpose: str, token: str, *, now: datetime) -> dict[str, Any]:
    """The payload of a good token; BadSignature (with a reason) otherwise."""
    body, _, mac = token.partition(".")
    if not body or not mac or len(token) > 2000:
        raise BadSignature("This link is not valid.")
    if not token.isascii() or not hmac.compare_digest(mac, _mac(key, purpose, body)):
        raise BadSignature("This link is not valid: it was altered or not made by this Tocsin.")
    try:
        data = json.loads(_unb64(body))
    except ValueError:
        raise BadSignature("This link is not valid.") from None
    if not isinstance(data, dict) or not isinstance(data.get("exp"), int):
        raise BadSignature("This link is not valid.")
    if data["exp"] <= now.timestamp():
        raise BadSignature("This link has expired.", code="link.expired")
    return data
