"""Slack direct messages through the Web API's chat.postMessage, with URL buttons."""

from __future__ import annotations

import json
from typing import Any

from tocsin.channels.base import Delivered, DeliveryError, Envelope
from tocsin.channels.outbound import post, status_error

# Slack errors worth retrying; every other "ok": false names a problem a person must fix
# (invalid_auth, not_authed, channel_not_found, user_not_found, account_inactive...).
TEMPORARY_ERRORS = frozenset(
    {
        "ratelimited",
        "rate_limited",
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    }
)
TEXT_LIMIT = 3000  # a section block's text limit


def blocks(envelope: Envelope) -> list[dict[str, Any]]:
    """Block Kit: the message as a section, then URL buttons (they open Tocsin's pages)."""
    context = envelope.context
    text = f"*{envelope.subject}*\n{envelope.body}"
    if len(text) > TEXT_LIMIT:
        text = text[: TEXT_LIMIT - 1] + "…"
    result: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
    buttons: list[dict[str, Any]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": title},
            "url": str(context[key]),
            "action_id": f"tocsin_{key.removesuffix('_url')}",
            **({"style": style} if style else {}),
        }
        for title, key, style in (
            ("Acknowledge", "ack_url", "primary"),
            ("Resolve", "resolve_url", ""),
        )
        if context.get(key)
    ]
    if buttons:
        result.append({"type": "actions", "elements": buttons})
    return result


class SlackDm:
    """Posts to a member id (``U…``) with a bot token; Slack opens the DM itself."""

    name = "slack"

    def __init__(self, bot_token: str, api_base: str = "https://slack.com/api") -> None:
        self.bot_token = bot_token
        self.api_base = api_base.rstrip("/")

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        message = {
            "channel": envelope.recipient,
            "text": f"{envelope.subject}\n{envelope.body}",  # notification and fallback text
            "blocks": blocks(envelope),
            "unfurl_links": False,
        }
        reply = post(
            f"{self.api_base}/chat.postMessage",
            timeout=timeout,
            label="slack",
            content=json.dumps(message).encode(),
            headers={"Content-Type": "application/json; charset=utf-8"}
            | ({"Authorization": f"Bearer {self.bot_token}"} if self.bot_token else {}),
        )
        if not reply.ok:
            raise status_error("slack", reply)
        answer = reply.json_object()
        if answer.get("ok") is not True:
            error = str(answer.get("error") or "malformed answer")
            raise DeliveryError(f"slack: {error}", temporary=error in TEMPORARY_ERRORS)
        ts = answer.get("ts")
        return Delivered(provider_ref=str(ts) if ts else None)
