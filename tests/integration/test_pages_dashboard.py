"""The dashboard and the message log show real data, each person what they may see."""

from __future__ import annotations

from tests.integration.pages_support import main_of, make_user, page_client, sign_in
from tocsin.bootstrap import Container
from tocsin.kernel.actor import Actor
from tocsin.notifications import actions as outbox
from tocsin.people import actions


def _seed(container: Container) -> None:
    now = container.clock.now()
    with container.db.transaction() as tx:
        team = actions.create_team(tx, name="Payments", actor=Actor.system(), now=now)
        rita = actions.create_user(
            tx,
            email="rita@example.com",
            name="Rita",
            role="responder",
            password="correct horse battery",
            actor=Actor.system(),
            now=now,
        )
        actions.update_team(
            tx,
            team_id=team.id,
            actor=Actor.system(),
            now=now,
            members=[actions.Membership(rita.id, is_manager=True)],
        )
        for who, subject in [(rita, "For Rita"), (None, "For the admin")]:
            outbox.enqueue(
                tx,
                dedup_key=subject,
                channel="email",
                recipient=who.email if who else "ada@example.com",
                user_id=who.id if who else None,
                subject=subject,
                body="hello",
                now=now,
            )


def test_admin_dashboard_shows_real_counts_lists_and_engine_state(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com", name="Ada")
    _seed(container)
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        page = main_of(client.get("/").text)
    assert "Payments" in page and "Rita" in page and "Ada" in page
    assert "For Rita" in page and "For the admin" in page
    assert 'href="/messages?status=pending">2<' in page
    assert 'href="/people">2<' in page and 'href="/teams">1<' in page
    # No engine has cycled in this test: the dashboard says so in words.
    assert "not running" in page


def test_responder_sees_only_their_own_messages(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com", name="Ada")
    _seed(container)
    with page_client(container) as client:
        sign_in(client, "rita@example.com")
        dashboard = main_of(client.get("/").text)
        log = main_of(client.get("/messages").text)
        filtered = main_of(client.get("/messages?status=sent").text)
    assert "For Rita" in dashboard and "For the admin" not in dashboard
    assert "Your teams" in dashboard and "Payments" in dashboard
    assert "For Rita" in log and "For the admin" not in log
    assert "0 of 5" in log  # attempts of max_attempts: not tried yet
    assert "For Rita" not in filtered and "No messages with status sent" in filtered


def test_admin_message_log_lists_everyone(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com", name="Ada")
    _seed(container)
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        log = main_of(client.get("/messages").text)
    assert "For Rita" in log and "For the admin" in log
    assert "rita@example.com" in log and "not yet" in log
