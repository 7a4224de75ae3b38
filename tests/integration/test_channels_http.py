"""The HTTP channels against real HTTP servers on 127.0.0.1 faking each provider.

Each fake is built from the provider's documented wire format (paths, auth, form or
JSON fields, status codes and error bodies), not from our own code; Twilio, Slack,
Teams and the browsers' push services are paid or cloud services we cannot run here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from email.header import decode_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl
from xml.etree import ElementTree

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from tocsin import bootstrap
from tocsin.channels.apprise_channel import AppriseChannel
from tocsin.channels.base import DeliveryError, Envelope, NotConfigured
from tocsin.channels.netguard import is_public
from tocsin.channels.ntfy import Ntfy
from tocsin.channels.slack import SlackDm
from tocsin.channels.teams import TeamsWorkflow
from tocsin.channels.twilio import (
    TwilioConfig,
    TwilioSms,
    TwilioVoice,
    twilio_signature,
    twiml_reply,
    valid_twilio_signature,
)
from tocsin.channels.webhook import SignedWebhook, sign, verify
from tocsin.channels.webpush import WebPush, generate_vapid_keys, vapid_public_key
from tocsin.settings import Settings

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode(), keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.body)


def json_answer(status: int, value: Any, headers: dict[str, str] | None = None) -> Answer:
    return (
        status,
        {"Content-Type": "application/json", **(headers or {})},
        json.dumps(value).encode(),
    )


class FakeServer:
    """A threaded HTTP/1.1 server; subclasses decide the answer to each POST.

    ``queue`` answers the next requests verbatim (failure tests); ``stall`` makes the
    server hold each request until the test ends (timeout tests).
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.queue: list[Answer] = []
        self.stall = False
        self._release = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                got = Received(
                    "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body
                )
                fake.received.append(got)
                if fake.stall:
                    fake._release.wait(10)
                status, headers, payload = fake.queue.pop(0) if fake.queue else fake.answer(got)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, got: Received) -> Answer:
        return 200, {}, b""

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeTwilio(FakeServer):
    """Fake of Twilio's paid REST API (2010-04-01), built from its documented wire format.

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json (To, From, Body) and
    .../Calls.json (To, From, Twiml), form-encoded, HTTP Basic auth with the account
    SID and auth token. Success is 201 with the resource JSON (``sid`` SM… / CA…);
    errors are {"code", "message", "more_info", "status"}.
    """

    account_sid = "AC" + "0123456789abcdef" * 2
    auth_token = "twilio-test-token"

    def answer(self, got: Received) -> Answer:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if got.headers.get("authorization") != f"Basic {expected}":
            return self.error(401, 20003, "Authenticate")
        prefix = f"/2010-04-01/Accounts/{self.account_sid}/"
        form = got.form()
        if not form.get("To"):
            return self.error(400, 21604, "A 'To' phone number is required.")
        if not form.get("To", "").startswith("+"):
            return self.error(400, 21211, f"Invalid 'To' Phone Number: {form['To']}")
        if got.path == prefix + "Messages.json" and form.get("Body"):
            if len(form["Body"]) > 1600:
                return self.error(400, 21617, "The concatenated message body exceeds 1600")
            return json_answer(201, self.resource("SM", form) | {"body": form["Body"]})
        if got.path == prefix + "Calls.json" and (form.get("Twiml") or form.get("Url")):
            return json_answer(201, self.resource("CA", form))
        return self.error(404, 20404, "The requested resource was not found")

    def resource(self, prefix: str, form: dict[str, str]) -> dict[str, Any]:
        return {
            "sid": prefix + secrets.token_hex(16),
            "account_sid": self.account_sid,
            "to": form["To"],
            "from": form.get("From"),
            "status": "queued",
        }

    def error(self, status: int, code: int, message: str) -> Answer:
        return json_answer(
            status,
            {
                "code": code,
                "message": message,
                "more_info": f"https://www.twilio.com/docs/errors/{code}",
                "status": status,
            },
        )


class FakeSlack(FakeServer):
    """Fake of Slack's Web API method chat.postMessage, built from its documented wire format.

    Bearer bot token; JSON body with ``channel``; answers HTTP 200 with
    {"ok": true, "channel", "ts", "message"} or {"ok": false, "error": "..."}.
    """

    token = "xoxb-test-token"
    members = frozenset({"U012AB3CD"})

    def answer(self, got: Received) -> Answer:
        if got.path != "/api/chat.postMessage":
            return json_answer(404, {"ok": False, "error": "unknown_method"})
        auth = got.headers.get("authorization", "")
        if not auth:
            return json_answer(200, {"ok": False, "error": "not_authed"})
        if auth != f"Bearer {self.token}":
            return json_answer(200, {"ok": False, "error": "invalid_auth"})
        message = got.json()
        if message.get("channel") not in self.members:
            return json_answer(200, {"ok": False, "error": "channel_not_found"})
        return json_answer(
            200,
            {
                "ok": True,
                "channel": "D024BE91L",
                "ts": "1700000000.000100",
                "message": {"text": message.get("text"), "type": "message"},
            },
        )


class FakeNtfy(FakeServer):
    """Fake of an ntfy server's publish endpoint (POST /<topic>), from its documented format.

    The body is the message; Title, Priority, Tags, Click, Actions ride in headers;
    optional ``Authorization: Bearer <token>``. Answers 200 with the message JSON, or
    {"code", "http", "error", "link"} on errors.
    """

    token: str | None = None

    def answer(self, got: Received) -> Answer:
        if self.token and got.headers.get("authorization") != f"Bearer {self.token}":
            return json_answer(
                403,
                {
                    "code": 40301,
                    "http": 403,
                    "error": "forbidden",
                    "link": "https://ntfy.sh/docs/publish/#authentication",
                },
            )
        return json_answer(
            200,
            {
                "id": "sPs71M8A2T",
                "event": "message",
                "topic": got.path.strip("/"),
                "message": got.body.decode(),
                "title": got.headers.get("title"),
            },
        )


class FakeTeamsWorkflow(FakeServer):
    """Fake of a Microsoft Teams Workflows "post to a channel" webhook (paid cloud service).

    Built from its documented wire format: accepts a JSON message with Adaptive Card
    attachments and answers 202 Accepted; anything else is 400.
    """

    def answer(self, got: Received) -> Answer:
        try:
            message = got.json()
            card = message["attachments"][0]
            ok = (
                message["type"] == "message"
                and card["contentType"] == "application/vnd.microsoft.card.adaptive"
            )
        except (ValueError, KeyError, IndexError):
            ok = False
        return (
            (202, {}, b"") if ok else json_answer(400, {"error": {"code": "InvalidRequestContent"}})
        )


class FakePushService(FakeServer):
    """Fake of a browser vendor's Web Push service (RFC 8030), from its documented format.

    Requires a VAPID ``Authorization: vapid t=<jwt>, k=<key>`` header, ``TTL`` and
    ``Content-Encoding: aes128gcm``; answers 201 Created with a Location, or 410 Gone
    for an endpoint that is no longer subscribed.
    """

    gone: set[str]

    def __init__(self) -> None:
        super().__init__()
        self.gone = set()

    def answer(self, got: Received) -> Answer:
        if got.path in self.gone:
            return 410, {}, b"push subscription has unsubscribed or expired."
        auth = got.headers.get("authorization", "")
        if not auth.startswith("vapid t=") or "k=" not in auth:
            return 401, {}, b"missing VAPID"
        if "ttl" not in got.headers or got.headers.get("content-encoding") != "aes128gcm":
            return 400, {}, b"bad headers"
        return 201, {"Location": f"{self.url}/message/{secrets.token_hex(4)}"}, b""


# --------------------------------------------------------------------------- fixtures

ENVELOPE = Envelope(
    message_id="0190c0de-0000-7000-8000-000000000001",
    dedup_key="page:incident-7:level-1:ada",
    channel="sms",
    recipient="+15005550006",
    subject="#7 Database <down> & out",
    body="Database down on db-1. Acknowledge: http://tocsin.test/i/7/ack",
    context={
        "kind": "page",
        "incident_number": 7,
        "incident_id": "0190c0de-0000-7000-8000-0000000000aa",
        "ack_url": "http://tocsin.test/i/7/ack?t=abc&x=1",
        "resolve_url": "http://tocsin.test/i/7/resolve?t=abc",
        "voice_gather_url": "https://tocsin.test/hooks/twilio/voice?m=1&sig=xyz",
        "priority": "high",
    },
)
TIMEOUT = 5.0
SHORT = 0.5


def to(recipient: str, **context: Any) -> Envelope:
    return replace(ENVELOPE, recipient=recipient, context={**ENVELOPE.context, **context})


@pytest.fixture
def twilio() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def _twilio_config(fake: FakeTwilio, token: str | None = None) -> TwilioConfig:
    return TwilioConfig(
        account_sid=fake.account_sid,
        auth_token=token or fake.auth_token,
        from_number="+15017122661",
        api_base=fake.url,
    )


def _fails(channel: Any, envelope: Envelope, *, timeout: float = TIMEOUT) -> DeliveryError:
    with pytest.raises(DeliveryError) as info:
        channel.send(envelope, timeout=timeout)
    return info.value


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --------------------------------------------------------------------------- Twilio


def test_sms_is_posted_as_twilio_expects(twilio: FakeTwilio) -> None:
    result = TwilioSms(_twilio_config(twilio)).send(ENVELOPE, timeout=TIMEOUT)
    (got,) = twilio.received
    assert got.form() == {"To": "+15005550006", "From": "+15017122661", "Body": ENVELOPE.body}
    assert result.provider_ref is not None and result.provider_ref.startswith("SM")


def test_long_sms_is_cut_to_1600_characters(twilio: FakeTwilio) -> None:
    TwilioSms(_twilio_config(twilio)).send(replace(ENVELOPE, body="x" * 5000), timeout=TIMEOUT)
    body = twilio.received[0].form()["Body"]
    assert len(body) == 1600
    assert body.endswith("…")


def test_voice_call_carries_escaped_twiml(twilio: FakeTwilio) -> None:
    result = TwilioVoice(_twilio_config(twilio)).send(ENVELOPE, timeout=TIMEOUT)
    assert result.provider_ref is not None and result.provider_ref.startswith("CA")
    form = twilio.received[0].form()
    assert (form["To"], form["From"]) == ("+15005550006", "+15017122661")
    root = ElementTree.fromstring(form["Twiml"])
    gather = root.find("Gather")
    assert gather is not None
    assert gather.attrib == {
        "numDigits": "1",
        "action": "https://tocsin.test/hooks/twilio/voice?m=1&sig=xyz",
        "method": "POST",
        "timeout": "10",
    }
    says = [say.text for say in gather.iter("Say")]
    assert says[0] == (
        "#7 Database <down> & out. Press 4 to acknowledge, 6 to resolve, 0 to escalate."
    )
    assert root.findall("Say")[-1].text == "No answer received. Goodbye."


def test_voice_without_gather_url_is_permanent(twilio: FakeTwilio) -> None:
    error = _fails(TwilioVoice(_twilio_config(twilio)), to("+15005550006", voice_gather_url=None))
    assert not error.temporary
    assert twilio.received == []


def test_invalid_number_is_a_permanent_failure(twilio: FakeTwilio) -> None:
    error = _fails(TwilioSms(_twilio_config(twilio)), to("5550006"))
    assert not error.temporary
    assert "21211" in str(error)


def test_wrong_token_is_a_permanent_failure(twilio: FakeTwilio) -> None:
    error = _fails(TwilioSms(_twilio_config(twilio, token="wrong")), ENVELOPE)
    assert not error.temporary
    assert "HTTP 401" in str(error)
    assert "20003" in str(error)


@pytest.mark.parametrize("status", [429, 500, 503])
def test_twilio_overload_and_outage_are_temporary(twilio: FakeTwilio, status: int) -> None:
    twilio.queue.append(twilio.error(status, 20429 if status == 429 else 20500, "try later"))
    error = _fails(TwilioSms(_twilio_config(twilio)), ENVELOPE)
    assert error.temporary
    assert f"HTTP {status}" in str(error)


def test_timeout_is_temporary(twilio: FakeTwilio) -> None:
    twilio.stall = True
    error = _fails(TwilioSms(_twilio_config(twilio)), ENVELOPE, timeout=SHORT)
    assert error.temporary
    assert "timed out" in str(error)


def test_connection_refused_is_temporary() -> None:
    config = TwilioConfig("AC1", "t", "+1", api_base=f"http://127.0.0.1:{_closed_port()}")
    assert _fails(TwilioSms(config), ENVELOPE).temporary


# Twilio's documented example (also the vector of its official helper libraries' tests).
DOC_TOKEN = "12345"
DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


def test_twilio_signature_matches_the_documented_example() -> None:
    assert twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert valid_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_twilio_signature_tolerates_the_default_port() -> None:
    # The documented vector of the same request signed with ":443" in the URL.
    assert valid_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w=")
    with_port = DOC_URL.replace(".com", ".com:443")
    assert valid_twilio_signature(DOC_TOKEN, with_port, DOC_PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_tampered_twilio_requests_are_refused() -> None:
    good = "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    assert not valid_twilio_signature(DOC_TOKEN, DOC_URL, {**DOC_PARAMS, "Digits": "6"}, good)
    assert not valid_twilio_signature(DOC_TOKEN, DOC_URL + "&x=1", DOC_PARAMS, good)
    assert not valid_twilio_signature("other", DOC_URL, DOC_PARAMS, good)
    assert not valid_twilio_signature(DOC_TOKEN, DOC_URL, DOC_PARAMS, "")


def test_twiml_reply_escapes_text() -> None:
    root = ElementTree.fromstring(twiml_reply("Incident #7 <acknowledged> & done"))
    say = root.find("Say")
    assert say is not None and say.text == "Incident #7 <acknowledged> & done"


# --------------------------------------------------------------------------- Slack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def test_slack_dm_with_url_buttons(slack: FakeSlack) -> None:
    channel = SlackDm(slack.token, api_base=slack.url + "/api")
    result = channel.send(to("U012AB3CD"), timeout=TIMEOUT)
    assert result.provider_ref == "1700000000.000100"
    message = slack.received[0].json()
    assert message["channel"] == "U012AB3CD"
    assert ENVELOPE.subject in message["text"]
    (actions,) = [block for block in message["blocks"] if block["type"] == "actions"]
    assert [(b["text"]["text"], b["url"]) for b in actions["elements"]] == [
        ("Acknowledge", ENVELOPE.context["ack_url"]),
        ("Resolve", ENVELOPE.context["resolve_url"]),
    ]


@pytest.mark.parametrize(
    ("token", "member", "error"),
    [
        ("xoxb-test-token", "U999", "channel_not_found"),
        ("xoxb-wrong", "U012AB3CD", "invalid_auth"),
        ("", "U012AB3CD", "not_authed"),
    ],
)
def test_slack_errors_needing_a_person_are_permanent(
    slack: FakeSlack, token: str, member: str, error: str
) -> None:
    failure = _fails(SlackDm(token, api_base=slack.url + "/api"), to(member))
    assert not failure.temporary
    assert error in str(failure)


def test_slack_rate_limits_are_temporary(slack: FakeSlack) -> None:
    channel = SlackDm(slack.token, api_base=slack.url + "/api")
    slack.queue.append(
        json_answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    )
    slack.queue.append(json_answer(200, {"ok": False, "error": "ratelimited"}))
    first = _fails(channel, to("U012AB3CD"))
    assert first.temporary and "retry after 30" in str(first)
    assert _fails(channel, to("U012AB3CD")).temporary


# --------------------------------------------------------------------------- signed webhooks

SECRET = b"webhook-test-secret"


class WebhookReceiver(FakeServer):
    """A customer's webhook endpoint checking X-Tocsin-Signature as docs/channels.md says."""

    def __init__(self) -> None:
        super().__init__()
        self.verified: list[dict[str, Any]] = []

    def answer(self, got: Received) -> Answer:
        ok = verify(
            SECRET,
            got.headers.get("x-tocsin-timestamp", ""),
            got.body,
            got.headers.get("x-tocsin-signature", ""),
            now=time.time(),
        )
        if not ok:
            return 401, {}, b"bad signature"
        self.verified.append(got.json())
        return 204, {}, b""


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as fake:
        yield fake


def test_webhook_is_signed_and_verifiable(receiver: WebhookReceiver) -> None:
    hook = SignedWebhook(SECRET, allow_private=True)
    result = hook.send(to(receiver.url + "/hook"), timeout=TIMEOUT)
    assert result.provider_ref == ENVELOPE.message_id
    (document,) = receiver.verified
    assert document["type"] == "page"
    assert document["incident"] == {"id": ENVELOPE.context["incident_id"], "number": 7}
    assert document["links"] == {
        "ack": ENVELOPE.context["ack_url"],
        "resolve": ENVELOPE.context["resolve_url"],
    }
    assert (document["message_id"], document["dedup_key"]) == (
        ENVELOPE.message_id,
        ENVELOPE.dedup_key,
    )
    assert document["sent_at"].endswith("Z")
    assert receiver.received[0].headers["x-tocsin-message-id"] == ENVELOPE.message_id


def test_receiver_refuses_a_signature_from_another_secret(receiver: WebhookReceiver) -> None:
    error = _fails(SignedWebhook(b"other", allow_private=True), to(receiver.url))
    assert not error.temporary and "HTTP 401" in str(error)
    assert receiver.verified == []


def test_verify_refuses_tampering_and_replays() -> None:
    body = b'{"type":"page"}'
    header = sign(SECRET, 1_700_000_000, body)
    assert verify(SECRET, "1700000000", body, header, now=1_700_000_100)
    assert not verify(SECRET, "1700000000", body + b" ", header, now=1_700_000_100)
    assert not verify(SECRET, "1700000001", body, header, now=1_700_000_100)
    assert not verify(SECRET, "1700000000", body, header, now=1_700_000_301)
    assert not verify(SECRET, "1700000000", body, header, now=1_699_999_699)
    assert not verify(b"other", "1700000000", body, header, now=1_700_000_000)
    assert not verify(SECRET, "not-a-number", body, header, now=1_700_000_000)
    expected = hmac.new(SECRET, b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"sha256={expected}"


@pytest.mark.parametrize(
    ("status", "temporary"), [(500, True), (429, True), (410, False), (400, False)]
)
def test_webhook_status_classification(
    receiver: WebhookReceiver, status: int, temporary: bool
) -> None:
    receiver.queue.append((status, {}, b""))
    assert (
        _fails(SignedWebhook(SECRET, allow_private=True), to(receiver.url)).temporary is temporary
    )


def test_webhook_redirects_are_not_followed(receiver: WebhookReceiver) -> None:
    receiver.queue.append((307, {"Location": receiver.url + "/elsewhere"}, b""))
    error = _fails(SignedWebhook(SECRET, allow_private=True), to(receiver.url))
    assert not error.temporary and "HTTP 307" in str(error)
    assert len(receiver.received) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_private_addresses_are_refused_by_default(receiver: WebhookReceiver, host: str) -> None:
    port = receiver.server.server_address[1]
    error = _fails(SignedWebhook(SECRET), to(f"http://{host}:{port}/hook"))
    assert not error.temporary and "non-public" in str(error)
    assert receiver.received == []


def test_non_http_urls_are_refused() -> None:
    assert not _fails(SignedWebhook(SECRET), to("file:///etc/passwd")).temporary


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::ffff:10.0.0.1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("224.0.0.1", False),
    ],
)
def test_is_public(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


# --------------------------------------------------------------------------- Teams


def test_teams_gets_an_adaptive_card() -> None:
    with FakeTeamsWorkflow() as teams:
        TeamsWorkflow(allow_private=True).send(to(teams.url + "/workflows/1"), timeout=TIMEOUT)
        message = teams.received[0].json()
    card = message["attachments"][0]["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert [block["text"] for block in card["body"]] == [ENVELOPE.subject, ENVELOPE.body]
    assert [(a["type"], a["title"], a["url"]) for a in card["actions"]] == [
        ("Action.OpenUrl", "Acknowledge", ENVELOPE.context["ack_url"]),
        ("Action.OpenUrl", "Resolve", ENVELOPE.context["resolve_url"]),
    ]


def test_teams_refusal_is_permanent_and_private_urls_are_refused() -> None:
    with FakeTeamsWorkflow() as teams:
        teams.queue.append(json_answer(400, {"error": {"code": "WorkflowTriggerIsNotEnabled"}}))
        assert not _fails(TeamsWorkflow(allow_private=True), to(teams.url)).temporary
        assert not _fails(TeamsWorkflow(), to(teams.url)).temporary
        assert len(teams.received) == 1


# --------------------------------------------------------------------------- ntfy


def test_ntfy_publishes_with_headers() -> None:
    with FakeNtfy() as ntfy:
        ntfy.token = "tk_test"
        result = Ntfy(token="tk_test", allow_private=True).send(
            to(ntfy.url + "/oncall-ada"), timeout=TIMEOUT
        )
        (got,) = ntfy.received
    assert result.provider_ref == "sPs71M8A2T"
    assert got.path == "/oncall-ada"
    assert got.body.decode() == ENVELOPE.body
    assert got.headers["title"] == ENVELOPE.subject
    assert got.headers["priority"] == "5"
    assert got.headers["tags"] == "rotating_light"
    assert got.headers["click"] == ENVELOPE.context["ack_url"]
    assert got.headers["actions"] == (
        f"view, Acknowledge, {ENVELOPE.context['ack_url']}, clear=true; "
        f"view, Resolve, {ENVELOPE.context['resolve_url']}, clear=true"
    )


def test_ntfy_low_priority_and_unicode_title() -> None:
    with FakeNtfy() as ntfy:
        envelope = replace(to(ntfy.url + "/t", priority="low"), subject="Disk 95 % ☁ full")
        Ntfy(allow_private=True).send(envelope, timeout=TIMEOUT)
        got = ntfy.received[0]
    assert got.headers["priority"] == "3"
    ((decoded, charset),) = decode_header(got.headers["title"])
    assert isinstance(decoded, bytes) and decoded.decode(charset or "ascii") == "Disk 95 % ☁ full"


def test_ntfy_forbidden_is_permanent() -> None:
    with FakeNtfy() as ntfy:
        ntfy.token = "tk_test"
        error = _fails(Ntfy(allow_private=True), to(ntfy.url + "/t"))
    assert not error.temporary and "forbidden" in str(error)


# --------------------------------------------------------------------------- Web Push


class Subscriber:
    """A browser's side of a push subscription: its P-256 key pair and auth secret."""

    def __init__(self, endpoint: str) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self.subscription = json.dumps(
            {"endpoint": endpoint, "keys": {"p256dh": _b64(public), "auth": _b64(self.auth)}}
        )

    def decrypt(self, body: bytes) -> Any:
        return json.loads(
            http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm")
        )


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


@pytest.fixture
def push_service() -> Iterator[FakePushService]:
    with FakePushService() as fake:
        yield fake


@pytest.fixture(scope="module")
def vapid() -> tuple[str, str]:
    return generate_vapid_keys()


def test_push_payload_is_readable_only_by_the_subscriber(
    push_service: FakePushService, vapid: tuple[str, str]
) -> None:
    private, public = vapid
    subscriber = Subscriber(push_service.url + "/push/abc")
    channel = WebPush(private, "mailto:ops@example.com", allow_private=True)
    result = channel.send(to(subscriber.subscription), timeout=TIMEOUT)
    assert result.provider_ref is not None and "/message/" in result.provider_ref
    (got,) = push_service.received
    assert got.headers["content-encoding"] == "aes128gcm"
    assert int(got.headers["ttl"]) > 0
    assert got.headers["urgency"] == "high"
    token, key = re.fullmatch(r"vapid t=([^,]+),k=(.+)", got.headers["authorization"]).groups()  # type: ignore[union-attr]
    assert key == public
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["aud"] == push_service.url and claims["sub"] == "mailto:ops@example.com"
    assert Vapid02.verify(got.headers["authorization"])
    assert ENVELOPE.body.encode() not in got.body
    shown = subscriber.decrypt(got.body)
    assert shown["title"] == ENVELOPE.subject
    assert shown["body"] == ENVELOPE.body
    assert shown["url"] == ENVELOPE.context["ack_url"]
    assert shown["tag"] == ENVELOPE.context["incident_id"]
    assert [a["action"] for a in shown["actions"]] == ["ack", "resolve"]


def test_push_to_an_expired_subscription_is_permanent(
    push_service: FakePushService, vapid: tuple[str, str]
) -> None:
    push_service.gone.add("/push/old")
    subscriber = Subscriber(push_service.url + "/push/old")
    channel = WebPush(vapid[0], "mailto:ops@example.com", allow_private=True)
    error = _fails(channel, to(subscriber.subscription))
    assert not error.temporary and "gone" in str(error)


@pytest.mark.parametrize("status", [429, 500, 502])
def test_push_service_overload_is_temporary(
    push_service: FakePushService, vapid: tuple[str, str], status: int
) -> None:
    push_service.queue.append((status, {}, b""))
    channel = WebPush(vapid[0], "mailto:ops@example.com", allow_private=True)
    assert _fails(channel, to(Subscriber(push_service.url + "/p").subscription)).temporary


@pytest.mark.parametrize("recipient", ["not json", '{"endpoint": "https://x.test/"}', "[]"])
def test_malformed_subscription_is_permanent(vapid: tuple[str, str], recipient: str) -> None:
    channel = WebPush(vapid[0], "mailto:ops@example.com")
    assert not _fails(channel, to(recipient)).temporary


def test_push_refuses_private_endpoints(
    push_service: FakePushService, vapid: tuple[str, str]
) -> None:
    channel = WebPush(vapid[0], "mailto:ops@example.com")
    assert not _fails(channel, to(Subscriber(push_service.url + "/p").subscription)).temporary
    assert push_service.received == []


def test_vapid_public_key_matches_generated_pair(vapid: tuple[str, str]) -> None:
    assert vapid_public_key(vapid[0]) == vapid[1]
    assert len(base64.urlsafe_b64decode(vapid[1] + "=")) == 65


# --------------------------------------------------------------------------- Apprise

# Apprise's e-mail plugin imports the standard imghdr module, deprecated since Python 3.11
# (a warning only, and silent outside tests); it is no concern of these tests.
APPRISE_IMGHDR = pytest.mark.filterwarnings("ignore:'imghdr' is deprecated:DeprecationWarning")


@APPRISE_IMGHDR
def test_apprise_channel_posts_through_an_apprise_url() -> None:
    with FakeNtfy() as ntfy:
        port = ntfy.server.server_address[1]
        channel = AppriseChannel("apprise")
        channel.send(to(f"ntfy://127.0.0.1:{port}/alerts"), timeout=TIMEOUT)
        (got,) = ntfy.received
    assert ENVELOPE.body in got.body.decode()


@APPRISE_IMGHDR
def test_apprise_failures_are_temporary_and_bad_urls_permanent() -> None:
    with FakeNtfy() as ntfy:
        ntfy.queue.append((500, {}, b""))
        port = ntfy.server.server_address[1]
        assert _fails(AppriseChannel("apprise"), to(f"ntfy://127.0.0.1:{port}/alerts")).temporary
    assert not _fails(AppriseChannel("apprise"), to("nonsense-scheme://x")).temporary


# --------------------------------------------------------------------------- bootstrap wiring


def test_every_channel_exists_and_unconfigured_ones_say_what_to_set(tmp_path: Path) -> None:
    channels = bootstrap.build_channels(Settings(data_dir=tmp_path), b"secret")
    assert set(channels) == {
        "email",
        "sms",
        "voice",
        "push",
        "ntfy",
        "slack",
        "teams",
        "webhook",
        "apprise",
    }
    for name in ("sms", "voice", "slack", "email"):
        assert isinstance(channels[name], NotConfigured)
        assert name == channels[name].name
    assert "TOCSIN_TWILIO_ACCOUNT_SID" in _fails(channels["sms"], ENVELOPE).args[0]
    assert "TOCSIN_SLACK_BOT_TOKEN" in _fails(channels["slack"], ENVELOPE).args[0]
    assert isinstance(channels["push"], WebPush)


def test_configured_channels_are_real(tmp_path: Path, twilio: FakeTwilio) -> None:
    settings = Settings(
        data_dir=tmp_path,
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_from_number="+15017122661",
        twilio_api_base=twilio.url,
        slack_bot_token="xoxb-x",
    )
    channels = bootstrap.build_channels(settings, b"secret")
    assert isinstance(channels["sms"], TwilioSms) and isinstance(channels["voice"], TwilioVoice)
    assert isinstance(channels["slack"], SlackDm)
    channels["sms"].send(ENVELOPE, timeout=TIMEOUT)
    assert len(twilio.received) == 1


def test_vapid_keys_are_made_once_and_kept_private(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first = bootstrap.load_vapid_keys(settings)
    assert bootstrap.load_vapid_keys(settings) == first
    assert stat.S_IMODE((tmp_path / "vapid.json").stat().st_mode) == 0o600
    assert vapid_public_key(first[0]) == first[1]
    configured = Settings(data_dir=tmp_path / "other", vapid_private_key=first[0])
    assert bootstrap.load_vapid_keys(configured) == first
