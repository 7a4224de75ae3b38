"""Schedule pages in a real browser: the on-call directory and a schedule's timeline, desktop and phone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in
from tocsin import bootstrap
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people_actions
from tocsin.people import repo as people_repo
from tocsin.schedules import actions
from tocsin.schedules.convert import LayerInput

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module", autouse=True)
def schedules(live_container: bootstrap.Container) -> None:
    """A weekly primary with an override tomorrow, and business-hours support with gaps."""
    now = live_container.clock.now()
    system = Actor.system(via="cli")
    with live_container.db.transaction() as tx:
        if people_repo.find_team_by_name(tx, "Customer Support") is not None:
            return
        people = {u.email.split("@")[0]: u for u in people_repo.list_users(tx)}
        payments = people_repo.find_team_by_name(tx, "Payments")
        assert payments is not None
        support = people_actions.create_team(tx, name="Customer Support", actor=system, now=now)
        for name in ("Legal", "Executives"):
            people_actions.create_team(tx, name=name, actor=system, now=now)
        start = (now - timedelta(days=now.weekday() + 7)).date()
        primary = actions.create_schedule(
            tx,
            name="Payments primary",
            time_zone="Europe/London",
            team_ids=[payments.id],
            layers=[
                LayerInput(
                    name="Weekly",
                    participants=[people["grace"].id, people["linus"].id, people["yuki"].id],
                    turn_hours=168,
                    start_date=start,
                )
            ],
            actor=system,
            now=now,
        )
        tomorrow = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
        actions.add_override(
            tx,
            schedule_id=primary.id,
            user_id=people["ada"].id,
            start_at=tomorrow,
            end_at=tomorrow + timedelta(hours=10),
            reason="Swap for a school play",
            actor=system,
            now=now,
        )
        actions.create_schedule(
            tx,
            name="Support business hours",
            time_zone="America/New_York",
            team_ids=[support.id],
            layers=[
                LayerInput(
                    name="Office hours",
                    participants=[people["grace"].id, people["yuki"].id],
                    turn_hours=24,
                    start_date=start,
                    restrictions=[
                        {"start": "09:00", "end": "17:00", "start_day": d, "end_day": d}
                        for d in range(5)
                    ],
                )
            ],
            actor=system,
            now=now,
        )


def _no_horizontal_scroll(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px > {width}px"


def test_directory_on_desktop_and_phone(page: Page, phone: Page, artifacts_dir: Path) -> None:
    for p, name, width in ((page, "oncall-desktop.png", 1280), (phone, "oncall-375.png", 375)):
        sign_in(p)
        p.get_by_role("link", name="On call").first.click()
        expect(p.get_by_role("heading", name="Who is on call")).to_be_visible()
        for team in ("Payments", "Customer Support", "Legal", "Executives"):
            expect(p.get_by_role("heading", name=team, exact=True)).to_be_visible()
        expect(p.get_by_role("link", name="Payments primary")).to_be_visible()
        expect(p.get_by_text("No on-call schedule.").first).to_be_visible()
        p.screenshot(path=artifacts_dir / name, full_page=True)
        _no_horizontal_scroll(p, width)


def test_schedule_view_on_desktop_and_phone(page: Page, phone: Page, artifacts_dir: Path) -> None:
    for p, prefix, width in ((page, "desktop", 1280), (phone, "375", 375)):
        sign_in(p)
        p.goto("/schedules")
        expect(p.get_by_role("heading", name="Schedules", exact=True)).to_be_visible()
        expect(p.get_by_text("with nobody on call")).to_be_visible()
        p.screenshot(path=artifacts_dir / f"schedules-{prefix}.png", full_page=True)
        _no_horizontal_scroll(p, width)
        p.get_by_role("link", name="Payments primary").first.click()
        expect(p.get_by_role("heading", name="Payments primary")).to_be_visible()
        expect(p.locator(".tl-final .tl-override")).to_have_count(1)
        bar = p.locator(".tl-final .tl-bar").first.bounding_box()
        assert bar is not None and bar["width"] > 20  # positioned by the timeline stylesheet
        p.screenshot(path=artifacts_dir / f"schedule-{prefix}.png", full_page=True)
        _no_horizontal_scroll(p, width)
        p.goto("/schedules")
        p.get_by_role("link", name="Support business hours").first.click()
        expect(p.get_by_role("alert")).to_contain_text("Nobody is on call")
        assert p.locator(".tl-final .tl-gap").count() > 5
        p.screenshot(path=artifacts_dir / f"schedule-gaps-{prefix}.png", full_page=True)
        _no_horizontal_scroll(p, width)


def test_override_preview_in_the_browser(page: Page, artifacts_dir: Path) -> None:
    sign_in(page)
    page.goto("/schedules")
    page.get_by_role("link", name="Payments primary").first.click()
    page.get_by_label("Who takes the pager").select_option(label="Ada Lovelace")
    day = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%d")
    page.get_by_label("From").first.fill(f"{day}T09:00")
    page.get_by_label("Until").first.fill(f"{day}T12:00")
    page.get_by_role("button", name="Preview the change").click()
    expect(page.locator("#override-preview")).to_contain_text("Ada Lovelace gains 1 shift (+3 h)")
    page.screenshot(path=artifacts_dir / "schedule-override-preview.png", full_page=True)
