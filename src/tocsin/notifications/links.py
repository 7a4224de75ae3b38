"""One-click links in messages: signed, expiring, and bound to one person and one incident."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tocsin.kernel import signing

INCIDENT_PURPOSE: Final = "incident-action"
TEST_PURPOSE: Final = "test-page"
VOICE_PURPOSE: Final = "voice-call"
VOICE_PATH: Final = "/integrations/twilio/voice"
ACTIONS: Final = ("ack", "resolve", "escalate")


@dataclass(frozen=True)
class LinkMaker:
    """Builds ``{base_url}/a/<token>`` links; the token names the person, incident and action."""

    base_url: str
    key: bytes
    ttl: timedelta = timedelta(hours=24)

    def incident_action(
        self, *, incident_id: uuid.UUID, user_id: uuid.UUID, action: str, now: datetime
    ) -> str:
        token = signing.sign(
            self.key,
            INCIDENT_PURPOSE,
            {"i": str(incident_id), "u": str(user_id), "a": action},
            expires_at=now + self.ttl,
        )
        return f"{self.base_url.rstrip('/')}/a/{token}"

    def test_ack(self, *, test_id: uuid.UUID, user_id: uuid.UUID, now: datetime) -> str:
        token = signing.sign(
            self.key,
            TEST_PURPOSE,
            {"t": str(test_id), "u": str(user_id)},
            expires_at=now + self.ttl,
        )
        return f"{self.base_url.rstrip('/')}/t/{token}"

    def voice_gather(
        self,
        *,
        user_id: uuid.UUID,
        now: datetime,
        incident_id: uuid.UUID | None = None,
        test_id: uuid.UUID | None = None,
    ) -> str:
        """Where Twilio posts the keypress of a call; the token says who was called, about what."""
        payload = {"u": str(user_id)}
        if incident_id is not None:
            payload["i"] = str(incident_id)
        if test_id is not None:
            payload["t"] = str(test_id)
        token = signing.sign(self.key, VOICE_PURPOSE, payload, expires_at=now + self.ttl)
        return f"{self.base_url.rstrip('/')}{VOICE_PATH}?t={token}"

    def incident_url(self, number: int) -> str:
        return f"{self.base_url.rstrip('/')}/incidents/{number}"


@dataclass(frozen=True)
class IncidentAction:
    incident_id: uuid.UUID
    user_id: uuid.UUID
    action: str


def read_incident_action(key: bytes, token: str, *, now: datetime) -> IncidentAction:
    """The action a link carries; BadSignature when forged, altered or expired."""
    data = signing.verify(key, INCIDENT_PURPOSE, token, now=now)
    try:
        action = IncidentAction(uuid.UUID(data["i"]), uuid.UUID(data["u"]), str(data["a"]))
    except (KeyError, ValueError, TypeError):
        raise signing.BadSignature("This link is not valid.") from None
    if action.action not in ACTIONS:
        raise signing.BadSignature("This link is not valid.")
    return action


def read_test_ack(key: bytes, token: str, *, now: datetime) -> tuple[uuid.UUID, uuid.UUID]:
    data = signing.verify(key, TEST_PURPOSE, token, now=now)
    try:
        return uuid.UUID(data["t"]), uuid.UUID(data["u"])
    except (KeyError, ValueError, TypeError):
        raise signing.BadSignature("This link is not valid.") from None


@dataclass(frozen=True)
class VoiceCall:
    """Who a call was made to, and about which incident or test page."""

    user_id: uuid.UUID
    incident_id: uuid.UUID | None
    test_id: uuid.UUID | None


def read_voice_call(key: bytes, token: str, *, now: datetime) -> VoiceCall:
    """The call a gather token names; BadSignature when forged, altered or expired."""
    data = signing.verify(key, VOICE_PURPOSE, token, now=now)
    try:
        return VoiceCall(
            uuid.UUID(data["u"]),
            uuid.UUID(data["i"]) if data.get("i") else None,
            uuid.UUID(data["t"]) if data.get("t") else None,
        )
    except (KeyError, ValueError, TypeError):
        raise signing.BadSignature("This link is not valid.") from None


def expand(
    maker: LinkMaker, text: str, context: Mapping[str, Any], *, now: datetime
) -> tuple[str, dict[str, str]]:
    """Fill a message's link placeholders (``{ack_url}``, ``{test_ack_url}``…) at send time.

    Returns the text and the links by name (channels turn them into buttons).
    """
    values: dict[str, str] = {"base_url": maker.base_url.rstrip("/")}
    user = context.get("link_user_id")
    incident = context.get("incident_id")
    try:
        if user and incident:
            for action in ACTIONS:
                name = {"ack": "ack_url", "resolve": "resolve_url", "escalate": "escalate_url"}[
                    action
                ]
                values[name] = maker.incident_action(
                    incident_id=uuid.UUID(str(incident)),
                    user_id=uuid.UUID(str(user)),
                    action=action,
                    now=now,
                )
        if context.get("incident_number") is not None:
            values["incident_url"] = maker.incident_url(int(context["incident_number"]))
        if user and context.get("test_id"):
            values["test_ack_url"] = maker.test_ack(
                test_id=uuid.UUID(str(context["test_id"])), user_id=uuid.UUID(str(user)), now=now
            )
    except ValueError:
        pass  # a malformed context sends the text as it is rather than not at all
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    values["voice_gather_url"] = _voice_url(maker, context, now=now)
    return text, values


def _voice_url(maker: LinkMaker, context: Mapping[str, Any], *, now: datetime) -> str:
    """The gather URL with a signed token when the call is about an incident or a test page."""
    user, incident, test = (
        context.get("link_user_id"),
        context.get("incident_id"),
        context.get("test_id"),
    )
    try:
        if user and (incident or test):
            return maker.voice_gather(
                user_id=uuid.UUID(str(user)),
                incident_id=uuid.UUID(str(incident)) if incident else None,
                test_id=uuid.UUID(str(test)) if test else None,
                now=now,
            )
    except ValueError:
        pass
    return f"{maker.base_url.rstrip('/')}{VOICE_PATH}"
