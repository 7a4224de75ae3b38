"""Paging pages in a real browser: policy editor and preview, contact methods, unreachable banner.

Phone (390x844) and desktop widths; screenshots go to the artifacts directory.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from tests.browser.conftest import new_page, sign_in
from tocsin import bootstrap
from tocsin.escalation import actions as escalation_actions
from tocsin.incidents import actions as incident_actions
from tocsin.incidents import paging
from tocsin.kernel.actor import Actor
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import contacts
from tocsin.people.tables import User
from tocsin.schedules import actions as schedule_actions
from tocsin.schedules.convert import LayerInput
from tocsin.services import actions as service_actions

pytestmark = pytest.mark.browser

SYSTEM = Actor.system(via="cli")
SIZES = {"desktop": (1280, 800), "390": (390, 844)}


@pytest.fixture(params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Browser, live_server: str) -> Iterator[Page]:
    width, height = SIZES[request.param]
    p = new_page(browser, live_server, width, height)
    p.size_name = request.param  # type: ignore[attr-defined]
    yield p
    errors = list(p.console_errors)  # type: ignore[attr-defined]
    p.context.close()
    assert errors == [], errors


def _no_horizontal_scroll(page: Page) -> None:
    width = page.viewport_size["width"] if page.viewport_size else 1280
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} scrolls sideways: {scroll}px > {width}px"


def _user(container: bootstrap.Container, email: str) -> uuid.UUID:
    with container.db.read() as tx:
        return tx.execute(select(User.id).where(User.email == email)).scalar_one()


def _ensure_schedule(container: bootstrap.Container) -> str:
    name = "Night desk"
    yuki = _user(container, "yuki@example.com")
    with container.db.transaction() as tx:
        from tocsin.schedules import repo as schedules_repo

        found = schedules_repo.find_schedule_by_name(tx, name)
        if found is not None:
            return name
        schedule_actions.create_schedule(
            tx,
            name=name,
            time_zone="UTC",
            layers=[
                LayerInput(
                    name="Weekly",
                    participants=[yuki],
                    turn_hours=168,
                    start_date=date(2020, 1, 6),
                )
            ],
            actor=SYSTEM,
            now=container.clock.now(),
        )
    return name


def test_policy_editor_and_preview(
    sized: Page, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    page, size = sized, sized.size_name  # type: ignore[attr-defined]
    schedule = _ensure_schedule(live_container)
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Policies").click()
    expect(page.get_by_role("heading", name="Escalation policies")).to_be_visible()
    page.get_by_role("link", name="New policy").click()
    name = f"Night escalation {size}"
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("button", name="Create policy").click()
    expect(page.locator("#levels-error")).to_contain_text("at least one level")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / f"policy-form-error-{size}.png", full_page=True)
    page.get_by_label("Name", exact=True).fill(name)
    page.locator("#levels-0-schedules").select_option(label=schedule)
    page.locator("#levels-1-users").select_option(label="Ada Lovelace")
    page.locator("#levels-1-delay_minutes").fill("10")
    page.get_by_role("button", name="Create policy").click()
    expect(page.get_by_role("heading", name=name)).to_be_visible()
    panel = page.locator("#paged-now")
    expect(panel).to_contain_text("Yuki Tanaka")
    expect(panel).to_contain_text(f"on call for {schedule}")
    expect(panel).to_contain_text("no verified contact method")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / f"policy-detail-{size}.png", full_page=True)
    page.goto("/policies")
    expect(page.get_by_role("link", name=name)).to_be_visible()
    page.screenshot(path=artifacts_dir / f"policies-list-{size}.png", full_page=True)


def test_profile_contact_methods(
    sized: Page, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    page, size = sized, sized.size_name  # type: ignore[attr-defined]
    sign_in(page, "grace@example.com")
    page.goto("/profile")
    page.get_by_label("Kind").select_option("sms")
    number = "+1415555" + ("0101" if size == "desktop" else "0102")
    page.get_by_label("Address").fill("12")
    page.get_by_role("button", name="Add and send a code").click()
    expect(page.locator("#add-address-error")).to_contain_text("E.164")
    page.get_by_label("Address").fill(number)
    page.get_by_role("button", name="Add and send a code").click()
    expect(page.get_by_text(number, exact=True)).to_be_visible()
    with live_container.db.read() as tx:
        body = tx.execute(
            select(OutboundMessage.body).where(
                OutboundMessage.kind == "verify", OutboundMessage.recipient == number
            )
        ).scalar_one()
    match = re.search(r"\b(\d{6})\b", body)
    assert match is not None
    page.screenshot(path=artifacts_dir / f"profile-verify-{size}.png", full_page=True)
    page.get_by_label("Code we sent to it").fill(match.group(1))
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_text("Verified: Tocsin can page you there now.")).to_be_visible()
    expect(page.get_by_text("SMS: never tested").first).to_be_visible()
    expect(page.get_by_text("recommended default").first).to_be_visible()
    _no_horizontal_scroll(page)
    page.locator("#contacts").screenshot(path=artifacts_dir / f"profile-contacts-{size}.png")
    page.screenshot(path=artifacts_dir / f"profile-paging-{size}.png", full_page=True)


def _unreachable_incident(container: bootstrap.Container, size: str) -> int:
    linus = _user(container, "linus@example.com")
    now = container.clock.now()
    with container.db.transaction() as tx:
        if not contacts.list_methods(tx, linus):
            contacts.add_method(
                tx,
                user_id=linus,
                kind="sms",
                address="+358401234567",
                label="",
                actor=SYSTEM,
                now=now,
            )
        policy = escalation_actions.create_policy(
            tx,
            name=f"Linus only {size} {uuid.uuid4().hex[:6]}",
            levels=[{"delay_minutes": 5, "targets": [{"kind": "user", "id": str(linus)}]}],
            actor=SYSTEM,
            now=now,
        )
        service = service_actions.create_service(
            tx,
            name=f"Ledger {size} {uuid.uuid4().hex[:6]}",
            escalation_policy_id=policy.id,
            actor=SYSTEM,
            now=now,
        )
        incident = incident_actions.trigger_incident(
            tx,
            title=f"Ledger writes time out ({size})",
            service_id=service.id,
            actor=SYSTEM,
            now=now,
        )
        number = incident.number
    with container.db.transaction() as tx:
        paging.run_due(tx, now=now, config=container.paging)
    return number


def test_incident_unreachable_banner(
    sized: Page, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    page, size = sized, sized.size_name  # type: ignore[attr-defined]
    number = _unreachable_incident(live_container, size)
    sign_in(page)
    page.goto(f"/incidents/{number}")
    banner = page.get_by_role("alert").filter(has_text="Nobody could be reached")
    expect(banner).to_be_visible()
    call = banner.get_by_role("link", name=re.compile(r"Call \+358401234567"))
    expect(call).to_have_attribute("href", "tel:+358401234567")
    box = call.bounding_box()
    assert box is not None and box["height"] >= 44
    expect(page.locator("#escalation")).to_contain_text("exhausted")
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / f"incident-unreachable-{size}.png", full_page=False)
    page.get_by_text("Page more people").click()
    page.get_by_label("Add responders").select_option(label="Yuki Tanaka")
    page.get_by_role("button", name="Page them now").click()
    expect(page.get_by_text("Responders paged.")).to_be_visible()
    page.screenshot(path=artifacts_dir / f"incident-paging-{size}.png", full_page=True)
    page.goto("/")
    expect(page.get_by_role("alert").filter(has_text="Nobody could be reached")).to_be_visible()
    page.screenshot(path=artifacts_dir / f"dashboard-unreachable-{size}.png", full_page=False)
    page.goto("/messages")
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    _no_horizontal_scroll(page)
    page.screenshot(path=artifacts_dir / f"messages-{size}.png", full_page=True)
