"""Contact methods, notification rules and test pages over the REST API, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.integration.api_support import api_client, bearer, make_token, make_user
from tests.scenarios.harness import Scenario
from tocsin.bootstrap import Container
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications.tables import OutboundMessage
from tocsin.people.tables import ContactMethod

ME = "/api/v1/users/me"


def _fields(response: Any) -> list[str]:
    return [f["field"] for f in response.json()["error"]["fields"]]


def _last_code(container: Container) -> str:
    with container.db.read() as tx:
        rows = (
            tx.execute(
                select(OutboundMessage)
                .where(OutboundMessage.kind == "verify")
                .order_by(OutboundMessage.created_at.desc(), OutboundMessage.id.desc())
            )
            .scalars()
            .all()
        )
        assert rows, "no verification code was queued"
        found = re.search(r"code is (\d{6})", rows[0].body)
        assert found is not None
        return found.group(1)


def _verify_messages(container: Container) -> int:
    with container.db.read() as tx:
        return len(
            tx.execute(select(OutboundMessage.id).where(OutboundMessage.kind == "verify")).all()
        )


def test_add_verify_lock_resend_and_remove(container: Container, clock: FrozenClock) -> None:
    ada = make_user(container, role="responder")
    headers = bearer(make_token(container, ada))
    with api_client(container) as client:
        added = client.post(
            f"{ME}/contact-methods",
            json={"kind": "sms", "address": "+1 415 555 0101", "label": "Mobile"},
            headers=headers,
        )
        assert added.status_code == 201, added.text
        method = added.json()
        assert method["address"] == "+14155550101" and method["verified"] is False
        assert _verify_messages(container) == 1
        code = _last_code(container)
        wrong = "000000" if code != "000000" else "111111"
        verify = f"{ME}/contact-methods/{method['id']}/verify"
        for _ in range(5):
            answer = client.post(verify, json={"code": wrong}, headers=headers)
            assert answer.status_code == 422 and _fields(answer) == ["code"]
        locked = client.post(verify, json={"code": code}, headers=headers)
        assert locked.status_code == 422 and "Too many" in locked.json()["error"]["message"]

        clock.advance(timedelta(seconds=1))
        resent = client.post(f"{ME}/contact-methods/{method['id']}/resend", headers=headers)
        assert resent.status_code == 202, resent.text
        assert _verify_messages(container) == 2
        fresh = _last_code(container)
        done = client.post(verify, json={"code": fresh}, headers=headers)
        assert done.status_code == 200, done.text
        assert done.json()["verified"] is True
        listed = client.get(f"/api/v1/users/{ada.id}/contact-methods", headers=headers).json()
        assert [m["verified"] for m in listed["data"]] == [True]
        again = client.post(f"{ME}/contact-methods/{method['id']}/resend", headers=headers)
        assert again.status_code == 422 and _fields(again) == ["code"]

        gone = client.delete(f"{ME}/contact-methods/{method['id']}", headers=headers)
        assert gone.status_code == 204
        assert client.get(f"{ME}/contact-methods", headers=headers).json()["data"] == []


def test_bad_addresses_name_the_field(container: Container) -> None:
    headers = bearer(make_token(container, make_user(container, role="responder")))
    cases = [
        ({"kind": "sms", "address": "555-1234"}, "address"),
        ({"kind": "voice", "address": "call me"}, "address"),
        ({"kind": "email", "address": "not-an-email"}, "address"),
        ({"kind": "webhook", "address": "ftp://hooks.example.com/x"}, "address"),
        ({"kind": "webhook", "address": "https://127.0.0.1/hook"}, "address"),
        ({"kind": "pigeon", "address": "loft 3"}, "kind"),
        ({"kind": "sms"}, "address"),
    ]
    with api_client(container) as client:
        for body, field in cases:
            answer = client.post(f"{ME}/contact-methods", json=body, headers=headers)
            assert answer.status_code == 422, (body, answer.text)
            assert _fields(answer) == [field], (body, answer.text)
    with container.db.read() as tx:
        assert tx.query(ContactMethod).count() == 0
    assert _verify_messages(container) == 0


def test_private_webhooks_only_when_settings_allow(container: Container) -> None:
    headers = bearer(make_token(container, make_user(container, role="responder")))
    body = {"kind": "webhook", "address": "https://10.0.0.5/hook"}
    with api_client(container) as client:
        assert client.post(f"{ME}/contact-methods", json=body, headers=headers).status_code == 422
    container.settings = container.settings.model_copy(update={"webhook_allow_private": True})
    with api_client(container) as client:
        answer = client.post(f"{ME}/contact-methods", json=body, headers=headers)
        assert answer.status_code == 201, answer.text


def test_others_see_masked_addresses_and_cannot_change_them(container: Container) -> None:
    ada = make_user(container, role="responder", email="ada@example.com")
    bob = make_user(container, role="responder", email="bob@example.com")
    admin = bearer(make_token(container, make_user(container, role="admin")))
    ada_h, bob_h = bearer(make_token(container, ada)), bearer(make_token(container, bob))
    with api_client(container) as client:
        made = client.post(
            f"{ME}/contact-methods", json={"kind": "sms", "address": "+14155550101"}, headers=ada_h
        ).json()
        seen = client.get(f"/api/v1/users/{ada.id}/contact-methods", headers=bob_h).json()
        assert seen["data"][0]["address"] != "+14155550101"
        assert seen["data"][0]["address"].endswith("01")
        full = client.get(f"/api/v1/users/{ada.id}/contact-methods", headers=admin).json()
        assert full["data"][0]["address"] == "+14155550101"
        path = f"/api/v1/users/{ada.id}/contact-methods"
        refused = client.post(
            path, json={"kind": "email", "address": "x@example.com"}, headers=bob_h
        )
        assert refused.status_code == 403
        assert client.delete(f"{path}/{made['id']}", headers=bob_h).status_code == 403
        # Bob naming his own user cannot reach Ada's method either.
        assert client.delete(f"{ME}/contact-methods/{made['id']}", headers=bob_h).status_code == 404
        assert client.get("/api/v1/users/nobody/contact-methods", headers=bob_h).status_code == 404


def test_rules_put_validation_and_effective_plan(container: Container) -> None:
    ada = make_user(container, role="responder")
    headers = bearer(make_token(container, ada))
    with api_client(container) as client:
        method = client.post(
            f"{ME}/contact-methods",
            json={"kind": "email", "address": "ada@example.com"},
            headers=headers,
        ).json()
        client.post(
            f"{ME}/contact-methods/{method['id']}/verify",
            json={"code": _last_code(container)},
            headers=headers,
        )
        initial = client.get(f"{ME}/notification-rules", headers=headers).json()
        assert initial["rules"] == {"high": [], "low": []}
        assert initial["plan"]["high"] and all(p["recommended"] for p in initial["plan"]["high"])

        put = client.put(
            f"{ME}/notification-rules",
            params={"urgency": "high"},
            json=[
                {"delay_minutes": 0, "contact_method_id": method["id"]},
                {"delay_minutes": 10, "contact_method_id": method["id"]},
            ],
            headers=headers,
        )
        assert put.status_code == 200, put.text
        assert [r["delay_minutes"] for r in put.json()["rules"]["high"]] == [0, 10]
        plan = put.json()["plan"]["high"]
        assert [(p["delay_minutes"], p["kind"], p["recommended"]) for p in plan] == [
            (0, "email", False),
            (10, "email", False),
        ]

        bad = client.put(
            f"{ME}/notification-rules",
            params={"urgency": "high"},
            json=[
                {"delay_minutes": 1441, "contact_method_id": method["id"]},
                {"delay_minutes": 0, "contact_method_id": "0190a1b2-0000-7000-8000-000000000000"},
            ],
            headers=headers,
        )
        assert bad.status_code == 422
        assert _fields(bad) == ["rules[0].delay_minutes", "rules[1].contact_method_id"]
        wrong_urgency = client.put(
            f"{ME}/notification-rules", params={"urgency": "urgent"}, json=[], headers=headers
        )
        assert wrong_urgency.status_code == 422 and _fields(wrong_urgency) == ["urgency"]
        cleared = client.put(
            f"{ME}/notification-rules", params={"urgency": "high"}, json=[], headers=headers
        ).json()
        assert cleared["rules"]["high"] == []


def test_test_page_link_records_the_time_to_acknowledge(
    container: Container, clock: FrozenClock
) -> None:
    ada = make_user(container, role="responder")
    headers = bearer(make_token(container, ada))
    scenario = Scenario(container, clock)
    with api_client(container) as client:
        method = client.post(
            f"{ME}/contact-methods",
            json={"kind": "email", "address": "ada@example.com"},
            headers=headers,
        ).json()
        client.post(
            f"{ME}/contact-methods/{method['id']}/verify",
            json={"code": _last_code(container)},
            headers=headers,
        )
        sent = client.post(
            f"{ME}/test-pages", json={"contact_method_id": method["id"]}, headers=headers
        )
        assert sent.status_code == 201, sent.text
        scenario.run_cycle()
        test_mail = [e for e in scenario.sent("email") if "test page" in e.subject.lower()]
        assert len(test_mail) == 1
        found = re.search(r"http://tocsin\.test(/t/[\w.\-]+)", test_mail[0].body)
        assert found is not None, test_mail[0].body
        link = found.group(1)

        clock.advance(timedelta(seconds=42))
        confirm = client.get(link)
        assert confirm.status_code == 200 and "Acknowledge test page" in confirm.text
        assert (
            client.get(f"{ME}/test-pages", headers=headers).json()["data"][0]["acknowledged"] == 0
        )
        done = client.post(link)
        assert done.status_code == 200 and "received in 42 s" in done.text
        stats = client.get(f"{ME}/test-pages", headers=headers).json()["data"]
        assert [(s["kind"], s["tests"], s["acknowledged"], s["median_seconds"]) for s in stats] == [
            ("email", 1, 1, 42.0)
        ]
        # Only you can send yourself a test page.
        admin = bearer(make_token(container, make_user(container, role="admin")))
        other = client.post(
            f"/api/v1/users/{ada.id}/test-pages",
            json={"contact_method_id": method["id"]},
            headers=admin,
        )
        assert other.status_code == 403
