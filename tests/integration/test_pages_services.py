"""Service pages: list and detail, create and edit through the form, integrations, roles."""

from __future__ import annotations

from tests.integration.pages_support import (
    count,
    field_error,
    main_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people_actions
from tocsin.services import repo
from tocsin.services.tables import Integration, Service


def _team(container: Container, name: str = "Payments") -> str:
    with container.db.transaction() as tx:
        team = people_actions.create_team(
            tx, name=name, actor=Actor.system(via="cli"), now=container.clock.now()
        )
        return str(team.id)


def _form(token: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": token,
        "name": "Checkout",
        "description": "Takes the money",
        "owner_team_id": "",
        "urgency_rule": "support_hours",
        "outside_hours": "hold",
        "support_hours.time_zone": "Europe/London",
        "support_hours.windows[0].days": ["0", "1", "2", "3", "4"],
        "support_hours.windows[0].start": "09:00",
        "support_hours.windows[0].end": "17:00",
        "ack_timeout_minutes": "15",
        "auto_resolve_minutes": "",
        "runbook_links[0].title": "Checkout runbook",
        "runbook_links[0].url": "https://wiki.example.com/checkout",
    }
    data.update(extra)
    return data


def test_manager_creates_a_service_and_sees_its_routing_key(container: Container) -> None:
    team_id = _team(container)
    make_user(container, role="manager", email="mia@example.com")
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "mia@example.com")
        assert client.get("/services/new").status_code == 200
        created = client.post("/services/new", data=_form(token, owner_team_id=team_id))
        assert created.status_code == 303, created.text
        detail_url = created.headers["location"].split("?")[0]
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout")
        assert service is not None
        assert service.support_hours == {
            "time_zone": "Europe/London",
            "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
        }
        assert service.outside_hours == "hold" and service.ack_timeout_minutes == 15
        assert service.auto_resolve_minutes is None
        assert service.runbook_links == [
            {"title": "Checkout runbook", "url": "https://wiki.example.com/checkout"}
        ]
        key = service.integrations[0].routing_key
    with page_client(container) as client:
        sign_in(client, "rita@example.com")  # responders can look
        detail = main_of(client.get(detail_url).text)
        listing = main_of(client.get("/services").text)
        dashboard = main_of(client.get("/").text)
        assert client.get("/services/new").status_code == 403
        assert client.get(f"{detail_url}/edit").status_code == 403
    assert f'value="{key}"' in detail and "data-copy=" in detail
    assert "PagerDuty Events API v2 routing key" in detail
    assert "http://testserver/v2/enqueue" in detail or "/v2/enqueue" in detail
    assert "By support hours" in detail and "Mon\u2013Fri 09:00\u201317:00" in detail
    assert 'href="https://wiki.example.com/checkout"' in detail and "Payments" in detail
    assert "Checkout" in listing and "By support hours" in listing and "Payments" in listing
    assert 'href="/services/new"' not in listing
    assert "Checkout" in dashboard and "owned by Payments" in dashboard


def test_bad_support_hours_are_shown_next_to_the_field(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        bad = client.post(
            "/services/new",
            data=_form(
                token,
                **{
                    # Slot 0 left empty: errors must still land on slot 1's inputs.
                    "support_hours.windows[0].days": [],
                    "support_hours.windows[0].start": "",
                    "support_hours.windows[0].end": "",
                    "support_hours.windows[1].days": ["5"],
                    "support_hours.windows[1].start": "18:00",
                    "support_hours.windows[1].end": "08:00",
                    "runbook_links[1].title": "Second",
                    "runbook_links[1].url": "javascript:alert(1)",
                },
            ),
        )
        bad_url = client.post(
            "/services/new",
            data=_form(
                token,
                **{"runbook_links[1].title": "Second", "runbook_links[1].url": "ftp://x"},
            ),
        )
        no_hours = client.post(
            "/services/new",
            data=_form(
                token,
                **{
                    "support_hours.time_zone": "",
                    "support_hours.windows[0].days": [],
                    "support_hours.windows[0].start": "",
                    "support_hours.windows[0].end": "",
                },
            ),
        )
    assert bad.status_code == 422
    assert "End must be after start" in field_error(bad.text, "support_hours-windows-1-end")
    assert field_error(bad.text, "support_hours-windows-0-end") == ""
    assert 'value="18:00"' in bad.text and ">Takes the money</textarea>" in bad.text
    assert bad_url.status_code == 422
    assert "http://" in field_error(bad_url.text, "runbook_links-1-url")
    assert 'value="ftp://x"' in bad_url.text
    assert no_hours.status_code == 422
    assert "needs support hours" in field_error(no_hours.text, "support_hours")
    assert count(container, Service) == 0


def test_duplicate_name_is_shown_next_to_the_name(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        assert client.post("/services/new", data=_form(token)).status_code == 303
        again = client.post("/services/new", data=_form(token, name="CHECKOUT"))
        minutes = client.post("/services/new", data=_form(token, ack_timeout_minutes="soon"))
    assert again.status_code == 422
    assert "already exists" in field_error(again.text, "name")
    assert 'value="CHECKOUT"' in again.text
    assert minutes.status_code == 422 and "whole number" in field_error(
        minutes.text, "ack_timeout_minutes"
    )
    assert count(container, Service) == 1


def test_edit_keeps_values_and_switching_rule_clears_nothing(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        form = client.get(f"{detail_url}/edit")
        assert form.status_code == 200 and 'value="Checkout runbook"' in form.text
        saved = client.post(
            f"{detail_url}/edit",
            data=_form(token, name="Checkout API", urgency_rule="severity"),
        )
        assert saved.status_code == 303
        detail = client.get(saved.headers["location"])
    assert "Checkout API" in detail.text and "By event severity" in detail.text
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout API")
        assert service is not None and service.urgency_rule == "severity"
        assert service.support_hours is not None


def test_csrf_missing_is_refused_and_nothing_written(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        data = _form(token)
        del data["csrf_token"]
        refused = client.post("/services/new", data=data)
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        no_token = client.post(
            f"{detail_url}/integrations", data={"kind": "heartbeat", "name": "x"}
        )
    assert refused.status_code == 403 and no_token.status_code == 403
    assert count(container, Service) == 1 and count(container, Integration) == 1


def test_add_integration(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    make_user(container, role="responder", email="rita@example.com")
    make_user(container, role="stakeholder", email="sam@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        added = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": token, "kind": "alertmanager", "name": "Prometheus"},
        )
        assert added.status_code == 303
        detail = client.get(added.headers["location"].split("#")[0])
        empty = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": token, "kind": "heartbeat", "name": " "},
        )
    assert "Prometheus" in detail.text and "Alertmanager" in detail.text
    assert "Integrations (2)" in detail.text
    assert empty.status_code == 422 and "name" in field_error(empty.text, "integration-name")
    with page_client(container) as client:
        rita = sign_in(client, "rita@example.com")
        page = client.get(detail_url)
        refused = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": rita, "kind": "heartbeat", "name": "x"},
        )
    assert page.status_code == 200 and "Add integration" not in main_of(page.text)
    assert refused.status_code == 403
    with page_client(container) as client:
        sign_in(client, "sam@example.com")
        assert client.get("/services").status_code == 403
        assert client.get(detail_url).status_code == 403
        assert "services-title" not in client.get("/").text
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout")
        assert service is not None
        assert sorted(i.name for i in service.integrations) == ["Events API v2", "Prometheus"]
