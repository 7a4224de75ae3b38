"""Incidents in a real browser: trigger through the form, see new ones arrive live, work one.

Desktop and 375 px phone widths; screenshots go to the artifacts directory.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from tests.browser.conftest import sign_in
from tocsin import bootstrap
from tocsin.incidents import actions as incident_actions
from tocsin.incidents import repo as incident_repo
from tocsin.kernel.actor import Actor
from tocsin.services.tables import Service

pytestmark = pytest.mark.browser

LIVE_WAIT_MS = 15_000


def _no_horizontal_scroll(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px > {width}px"


def _routing_key(container: bootstrap.Container) -> str:
    with container.db.read() as tx:
        service = tx.execute(select(Service).where(Service.name == "Checkout")).scalar_one()
        return service.integrations[0].routing_key


def _send_alert(live_server: str, container: bootstrap.Container, summary: str) -> None:
    """An event through the PagerDuty-compatible intake, then one engine cycle."""
    response = httpx.post(
        f"{live_server}/v2/enqueue",
        json={
            "routing_key": _routing_key(container),
            "event_action": "trigger",
            "payload": {"summary": summary, "source": "db-7", "severity": "critical"},
            "links": [{"href": "https://wiki.example.com/runbook/db", "text": "Runbook"}],
        },
        timeout=10,
    )
    assert response.status_code == 202, response.text
    container.runner.run_cycle()


def _work_an_incident(
    page: Page,
    live_server: str,
    live_container: bootstrap.Container,
    artifacts_dir: Path,
    suffix: str,
    width: int,
) -> None:
    sign_in(page)
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Incidents").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Incidents"))).to_be_visible()
    expect(page.get_by_text("Card payments fail with HTTP 500 for EU customers")).to_be_visible()
    _no_horizontal_scroll(page, width)
    page.screenshot(path=artifacts_dir / f"incidents-list-{suffix}.png", full_page=True)

    # Trigger through the form: an empty title is refused next to the field.
    page.get_by_role("link", name="Trigger an incident").click()
    page.get_by_label("Affected service").select_option(label="Checkout")
    page.get_by_role("button", name="Trigger incident").click()
    expect(page.locator("#title-error")).to_contain_text("Say what is wrong")
    page.screenshot(path=artifacts_dir / f"incident-new-error-{suffix}.png", full_page=True)
    title = f"Checkout page blank in Safari ({suffix})"
    page.get_by_label("What is wrong?").fill(title)
    page.get_by_label("Details").fill("Since 03:02; Chrome is fine.")
    page.get_by_role("button", name="Trigger incident").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(title)
    expect(page.get_by_role("status").filter(has_text="Incident triggered")).to_be_visible()

    # The list shows an alert arriving through /v2/enqueue without a reload.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Incidents").click()
    expect(page.get_by_role("link", name=title)).to_be_visible()
    page.evaluate("window.__sameDocument = true")
    summary = f"Postgres primary db-7 replication lag over 5 minutes ({suffix})"
    _send_alert(live_server, live_container, summary)
    expect(page.get_by_role("link", name=summary)).to_be_visible(timeout=LIVE_WAIT_MS)
    assert page.evaluate("window.__sameDocument === true"), "the list reloaded the page"
    expect(page.locator("#live-announcer")).to_contain_text("New incident", timeout=5_000)
    _no_horizontal_scroll(page, width)
    page.screenshot(path=artifacts_dir / f"incidents-live-{suffix}.png", full_page=True)

    # Work the new incident: acknowledge, add a note, raise severity, resolve.
    page.get_by_role("link", name=summary).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(summary)
    expect(page.get_by_text("Why it joined").first).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Acknowledge #")).click()
    expect(page.get_by_role("status").filter(has_text="Acknowledged")).to_be_visible()
    expect(page.locator("#incident-summary")).to_contain_text("acknowledged")
    page.get_by_label("Add a note").fill("Failing over to db-8.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#incident-timeline")).to_contain_text("Failing over to db-8.")
    page.get_by_role("button", name=re.compile(r"^Set SEV-2")).click()
    expect(page.locator("#incident-summary")).to_contain_text("major incident")
    _no_horizontal_scroll(page, width)
    page.screenshot(path=artifacts_dir / f"incident-detail-{suffix}.png", full_page=True)
    page.get_by_label("Resolution note").fill("Failed over; lag back to 0.")
    page.get_by_role("button", name=re.compile(r"^Resolve #")).click()
    expect(page.locator("#incident-summary")).to_contain_text("resolved")
    expect(page.locator("#incident-timeline")).to_contain_text("Failed over; lag back to 0.")
    page.screenshot(path=artifacts_dir / f"incident-resolved-{suffix}.png", full_page=True)


def test_incident_lifecycle_desktop(
    page: Page, live_server: str, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    _work_an_incident(page, live_server, live_container, artifacts_dir, "desktop", 1280)


def test_incident_lifecycle_phone(
    phone: Page, live_server: str, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    _work_an_incident(phone, live_server, live_container, artifacts_dir, "375", 375)


def test_someone_elses_incident_offers_a_note_and_reassign(
    phone: Page, live_container: bootstrap.Container, artifacts_dir: Path
) -> None:
    sign_in(phone)
    phone.goto("/incidents")
    phone.get_by_role("link", name="Card payments fail with HTTP 500 for EU customers").click()
    expect(phone.get_by_text("is assigned: only they acknowledge")).to_be_visible()
    expect(phone.get_by_role("button", name=re.compile(r"^Acknowledge #"))).to_have_count(0)
    expect(phone.get_by_role("button", name="Reassign to me")).to_be_visible()
    expect(phone.get_by_label("Add a note")).to_be_visible()
    expect(phone.get_by_role("link", name="Checkout runbook")).to_be_visible()
    _no_horizontal_scroll(phone, 375)
    phone.screenshot(path=artifacts_dir / "incident-not-assignee-375.png", full_page=True)
    # Someone raises the severity elsewhere: the open page shows it without a reload.
    with live_container.db.transaction() as tx:
        incident = incident_repo.get_incident_ref(tx, phone.url.rsplit("/", 1)[-1])
        incident_actions.set_severity(
            tx,
            incident_id=incident.id,
            severity=1,
            actor=Actor.system(via="cli"),
            now=live_container.clock.now(),
        )
    expect(phone.locator("#incident-summary")).to_contain_text("SEV-1", timeout=LIVE_WAIT_MS)
    expect(phone.locator("#stale-note")).to_be_visible()
    expect(phone.locator("#incident-timeline")).to_contain_text("SEV-2 → SEV-1")


def test_service_page_fits_a_phone(phone: Page, artifacts_dir: Path) -> None:
    sign_in(phone)
    phone.goto("/services")
    phone.get_by_role("link", name="Checkout").click()
    expect(phone.get_by_role("heading", name="Integrations (1)")).to_be_visible()
    expect(phone.get_by_role("heading", name="Heartbeat monitors")).to_be_visible()
    _no_horizontal_scroll(phone, 375)
    phone.screenshot(path=artifacts_dir / "service-checkout-375.png", full_page=True)
    # A generic webhook: its field mapping tried on a sample payload (nothing saved).
    phone.get_by_label("Kind").select_option(label="Generic webhook")
    phone.get_by_label("Integration name").fill("Grafana")
    phone.get_by_role("button", name="Add integration").click()
    expect(phone.get_by_role("heading", name=re.compile(r"^Integrations \(2\)"))).to_be_visible()
    phone.get_by_text("Field mapping").click()
    phone.get_by_label("Summary (required)").fill("alert.title")
    phone.get_by_label("Source").fill("alert.host")
    phone.get_by_role("button", name="Try it on the sample").click()
    preview = phone.get_by_role("status").filter(has_text="Preview (nothing saved)")
    expect(preview).to_contain_text("Disk 95% full on db-1")
    _no_horizontal_scroll(phone, 375)
    phone.screenshot(path=artifacts_dir / "service-webhook-preview-375.png", full_page=True)
    phone.goto("/")
    expect(phone.get_by_role("heading", name=re.compile(r"^Open incidents"))).to_be_visible()
    _no_horizontal_scroll(phone, 375)
    phone.screenshot(path=artifacts_dir / "dashboard-incidents-375.png", full_page=True)
