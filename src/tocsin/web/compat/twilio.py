"""Twilio's inbound webhooks: SMS replies (``ack 1423``) and keypresses of paging calls.

Both are authenticated by ``X-Twilio-Signature`` (HMAC-SHA1 with the account's auth
token over ``base_url`` + path + query and the form). Without an auth token configured
the endpoints do not exist (404). An SMS acts as the person whose VERIFIED SMS or voice
number sent it; a keypress acts as the person named in the call's signed token.
"""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from tocsin.incidents import repo as incident_repo
from tocsin.kernel import twilio_signature as twilio
from tocsin.kernel.errors import ValidationFailed
from tocsin.kernel.signing import BadSignature
from tocsin.kernel.twilio_signature import valid_twilio_signature
from tocsin.notifications import links as link_tokens
from tocsin.notifications import personal
from tocsin.people import contact_rules, contacts
from tocsin.people.rules import allows
from tocsin.people.tables import User
from tocsin.web.deps import Services, get_container
from tocsin.web.links import Outcome, ack_test, act, log, refuse

router = APIRouter(prefix="/integrations/twilio", include_in_schema=False)

COMMAND: Final = re.compile(
    r"^\s*(ack|acknowledge|resolve|res|esc|escalate)\s+#?\s*(\d{1,9}|test)\s*[.!]?\s*$",
    re.IGNORECASE,
)
ACTIONS: Final = {
    "ack": "ack",
    "acknowledge": "ack",
    "resolve": "resolve",
    "res": "resolve",
    "esc": "escalate",
    "escalate": "escalate",
}
DIGITS: Final = {"4": "ack", "6": "resolve", "0": "escalate"}
HELP: Final = "Reply: ack 1423, resolve 1423, esc 1423, or ack test."
NOT_REGISTERED: Final = (
    "This number is not registered with Tocsin. Add and verify it on your profile page first."
)


def twiml_message(text: str) -> Response:
    return Response(twilio.twiml_message(text), media_type="application/xml")


def twiml_say(text: str) -> Response:
    return Response(twilio.twiml_reply(text), media_type="application/xml")


async def _signed_form(request: Request, services: Services) -> dict[str, str] | Response:
    """The form of a genuine Twilio request, or the response refusing it."""
    token = services.settings.twilio_auth_token
    if token is None:
        return Response(status_code=404)
    form = await request.form()
    params = {key: value for key, value in form.items() if isinstance(value, str)}
    url = services.settings.base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    signature = request.headers.get("x-twilio-signature", "")
    if not valid_twilio_signature(token.get_secret_value(), url, params, signature):
        log.warning("twilio.signature_refused", path=request.url.path)
        return Response("Invalid Twilio signature.", status_code=403, media_type="text/plain")
    return params


def _sender(services: Services, number: str) -> User | None:
    """The one active person who may act and has verified this number (SMS or voice)."""
    try:
        normalised = contact_rules.check_phone(number)
    except ValidationFailed:
        return None
    with services.db.read() as tx:
        owners = {
            m.user_id
            for kind in contact_rules.PHONE_KINDS
            for m in contacts.find_verified_by_address(tx, kind, normalised)
        }
        users = [
            u
            for u in (tx.get(User, uid) for uid in owners)
            if u is not None and u.is_active and allows(u.role, "incidents.write")
        ]
        if len(users) != 1:
            return None  # nobody, or a shared number: nobody can tell who is answering
        tx.expunge(users[0])
        return users[0]


def handle_sms(services: Services, params: dict[str, str]) -> str:
    """The reply to one inbound SMS (after its signature was checked)."""
    number = params.get("From", "")
    user = _sender(services, number)
    if user is None:
        masked = contact_rules.mask("sms", number) if number else "(none)"
        refuse(
            services, kind="sms", reason=f"unregistered number {masked}", now=services.clock.now()
        )
        return NOT_REGISTERED
    match = COMMAND.match(params.get("Body", ""))
    if match is None:
        return HELP
    action, subject = ACTIONS[match.group(1).lower()], match.group(2).lower()
    if subject == "test":
        if action != "ack":
            return HELP
        with services.db.read() as tx:
            test = personal.latest_open_test(tx, user_id=user.id, kind="sms")
            test_id = None if test is None else test.id
        if test_id is None:
            return "No test page is waiting for an acknowledgement."
        return ack_test(services, test_id=test_id, user_id=user.id).message
    with services.db.read() as tx:
        incident = incident_repo.find_incident_by_number(tx, int(subject))
        incident_id = None if incident is None else incident.id
    if incident_id is None:
        return f"There is no incident #{subject}."
    outcome: Outcome = act(
        services, incident_id=incident_id, user_id=user.id, action=action, via="sms"
    )
    return outcome.message


def handle_voice(services: Services, token: str, digits: str) -> str:
    """What to say after a keypress on a paging call (after its signature was checked)."""
    now = services.clock.now()
    try:
        call = link_tokens.read_voice_call(services.secret_key, token, now=now)
    except BadSignature as exc:
        refuse(services, kind="voice", reason=exc.code, now=now)
        return "This call cannot act on the incident. Open Tocsin instead. Goodbye."
    if call.test_id is not None:
        return ack_test(services, test_id=call.test_id, user_id=call.user_id).message
    action = DIGITS.get(digits.strip()[:1])
    if action is None or call.incident_id is None:
        return "No action taken. Press 4 to acknowledge, 6 to resolve, 0 to escalate. Goodbye."
    return act(
        services, incident_id=call.incident_id, user_id=call.user_id, action=action, via="voice"
    ).message


@router.post("/sms")
async def inbound_sms(request: Request) -> Response:
    services = get_container(request)
    params = await _signed_form(request, services)
    if isinstance(params, Response):
        return params
    return twiml_message(await run_in_threadpool(handle_sms, services, params))


@router.post("/voice")
async def inbound_voice(request: Request) -> Response:
    services = get_container(request)
    params = await _signed_form(request, services)
    if isinstance(params, Response):
        return params
    token = request.query_params.get("t", "")
    reply = await run_in_threadpool(handle_voice, services, token, params.get("Digits", ""))
    return twiml_say(reply)
