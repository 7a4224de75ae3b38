"""Team pages: create through the form, edit members and managers, roles enforced."""

from __future__ import annotations

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
from tocsin.people import repo
from tocsin.people.tables import Team, TeamMember


def _members(container: Container, team_name: str) -> dict[str, bool]:
    with container.db.read() as tx:
        team = repo.find_team_by_name(tx, team_name)
        assert team is not None
        rows = tx.execute(select(TeamMember).where(TeamMember.team_id == team.id)).scalars()
        return {repo.get_user(tx, m.user_id).email: m.is_manager for m in rows}


def test_manager_creates_a_team_and_edits_its_membership(container: Container) -> None:
    make_user(container, role="manager", email="mia@example.com", name="Mia")
    make_user(container, role="responder", email="rita@example.com", name="Rita")
    make_user(container, role="responder", email="rob@example.com", name="Rob")
    with container.db.read() as tx:
        ids = {u.email: str(u.id) for u in repo.list_users(tx)}
    with page_client(container) as client:
        token = sign_in(client, "mia@example.com")
        created = client.post(
            "/teams/new", data={"csrf_token": token, "name": "Payments", "description": "Money"}
        )
        assert created.status_code == 303
        edit_url = created.headers["location"].split("?")[0]
        form = client.get(edit_url)
        assert form.status_code == 200 and "Rita" in form.text
        saved = client.post(
            edit_url,
            data={
                "csrf_token": token,
                "name": "Payments",
                "description": "Money in, money out",
                "member": [ids["rita@example.com"], ids["rob@example.com"]],
                "manager": [ids["mia@example.com"]],  # a manager is a member
            },
        )
        assert saved.status_code == 303
        assert _members(container, "Payments") == {
            "rita@example.com": False,
            "rob@example.com": False,
            "mia@example.com": True,
        }
        detail = client.get(saved.headers["location"])
        assert "Money in, money out" in detail.text and "Members (3)" in detail.text
        listing = client.get("/teams")
        assert "Payments" in listing.text and "Mia" in main_of(listing.text)
        # Remove Rob and make Rita a manager.
        client.post(
            edit_url,
            data={
                "csrf_token": token,
                "name": "Payments",
                "description": "Money in, money out",
                "member": [ids["rita@example.com"], ids["mia@example.com"]],
                "manager": [ids["rita@example.com"], ids["mia@example.com"]],
            },
        )
    assert _members(container, "Payments") == {"rita@example.com": True, "mia@example.com": True}


def test_duplicate_team_name_is_shown_next_to_the_name(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        client.post("/teams/new", data={"csrf_token": token, "name": "Payments"})
        again = client.post(
            "/teams/new", data={"csrf_token": token, "name": "payments", "description": "Typed"}
        )
        empty = client.post("/teams/new", data={"csrf_token": token, "name": "  "})
    assert again.status_code == 422
    assert "already exists" in field_error(again.text, "name")
    assert ">Typed</textarea>" in again.text
    assert empty.status_code == 422 and "team name" in field_error(empty.text, "name")
    assert count(container, Team) == 1


def test_bad_member_id_rerenders_and_keeps_the_old_members(container: Container) -> None:
    ada = make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        edit_url = (
            client.post("/teams/new", data={"csrf_token": token, "name": "Ops"})
            .headers["location"]
            .split("?")[0]
        )
        client.post(edit_url, data={"csrf_token": token, "name": "Ops", "member": [str(ada.id)]})
        bad = client.post(
            edit_url,
            data={
                "csrf_token": token,
                "name": "Ops",
                "member": ["00000000-0000-7000-8000-000000000000"],
            },
        )
    assert bad.status_code == 422
    assert "No person" in field_error(bad.text, "members")
    assert _members(container, "Ops") == {"ada@example.com": False}


def test_responders_cannot_create_or_edit_teams(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        edit_url = (
            client.post("/teams/new", data={"csrf_token": token, "name": "Ops"})
            .headers["location"]
            .split("?")[0]
        )
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        assert client.get("/teams/new").status_code == 403
        assert client.get(edit_url).status_code == 403
        refused = client.post("/teams/new", data={"csrf_token": token, "name": "Mine"})
        renamed = client.post(edit_url, data={"csrf_token": token, "name": "Taken over"})
        listing = client.get("/teams")
    assert refused.status_code == 403 and renamed.status_code == 403
    assert listing.status_code == 200 and 'href="/teams/new"' not in listing.text
    with container.db.read() as tx:
        assert [t.name for t in repo.list_teams(tx)] == ["Ops"]


def test_admin_deletes_a_team(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        team_url = (
            client.post("/teams/new", data={"csrf_token": token, "name": "Old"})
            .headers["location"]
            .split("/edit")[0]
        )
        page = client.get(team_url)
        assert "data-confirm=" in page.text
        assert client.post(f"{team_url}/delete", data={}).status_code == 403
        assert count(container, Team) == 1
        deleted = client.post(f"{team_url}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert count(container, Team) == 0
