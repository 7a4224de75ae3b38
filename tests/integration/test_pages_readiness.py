"""The readiness page and API on both databases: people who cannot be reached, empty levels."""

from __future__ import annotations

from tests.integration.api_support import api_client, bearer, make_token, make_user
from tests.integration.pages_support import make_user as make_page_user
from tests.integration.pages_support import page_client, sign_in
from tests.scenarios.paging_support import person
from tocsin.bootstrap import Container
from tocsin.escalation import actions as escalation
from tocsin.kernel.actor import Actor
from tocsin.services import actions as services

SYSTEM = Actor.system(via="cli")


def _setup(container: Container) -> None:
    quiet = person(container, "Quentin")  # in a rotation, no contact method at all
    now = container.clock.now()
    with container.db.transaction() as tx:
        policy = escalation.create_policy(
            tx,
            name="Search",
            levels=[{"targets": [{"kind": "user", "id": str(quiet.id)}]}],
            actor=SYSTEM,
            now=now,
        )
        services.create_service(
            tx, name="Search API", escalation_policy_id=policy.id, actor=SYSTEM, now=now
        )
        services.create_service(tx, name="Billing", actor=SYSTEM, now=now)


def test_the_api_reports_unreachable_people_and_services_without_policy(
    container: Container,
) -> None:
    _setup(container)
    observer = make_user(container, role="observer")
    with api_client(container) as client:
        body = client.get(
            "/api/v1/readiness", headers=bearer(make_token(container, observer))
        ).json()
        assert client.get("/api/v1/readiness").status_code == 401
    assert body["ready"] is False
    assert {p["subject"] for p in body["people"]} == {"Quentin"}
    assert any("no verified" in p["message"] for p in body["people"])
    assert [s["service"] for s in body["services"]] == ["Billing"]


def test_the_page_lists_what_to_fix(container: Container) -> None:
    _setup(container)
    manager = make_page_user(container, role="manager")
    with page_client(container) as client:
        sign_in(client, manager.email)
        page = client.get("/readiness")
    assert page.status_code == 200
    assert "Quentin" in page.text and "Service Billing" in page.text
