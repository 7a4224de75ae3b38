"""The Channel protocol every transport implements, and the values it trades."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Envelope:
    """What a channel needs to send one message; no database rows cross this line."""

    message_id: str
    dedup_key: str
    channel: str
    recipient: str
    subject: str
    body: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivered:
    """The provider accepted the message; ``provider_ref`` is its id if it gave one."""

    provider_ref: str | None = None


class DeliveryError(Exception):
    """Sending failed. ``temporary`` failures are retried with backoff; others are final."""

    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.temporary = temporary


class Channel(Protocol):
    """A transport. ``send`` blocks at most ``timeout`` seconds and raises DeliveryError."""

    name: str

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered: ...


class NotConfigured:
    """A channel whose settings are missing: every send fails, permanently and loudly."""

    def __init__(self, name: str, hint: str) -> None:
        self.name = name
        self.hint = hint

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        raise DeliveryError(f"{self.name} is not configured: {self.hint}", temporary=False)


class Recording:
    """Keeps every envelope in memory instead of sending it (tests and scenario harness)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Envelope] = []
        self.fail_next: list[DeliveryError] = []

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        if self.fail_next:
            raise self.fail_next.pop(0)
        self.sent.append(envelope)
        return Delivered(provider_ref=f"recorded-{len(self.sent)}")
