"""The profile page: own name and zone, password, API tokens shown once, test email."""

from __future__ import annotations

import re

from sqlalchemy import select

from tests.integration.pages_support import (
    PASSWORD,
    count,
    field_error,
    main_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import actions, repo
from tocsin.people.tables import ApiToken

RAW_TOKEN = re.compile(r"tcn_[A-Za-z0-9_\-]{20,}")


def test_token_is_shown_once_and_works(container: Container) -> None:
    rita = make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        created = client.post(
            "/profile/tokens", data={"csrf_token": token, "token_name": "laptop", "scope": "read"}
        )
        assert created.status_code == 200
        assert created.headers["cache-control"] == "no-store"
        assert "shown only once" in created.text
        assert 'data-copy="new-token"' in created.text
        found = RAW_TOKEN.findall(created.text)
        assert len(set(found)) == 1
        raw = found[0]
        later = client.get("/profile")
    assert raw not in later.text
    assert raw[:10] in later.text and "laptop" in later.text  # listed by its prefix
    with container.db.read() as tx:
        resolved = actions.resolve_token(tx, raw=raw, now=container.clock.now())
        assert resolved is not None
        user, row = resolved
        assert (user.id, row.scope, row.name) == (rita.id, "read", "laptop")


def test_token_needs_a_name_and_revoking_works(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        nameless = client.post(
            "/profile/tokens", data={"csrf_token": token, "token_name": " ", "scope": "write"}
        )
        assert nameless.status_code == 422
        assert "Give the token a name" in field_error(nameless.text, "token_name")
        assert count(container, ApiToken) == 0
        client.post(
            "/profile/tokens", data={"csrf_token": token, "token_name": "ci", "scope": "write"}
        )
        with container.db.read() as tx:
            token_id = tx.execute(select(ApiToken.id)).scalar_one()
        assert client.post(f"/profile/tokens/{token_id}/revoke", data={}).status_code == 403
        revoked = client.post(f"/profile/tokens/{token_id}/revoke", data={"csrf_token": token})
        assert revoked.status_code == 303
        assert "revoked" in main_of(client.get("/profile").text).lower()
    with container.db.read() as tx:
        assert tx.execute(select(ApiToken.revoked_at)).scalar_one() is not None


def test_test_email_is_queued_and_the_engine_woken(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    wakes: list[bool] = []
    container.wake = lambda: wakes.append(True)  # type: ignore[method-assign]
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        assert client.post("/profile/test-email", data={}).status_code == 403
        assert count(container, OutboundMessage) == 0
        response = client.post("/profile/test-email", data={"csrf_token": token})
        assert response.status_code == 303
        assert "Test email queued" in client.get(response.headers["location"]).text
        log = main_of(client.get("/messages").text)
    assert wakes == [True]
    with container.db.read() as tx:
        message = tx.execute(select(OutboundMessage)).scalar_one()
        assert (message.recipient, message.channel, message.status) == (
            "rita@example.com",
            "email",
            "pending",
        )
    assert "Tocsin test message" in log and "pending" in log


def test_profile_name_and_time_zone(container: Container) -> None:
    rita = make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        bad = client.post(
            "/profile", data={"csrf_token": token, "name": "Rita R", "time_zone": "Nowhere/City"}
        )
        assert bad.status_code == 422
        assert "Unknown time zone" in field_error(bad.text, "time_zone")
        assert 'value="Nowhere/City"' in bad.text
        saved = client.post(
            "/profile",
            data={"csrf_token": token, "name": "Rita R", "time_zone": "America/New_York"},
        )
        assert saved.status_code == 303
        client.post(
            "/profile/tokens", data={"csrf_token": token, "token_name": "t", "scope": "read"}
        )
        page = client.get("/profile").text
    with container.db.read() as tx:
        user = repo.get_user(tx, rita.id)
        assert (user.name, user.time_zone) == ("Rita R", "America/New_York")
    # Times are shown in the viewer's zone, with UTC in the title.
    assert 'title="2026-01-05 09:00 UTC">05 Jan 2026 04:00 EST</time>' in page


def test_password_change(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        differ = client.post(
            "/profile/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "a new password 1",
                "confirm_password": "another one 2",
            },
        )
        short = client.post(
            "/profile/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "short",
                "confirm_password": "short",
            },
        )
        wrong_current = client.post(
            "/profile/password",
            data={
                "csrf_token": token,
                "current_password": "not my password",
                "new_password": "a new password 1",
                "confirm_password": "a new password 1",
            },
        )
        ok = client.post(
            "/profile/password",
            data={
                "csrf_token": token,
                "current_password": PASSWORD,
                "new_password": "a new password 1",
                "confirm_password": "a new password 1",
            },
        )
    assert differ.status_code == 422 and "differ" in field_error(differ.text, "confirm_password")
    assert short.status_code == 422 and "at least 10" in field_error(short.text, "new_password")
    assert wrong_current.status_code == 422
    assert field_error(wrong_current.text, "current_password")
    assert ok.status_code == 303
    with page_client(container) as client:
        sign_in(client, "rita@example.com", "a new password 1")
