"""Test email, the outbound message log and its visibility rule, and the audit log."""

from __future__ import annotations

import uuid

import pytest

from tests.integration.api_support import api_client, bearer, count, make_token, make_user
from tocsin.bootstrap import Container
from tocsin.channels.base import Recording
from tocsin.kernel.actor import Actor
from tocsin.notifications import actions, repo
from tocsin.notifications.tables import OutboundMessage


def _queue_for(container: Container, user_id: uuid.UUID | None, key: str) -> uuid.UUID:
    with container.db.transaction() as tx:
        message = actions.enqueue(
            tx,
            dedup_key=key,
            channel="email",
            recipient="someone@example.com",
            subject=key,
            body="b",
            user_id=user_id,
            now=container.clock.now(),
        )
        return message.id


def test_test_email_is_queued_then_sent_by_the_engine(
    container: Container, email_channel: Recording
) -> None:
    user = make_user(container, role="responder")
    token = make_token(container, user)
    with api_client(container) as client:
        r = client.post("/api/v1/me/test-email", headers=bearer(token))
        assert r.status_code == 202, r.text
        queued = r.json()
        assert queued["status"] == "pending"
        assert email_channel.sent == []  # never sent from the request
        container.runner.run_cycle()
        assert [e.recipient for e in email_channel.sent] == ["responder@example.com"]
        detail = client.get(f"/api/v1/messages/{queued['id']}", headers=bearer(token)).json()
        assert detail["status"] == "sent"
        assert detail["attempts"] == 1
        assert [a["outcome"] for a in detail["attempt_log"]] == ["sent"]
        assert detail["sent_at"] == "2026-01-05T09:00:00Z"


def test_read_token_cannot_send_test_email(container: Container) -> None:
    token = make_token(container, make_user(container, role="responder"), scope="read")
    with api_client(container) as client:
        r = client.post("/api/v1/me/test-email", headers=bearer(token))
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "auth.scope"
    assert count(container, OutboundMessage) == 0


def test_responders_see_only_their_own_messages(container: Container) -> None:
    admin = make_user(container, role="admin")
    ann = make_user(container, role="responder", email="ann@example.com")
    ben = make_user(container, role="responder", email="ben@example.com")
    ann_msg = _queue_for(container, ann.id, "to-ann")
    ben_msg = _queue_for(container, ben.id, "to-ben")
    sys_msg = _queue_for(container, None, "to-nobody")
    ann_token, admin_token = make_token(container, ann), make_token(container, admin, "read")
    with api_client(container) as client:
        listed = client.get("/api/v1/messages", headers=bearer(ann_token)).json()["data"]
        assert [m["id"] for m in listed] == [str(ann_msg)]
        assert (
            client.get(f"/api/v1/messages/{ben_msg}", headers=bearer(ann_token)).status_code == 404
        )
        listed = client.get("/api/v1/messages", headers=bearer(admin_token)).json()["data"]
        assert [m["id"] for m in listed] == [str(sys_msg), str(ben_msg), str(ann_msg)]
        r = client.get(f"/api/v1/messages/{ben_msg}", headers=bearer(admin_token))
        assert r.status_code == 200


@pytest.mark.parametrize(
    ("role", "sees_all"),
    [
        ("admin", True),
        ("manager", True),
        ("responder", False),
        ("observer", False),
        ("stakeholder", False),
    ],
)
def test_visibility_rule_by_role(container: Container, role: str, sees_all: bool) -> None:
    me = make_user(container, role=role).id
    other = make_user(container, role="responder", email="other@example.com").id
    mine = _queue_for(container, me, "mine")
    _queue_for(container, other, "theirs")
    actor = Actor(user_id=me, name="x", role=role, via="token")
    with container.db.read() as tx:
        visible = [m.id for m in repo.list_visible_messages(tx, actor=actor)]
        theirs = repo.find_message_by_dedup_key(tx, "theirs")
        assert theirs is not None
        assert repo.may_see(actor, theirs) is sees_all
        assert len(visible) == (2 if sees_all else 1)
        assert mine in visible


def test_actor_without_a_user_and_a_lesser_role_sees_nothing(container: Container) -> None:
    _queue_for(container, None, "system")
    actor = Actor(user_id=None, name="x", role="responder", via="cli")
    with container.db.read() as tx:
        assert repo.list_visible_messages(tx, actor=actor) == []
        message = repo.find_message_by_dedup_key(tx, "system")
        assert message is not None
        assert repo.may_see(actor, message) is False


def test_message_log_paginates_newest_first_and_filters(
    container: Container, email_channel: Recording
) -> None:
    token = make_token(container, make_user(container, role="manager"))
    ids = [_queue_for(container, None, f"m{i}") for i in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    with api_client(container) as client:
        while True:
            params: dict[str, str | int] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = client.get("/api/v1/messages", params=params, headers=bearer(token)).json()
            seen += [m["id"] for m in page["data"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [str(i) for i in reversed(ids)]
        r = client.get("/api/v1/messages", params={"status": "sent"}, headers=bearer(token))
        assert r.json()["data"] == []
        r = client.get("/api/v1/messages", params={"status": "lost"}, headers=bearer(token))
        assert r.status_code == 422
        r = client.get("/api/v1/messages", params={"cursor": "bm9wZQ"}, headers=bearer(token))
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "cursor"


def test_audit_log_for_admins_and_managers_only(container: Container) -> None:
    admin_token = make_token(container, make_user(container, role="admin"), "read")
    manager_token = make_token(container, make_user(container, role="manager"))
    responder_token = make_token(container, make_user(container, role="responder"))
    with api_client(container) as client:
        client.post("/api/v1/teams", json={"name": "Ops"}, headers=bearer(manager_token))
        r = client.get("/api/v1/audit", params={"limit": 200}, headers=bearer(admin_token))
        assert r.status_code == 200
        events = r.json()["data"]
        assert events[0]["kind"] == "team.created"
        assert events[0]["actor_name"] == "Manager"
        assert events[0]["via"] == "token"
        assert [e["kind"] for e in events].count("user.created") == 3
        assert client.get("/api/v1/audit", headers=bearer(manager_token)).status_code == 200
        r = client.get("/api/v1/audit", headers=bearer(responder_token))
        assert r.status_code == 403
        page = client.get("/api/v1/audit", params={"limit": 2}, headers=bearer(admin_token))
        rest = client.get(
            "/api/v1/audit",
            params={"limit": 200, "cursor": page.json()["next_cursor"]},
            headers=bearer(admin_token),
        )
        assert [e["id"] for e in page.json()["data"] + rest.json()["data"]] == [
            e["id"] for e in events
        ]
