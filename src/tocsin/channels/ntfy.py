"""ntfy (ntfy.sh or self-hosted) publishing: the body to the topic URL, metadata in headers."""

from __future__ import annotations

import base64

from tocsin.channels.base import Delivered, Envelope
from tocsin.channels.outbound import post, status_error

PRIORITY = {"high": "5", "low": "3"}
TAGS = {
    "page": "rotating_light",
    "alarm": "rotating_light",
    "bundle": "rotating_light",
    "test": "test_tube",
    "verify": "key",
}


def headers(envelope: Envelope, token: str | None) -> dict[str, str]:
    """ntfy's publish headers: Title, Priority, Tags, Click, Actions (and Authorization)."""
    context = envelope.context
    result = {
        "Title": header_text(envelope.subject),
        "Priority": PRIORITY.get(str(context.get("priority", "high")), "5"),
        "Tags": TAGS.get(str(context.get("kind", "page")), "bell"),
    }
    if context.get("ack_url"):
        result["Click"] = str(context["ack_url"])
    actions = [
        f"view, {title}, {context[key]}, clear=true"
        for title, key in (("Acknowledge", "ack_url"), ("Resolve", "resolve_url"))
        if context.get(key)
    ]
    if actions:
        result["Actions"] = "; ".join(actions)
    if token:
        result["Authorization"] = f"Bearer {token}"
    return result


def header_text(text: str) -> str:
    """One line of ASCII; other text as RFC 2047 base64, which ntfy decodes."""
    flat = " ".join(text.split())
    if flat.isascii():
        return flat
    return "=?UTF-8?B?" + base64.b64encode(flat.encode()).decode() + "?="


class Ntfy:
    """POSTs the body to the recipient's topic URL (SSRF guard applies unless allowed).

    ``token`` is an ntfy access token for servers with access control; ntfy answers
    200 with the message JSON, whose ``id`` becomes the provider reference.
    """

    name = "ntfy"

    def __init__(self, token: str | None = None, allow_private: bool = False) -> None:
        self.token = token
        self.allow_private = allow_private

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        reply = post(
            envelope.recipient,
            timeout=timeout,
            label="ntfy",
            allow_private=self.allow_private,
            content=envelope.body.encode(),
            headers=headers(envelope, self.token),
        )
        if not reply.ok:
            raise status_error("ntfy", reply, str(reply.json_object().get("error") or ""))
        ref = reply.json_object().get("id")
        return Delivered(provider_ref=str(ref) if ref else None)
