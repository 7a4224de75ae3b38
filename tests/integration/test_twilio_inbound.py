"""Twilio's inbound SMS and voice webhooks on both databases: signed, and only from known people."""

from __future__ import annotations

from datetime import timedelta

import structlog
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tests.integration.api_support import api_client
from tests.scenarios.paging_support import Paging, send_trigger, two_level_service
from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.incidents.tables import Incident
from tocsin.kernel.clock import FrozenClock
from tocsin.kernel.twilio_signature import twilio_signature
from tocsin.notifications import links, personal
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo

TOKEN = "twilio-auth-token"
BASE = "http://tocsin.test"
ADA_PHONE = "+14155550101"


def _setup(container: Container) -> Paging:
    container.settings = container.settings.model_copy(
        update={"twilio_auth_token": SecretStr(TOKEN)}
    )
    graph = two_level_service(container)
    send_trigger(container, graph.routing_key)
    container.runner.run_cycle()
    return graph


def _post(client: TestClient, path: str, form: dict[str, str], *, sign: str | None = None) -> str:
    signature = twilio_signature(sign or TOKEN, BASE + path, form)
    answer = client.post(path, data=form, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/xml")
    return answer.text


def _sms(client: TestClient, body: str, sender: str = ADA_PHONE) -> str:
    form = {"From": sender, "To": "+15005550006", "Body": body, "MessageSid": "SM1"}
    return _post(client, "/integrations/twilio/sms", form)


def _incident(container: Container) -> Incident:
    with container.db.read() as tx:
        incident = tx.execute(select(Incident)).scalar_one()
        tx.expunge(incident)
        return incident


def _audit(container: Container, kind: str) -> list[dict[str, object]]:
    with container.db.read() as tx:
        return [
            d for d in tx.execute(select(AuditEvent.data).where(AuditEvent.kind == kind)).scalars()
        ]


def test_endpoints_do_not_exist_without_an_auth_token(container: Container) -> None:
    with api_client(container) as client:
        assert client.post("/integrations/twilio/sms", data={"Body": "ack 1"}).status_code == 404
        assert client.post("/integrations/twilio/voice", data={"Digits": "4"}).status_code == 404


def test_a_verified_number_acknowledges_by_sms(container: Container) -> None:
    graph = _setup(container)
    number = _incident(container).number
    with api_client(container) as client:
        reply = _sms(client, f"  ACK   {number} ")
        assert f"<Response><Message>#{number} acknowledged.</Message></Response>" in reply
        incident = _incident(container)
        assert incident.status == "acknowledged" and incident.assignee_id == graph.ada.id
        assert "Reply: ack 1423" in _sms(client, "hello")
        assert "no incident #999" in _sms(client, "resolve 999")
        assert "resolved" in _sms(client, f"Resolve #{number}")
        assert _incident(container).status == "resolved"
        assert "already resolved" in _sms(client, f"ack {number}")


def test_escalate_by_sms(container: Container) -> None:
    _setup(container)
    number = _incident(container).number
    with api_client(container) as client:
        assert "escalated" in _sms(client, f"esc {number}")


def test_unknown_numbers_are_refused_logged_and_change_nothing(container: Container) -> None:
    _setup(container)
    number = _incident(container).number
    with api_client(container) as client, structlog.testing.capture_logs() as logs:
        reply = _sms(client, f"ack {number}", sender="+14155559999")
        assert "not registered" in reply
    assert _incident(container).status == "triggered"
    (refusal,) = _audit(container, "sms.refused")
    assert "9999" not in str(refusal) and "+14155559999" not in str(logs)
    assert any(e["event"] == "sms.refused" for e in logs)


def test_bad_or_missing_signature_is_refused(container: Container) -> None:
    _setup(container)
    number = _incident(container).number
    form = {"From": ADA_PHONE, "To": "+15005550006", "Body": f"ack {number}", "MessageSid": "SM1"}
    with api_client(container) as client:
        signature = twilio_signature("some-other-token", BASE + "/integrations/twilio/sms", form)
        forged = client.post(
            "/integrations/twilio/sms", data=form, headers={"X-Twilio-Signature": signature}
        )
        assert forged.status_code == 403
        assert client.post("/integrations/twilio/sms", data=form).status_code == 403
        good = twilio_signature(TOKEN, BASE + "/integrations/twilio/sms", form)
        tampered = client.post(
            "/integrations/twilio/sms",
            data={**form, "Body": f"resolve {number}"},
            headers={"X-Twilio-Signature": good},
        )
        assert tampered.status_code == 403
    assert _incident(container).status == "triggered"


def test_ack_test_by_sms(container: Container, clock: FrozenClock) -> None:
    graph = _setup(container)
    with container.db.transaction() as tx:
        ada = people_repo.get_user(tx, graph.ada.id)
        method = next(m for m in personal.contacts.list_methods(tx, ada.id) if m.kind == "sms")
        personal.send_test_page(
            tx,
            method_id=method.id,
            actor=people_actions.actor_for(ada, via="session"),
            now=container.clock.now(),
        )
    clock.advance(timedelta(seconds=30))
    with api_client(container) as client:
        assert "received in 30 s" in _sms(client, "ack test")
        assert "No test page" in _sms(client, "ack test")


def test_voice_keypresses_act_as_the_person_called(container: Container) -> None:
    graph = _setup(container)
    incident = _incident(container)
    maker = links.LinkMaker(BASE, container.secret_key)
    now = container.clock.now()
    _, values = links.expand(
        maker, "", {"link_user_id": str(graph.ada.id), "incident_id": str(incident.id)}, now=now
    )
    url = values["voice_gather_url"]
    assert url.startswith(BASE + "/integrations/twilio/voice?t=")
    path = url.removeprefix(BASE)
    with api_client(container) as client:
        said = _post(client, path, {"Digits": "4", "CallSid": "CA1"})
        assert f"<Say>#{incident.number} acknowledged.</Say>" in said
        assert _incident(container).assignee_id == graph.ada.id
        assert "No action taken" in _post(client, path, {"Digits": "9", "CallSid": "CA1"})
        assert "resolved" in _post(client, path, {"Digits": "6", "CallSid": "CA1"})
        assert _incident(container).status == "resolved"

        forged = links.LinkMaker(BASE, b"wrong key").voice_gather(
            user_id=graph.bob.id, incident_id=incident.id, now=now
        )
        said = _post(client, forged.removeprefix(BASE), {"Digits": "4", "CallSid": "CA2"})
        assert "cannot act" in said
        # The query string is part of the signed URL: a token swapped in is refused.
        swapped = client.post(
            forged.removeprefix(BASE),
            data={"Digits": "4"},
            headers={"X-Twilio-Signature": twilio_signature(TOKEN, url, {"Digits": "4"})},
        )
        assert swapped.status_code == 403
    assert len(_audit(container, "voice.refused")) == 1
