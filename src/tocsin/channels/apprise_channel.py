"""Any service Apprise knows (Discord, Gotify, Mattermost...), addressed by an Apprise URL."""

from __future__ import annotations

import apprise

from tocsin.channels.base import Delivered, DeliveryError, Envelope


class AppriseChannel:
    """The recipient is an Apprise URL such as ``discord://webhook_id/token``.

    Apprise reports success or failure but not the provider's status code, so a
    failed send is always temporary (retried until max attempts); a URL Apprise
    cannot parse is permanent. Apprise opens its own connections: the SSRF guard
    does not apply, so offer this channel only to trusted administrators.
    """

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        notifier = apprise.Apprise()
        if not notifier.add(envelope.recipient):
            raise DeliveryError(f"{self.name}: not a usable Apprise URL", temporary=False)
        result = notifier.notify(body=envelope.body, title=envelope.subject, timeout=timeout)
        if not result:
            raise DeliveryError(
                f"{self.name}: Apprise reported {result.status.name}", temporary=True
            )
        return Delivered()
