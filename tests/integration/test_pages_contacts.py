"""Profile paging sections: add a contact method, verify it with the code, rules, test page."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.integration.pages_support import (
    count,
    field_error,
    main_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.notifications.tables import OutboundMessage
from tocsin.people.tables import ContactMethod, NotificationRule


def _code(container: Container) -> str:
    with container.db.read() as tx:
        bodies = tx.execute(
            select(OutboundMessage.body)
            .where(OutboundMessage.kind == "verify")
            .order_by(OutboundMessage.created_at.desc())
        ).scalars()
        match = re.search(r"\b(\d{6})\b", next(iter(bodies)))
    assert match is not None
    return match.group(1)


def test_add_verify_test_page_and_remove_a_method(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com", name="Rita")
    wakes: list[bool] = []
    container.wake = lambda: wakes.append(True)  # type: ignore[method-assign]
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        page = main_of(client.get("/profile").text)
        assert "Tocsin cannot page you yet" in page
        assert 'inputmode="tel"' in page  # SMS is the default kind
        bad = client.post(
            "/profile/contacts",
            data={"csrf_token": token, "kind": "sms", "address": "0800 123", "label": ""},
        )
        assert bad.status_code == 422
        assert "E.164" in field_error(bad.text, "add-address")
        assert count(container, ContactMethod) == 0
        added = client.post(
            "/profile/contacts",
            data={
                "csrf_token": token,
                "kind": "sms",
                "address": "+1 415 555 0123",
                "label": "work",
            },
        )
        assert added.status_code == 303
        assert wakes
        with container.db.read() as tx:
            method = tx.execute(select(ContactMethod)).scalar_one()
            method_id = method.id
        page = main_of(client.get("/profile?notice=method_added").text)
        assert "+14155550123" in page and "not verified" in page
        wrong = client.post(
            f"/profile/contacts/{method_id}/verify", data={"csrf_token": token, "code": "000000"}
        )
        assert wrong.status_code == 422
        assert field_error(wrong.text, f"verify-{method_id}-code")
        container.clock.advance(seconds=5)  # type: ignore[attr-defined]
        resent = client.post(f"/profile/contacts/{method_id}/code", data={"csrf_token": token})
        assert resent.status_code == 303
        ok = client.post(
            f"/profile/contacts/{method_id}/verify",
            data={"csrf_token": token, "code": _code(container)},
        )
        assert ok.status_code == 303
        page = main_of(client.get("/profile").text)
        assert "verified" in page and "SMS: never tested" in page
        assert "recommended default" in page
        tested = client.post(f"/profile/contacts/{method_id}/test", data={"csrf_token": token})
        assert tested.status_code == 303
        assert "none acknowledged" in main_of(client.get("/profile").text)
        removed = client.post(f"/profile/contacts/{method_id}/remove", data={"csrf_token": token})
        assert removed.status_code == 303
    assert count(container, ContactMethod) == 0


def test_rules_editor_saves_and_returns_to_the_recommended(container: Container) -> None:
    rita = make_user(container, role="responder", email="rita@example.com", name="Rita")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        client.post(
            "/profile/contacts",
            data={"csrf_token": token, "kind": "email", "address": "rita@example.com"},
        )
        with container.db.read() as tx:
            method_id = tx.execute(select(ContactMethod.id)).scalar_one()
        client.post(
            f"/profile/contacts/{method_id}/verify",
            data={"csrf_token": token, "code": _code(container)},
        )
        bad = client.post(
            "/profile/rules/high",
            data={
                "csrf_token": token,
                "rules[0].delay_minutes": "0",
                "rules[0].contact_method_id": str(method_id),
                "rules[1].delay_minutes": "9999",
                "rules[1].contact_method_id": str(method_id),
            },
        )
        assert bad.status_code == 422
        assert "0 to 1440" in field_error(bad.text, "rules-high-rules-1-delay_minutes")
        assert count(container, NotificationRule) == 0
        saved = client.post(
            "/profile/rules/high",
            data={
                "csrf_token": token,
                "rules[0].delay_minutes": "3",
                "rules[0].contact_method_id": str(method_id),
                "rules[1].delay_minutes": "",
                "rules[1].contact_method_id": "",
            },
        )
        assert saved.status_code == 303
        page = main_of(client.get("/profile").text)
        assert "after 3 min" in page
        with container.db.read() as tx:
            rule = tx.execute(select(NotificationRule)).scalar_one()
            assert (rule.user_id, rule.delay_minutes, rule.urgency) == (rita.id, 3, "high")
        reset = client.post("/profile/rules/high", data={"csrf_token": token, "reset": "1"})
        assert reset.status_code == 303
    assert count(container, NotificationRule) == 0


def test_push_subscription_becomes_an_unverified_method_and_sw_is_served(
    container: Container,
) -> None:
    make_user(container, role="responder", email="rita@example.com", name="Rita")
    with page_client(container) as client:
        assert client.get("/sw.js").status_code == 303  # like every page: signed in only
        token = sign_in(client, "rita@example.com")
        sw = client.get("/sw.js")
        assert sw.status_code == 200
        assert sw.headers["service-worker-allowed"] == "/"
        assert "showNotification" in sw.text
        refused = client.post("/profile/push", data={"csrf_token": token, "subscription": "{}"})
        assert refused.status_code == 422 and refused.json()["ok"] is False
        subscription = (
            '{"endpoint": "https://push.example.com/send/abc", '
            '"keys": {"p256dh": "BNcR", "auth": "tBHI"}}'
        )
        added = client.post(
            "/profile/push", data={"csrf_token": token, "subscription": subscription}
        )
        assert added.status_code == 200 and added.json()["ok"] is True
        assert "push.example.com/…" in main_of(client.get("/profile").text)
    with container.db.read() as tx:
        method = tx.execute(select(ContactMethod)).scalar_one()
        assert method.kind == "push" and method.verified_at is None


def test_message_log_masks_others_and_says_not_configured(container: Container) -> None:
    from tocsin.notifications import actions as outbox

    make_user(container, role="admin", email="ada@example.com", name="Ada")
    rita = make_user(container, role="responder", email="rita@example.com", name="Rita")
    now = container.clock.now()
    with container.db.transaction() as tx:
        message = outbox.enqueue(
            tx,
            dedup_key="page:x",
            channel="sms",
            recipient="+14155550123",
            user_id=rita.id,
            subject="[#1] Card payments fail",
            body="Tocsin #1 high urgency: Card payments fail",
            now=now,
        )
        message.status = "failed"
        message.last_error = "sms is not configured: set TOCSIN_SMS_PROVIDER"
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        log = main_of(client.get("/messages").text)
    assert "+14155550123" not in log and "+14" in log  # masked: not the admin's own
    assert "Not sent — channel not configured" in log and "result-neutral" in log
    assert "<summary>[#1] Card payments fail</summary>" in log
    assert "Card payments fail" in log.split("<pre", 1)[1]
