"""Twilio SMS and voice calls, plus the TwiML and signature check its webhooks need."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from tocsin.channels.base import Delivered, DeliveryError, Envelope
from tocsin.channels.outbound import Reply, post, status_error

# Re-exported: the web adapter checks inbound webhooks with the same kernel function.
from tocsin.kernel.twilio_signature import twilio_signature as twilio_signature
from tocsin.kernel.twilio_signature import twiml_message as twiml_message
from tocsin.kernel.twilio_signature import twiml_reply as twiml_reply
from tocsin.kernel.twilio_signature import valid_twilio_signature as valid_twilio_signature

SMS_MAX_CHARS = 1600  # Twilio refuses longer bodies (error 21617)


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str
    from_number: str
    api_base: str = "https://api.twilio.com"

    def resource_url(self, resource: str) -> str:
        return f"{self.api_base.rstrip('/')}/2010-04-01/Accounts/{self.account_sid}/{resource}"


class _TwilioResource:
    """POSTs one form to a Twilio list resource and maps the answer."""

    name: str
    resource: str

    def __init__(self, config: TwilioConfig) -> None:
        self.config = config

    def form(self, envelope: Envelope) -> dict[str, str]:
        raise NotImplementedError

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        form = {"To": envelope.recipient, "From": self.config.from_number}
        form.update(self.form(envelope))
        reply = post(
            self.config.resource_url(self.resource),
            timeout=timeout,
            label=f"twilio {self.name}",
            data=form,
            auth=(self.config.account_sid, self.config.auth_token),
        )
        if not reply.ok:
            raise status_error(f"twilio {self.name}", reply, _twilio_error(reply))
        sid = reply.json_object().get("sid")
        return Delivered(provider_ref=str(sid) if sid else None)


class TwilioSms(_TwilioResource):
    """Text messages; the body is cut to Twilio's 1600-character limit."""

    name = "sms"
    resource = "Messages.json"

    def form(self, envelope: Envelope) -> dict[str, str]:
        body = envelope.body
        if len(body) > SMS_MAX_CHARS:
            body = body[: SMS_MAX_CHARS - 1] + "…"
        return {"Body": body}


class TwilioVoice(_TwilioResource):
    """Phone calls that read the subject and gather one keypress (4 ack, 6 resolve, 0 escalate).

    Twilio POSTs the keypress to ``context["voice_gather_url"]``; the web layer
    authenticates it with ``valid_twilio_signature``.
    """

    name = "voice"
    resource = "Calls.json"

    def form(self, envelope: Envelope) -> dict[str, str]:
        gather_url = envelope.context.get("voice_gather_url")
        if not gather_url:
            raise DeliveryError("voice: no voice_gather_url in the message", temporary=False)
        return {"Twiml": call_twiml(envelope.subject, str(gather_url))}


def call_twiml(subject: str, gather_url: str) -> str:
    """The TwiML of a paging call: the subject, twice, then one keypress gathered."""
    prompt = escape(f"{subject}. Press 4 to acknowledge, 6 to resolve, 0 to escalate.")
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        "<Response>"
        f'<Gather numDigits="1" action={quoteattr(gather_url)} method="POST" timeout="10">'
        f'<Say>{prompt}</Say><Pause length="1"/><Say>{prompt}</Say>'
        "</Gather>"
        "<Say>No answer received. Goodbye.</Say>"
        "</Response>"
    )


def _twilio_error(reply: Reply) -> str:
    """Twilio's error JSON is {"code", "message", "more_info", "status"}."""
    error = reply.json_object()
    code, message = error.get("code"), error.get("message")
    if code is None and message is None:
        return ""
    return f"Twilio error {code}: {message}"
