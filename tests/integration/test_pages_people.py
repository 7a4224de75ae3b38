"""People pages: list and search, the admin's create and edit forms, roles enforced by actions."""

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
from tocsin.people.rules import ROLE_DESCRIPTIONS
from tocsin.people.tables import User


def test_admin_adds_a_person_through_the_form(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        form = client.get("/people/new")
        assert form.status_code == 200
        for role, description in ROLE_DESCRIPTIONS.items():
            assert f'value="{role}"' in form.text and description in form.text
        assert '<option value="Europe/Berlin">' in form.text
        response = client.post(
            "/people/new",
            data={
                "csrf_token": token,
                "email": " Bob@Example.com ",
                "name": "Bob Builder",
                "role": "responder",
                "time_zone": "Asia/Tokyo",
                "password": "",
            },
        )
        assert response.status_code == 303
        detail = client.get(response.headers["location"])
    with container.db.read() as tx:
        bob = repo.get_user_by_email(tx, "bob@example.com")
        assert (bob.name, bob.role, bob.time_zone, bob.password_hash) == (
            "Bob Builder",
            "responder",
            "Asia/Tokyo",
            None,
        )
    assert detail.status_code == 200
    assert "Bob Builder" in detail.text and ROLE_DESCRIPTIONS["responder"] in detail.text
    # The frozen clock says 09:00 UTC on Monday; Tokyo is nine hours ahead.
    assert "Mon 18:00 JST" in detail.text


def test_bad_input_rerenders_the_form_with_the_message_and_writes_nothing(
    container: Container,
) -> None:
    make_user(container, role="admin", email="ada@example.com")
    before = count(container, User)
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        response = client.post(
            "/people/new",
            data={
                "csrf_token": token,
                "email": "not-an-email",
                "name": "Carol Typed",
                "role": "responder",
                "time_zone": "UTC",
            },
        )
        bad_zone = client.post(
            "/people/new",
            data={
                "csrf_token": token,
                "email": "carol@example.com",
                "name": "Carol",
                "role": "responder",
                "time_zone": "Mars/Olympus",
            },
        )
    assert response.status_code == 422
    assert "Enter an email address" in field_error(response.text, "email")
    assert 'value="Carol Typed"' in response.text and 'value="not-an-email"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert bad_zone.status_code == 422
    assert "Unknown time zone" in field_error(bad_zone.text, "time_zone")
    assert count(container, User) == before


def test_duplicate_email_is_shown_next_to_the_email_field(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    make_user(container, role="responder", email="bob@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        response = client.post(
            "/people/new",
            data={
                "csrf_token": token,
                "email": "BOB@example.com",
                "name": "Another Bob",
                "role": "observer",
                "time_zone": "UTC",
            },
        )
    assert response.status_code == 422
    assert "already belongs to someone" in field_error(response.text, "email")
    assert field_error(response.text, "name") == ""
    assert 'value="Another Bob"' in response.text
    assert count(container, User) == 2


def test_responder_cannot_add_people(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        page = client.get("/people/new")
        post = client.post(
            "/people/new",
            data={
                "csrf_token": token,
                "email": "x@example.com",
                "name": "X",
                "role": "admin",
                "time_zone": "UTC",
            },
        )
        listing = client.get("/people")
    assert page.status_code == 403 and "does not allow" in page.text
    assert post.status_code == 403
    assert count(container, User) == 1
    assert listing.status_code == 200
    assert 'href="/people/new"' not in listing.text


def test_stakeholders_do_not_see_the_directory(container: Container) -> None:
    make_user(container, role="stakeholder", email="sam@example.com")
    with page_client(container) as client:
        sign_in(client, "sam@example.com")
        assert client.get("/people").status_code == 403
        dashboard = client.get("/")
    assert dashboard.status_code == 200
    assert 'href="/people/new"' not in dashboard.text


def test_people_search_filters_by_name_or_email(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com", name="Ada Lovelace")
    make_user(container, role="responder", email="grace@example.com", name="Grace Hopper")
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        found = main_of(client.get("/people?q=hopper").text)
        by_email = main_of(client.get("/people?q=ada@").text)
        nobody = main_of(client.get("/people?q=zzz").text)
    assert "Grace Hopper" in found and "Ada Lovelace" not in found
    assert "Ada Lovelace" in by_email and "Grace Hopper" not in by_email
    assert "Nobody matches" in nobody


def test_admin_edits_role_and_people_edit_only_themselves(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    bob = make_user(container, role="responder", email="bob@example.com")
    rita = make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        form = client.get(f"/people/{bob.id}/edit")
        assert form.status_code == 200 and 'value="bob@example.com"' in form.text
        saved = client.post(
            f"/people/{bob.id}/edit",
            data={
                "csrf_token": token,
                "email": "bob@example.com",
                "name": "Bob B.",
                "role": "manager",
                "time_zone": "Europe/Paris",
                "active": "1",
            },
        )
        assert saved.status_code == 303
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        assert client.get(f"/people/{bob.id}/edit").status_code == 403
        refused = client.post(
            f"/people/{bob.id}/edit",
            data={
                "csrf_token": token,
                "email": "b@example.com",
                "name": "Hacked",
                "time_zone": "UTC",
            },
        )
        own = client.get(f"/people/{rita.id}/edit")
    assert refused.status_code == 403
    assert own.status_code == 200 and 'name="role"' not in own.text
    with container.db.read() as tx:
        row = tx.execute(select(User).where(User.id == bob.id)).scalar_one()
        assert (row.name, row.role, row.time_zone) == ("Bob B.", "manager", "Europe/Paris")


def test_unknown_person_is_a_404_page(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        sign_in(client, "ada@example.com")
        garbage = client.get("/people/not-a-uuid")
        missing = client.get("/people/00000000-0000-7000-8000-000000000000")
    assert garbage.status_code == 404 and missing.status_code == 404
    assert "Not found" in missing.text
