"""Microsoft Teams through a Workflows webhook: an Adaptive Card with Acknowledge and Resolve."""

from __future__ import annotations

import json
from typing import Any

from tocsin.channels.base import Delivered, Envelope
from tocsin.channels.outbound import post, status_error

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"


def card_message(envelope: Envelope) -> dict[str, Any]:
    """The message payload a Teams Workflows "post to a channel" webhook accepts."""
    context = envelope.context
    actions = [
        {"type": "Action.OpenUrl", "title": title, "url": str(context[key])}
        for title, key in (("Acknowledge", "ack_url"), ("Resolve", "resolve_url"))
        if context.get(key)
    ]
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": envelope.subject,
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Attention" if context.get("priority") == "high" else "Default",
            },
            {"type": "TextBlock", "text": envelope.body, "wrap": True},
        ],
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


class TeamsWorkflow:
    """POSTs the card to the recipient's Workflows webhook URL (SSRF guard applies)."""

    name = "teams"

    def __init__(self, allow_private: bool = False) -> None:
        self.allow_private = allow_private

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        reply = post(
            envelope.recipient,
            timeout=timeout,
            label="teams",
            allow_private=self.allow_private,
            content=json.dumps(card_message(envelope)).encode(),
            headers={"Content-Type": "application/json"},
        )
        if not reply.ok:
            raise status_error("teams", reply)
        return Delivered()
