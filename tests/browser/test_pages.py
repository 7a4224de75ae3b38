"""The UI in a real browser: sign in, a phone-sized dashboard, a team and a token via forms."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def _no_horizontal_scroll(page: Page, width: int) -> None:
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{page.url} scrolls sideways: {scroll_width}px > {width}px"


def test_sign_in(page: Page, artifacts_dir: Path) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login\?next=/$"))
    expect(page.get_by_role("heading", name="Sign in to Tocsin")).to_be_visible()
    page.screenshot(path=artifacts_dir / "login.png", full_page=True)
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Email or password is wrong.")
    page.screenshot(path=artifacts_dir / "login-failed.png", full_page=True)
    sign_in(page)
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    page.screenshot(path=artifacts_dir / "dashboard-desktop.png", full_page=True)


def test_dashboard_fits_a_phone(phone: Page, artifacts_dir: Path) -> None:
    sign_in(phone)
    expect(phone.get_by_role("heading", name="Engine")).to_be_visible()
    expect(phone.get_by_text("Welcome to Tocsin, Ada")).to_be_visible()
    phone.screenshot(path=artifacts_dir / "dashboard-375.png", full_page=True)
    _no_horizontal_scroll(phone, 375)
    for path, name in [
        ("/people", "people-375.png"),
        ("/messages", "messages-375.png"),
        ("/teams", "teams-375.png"),
        ("/profile", "profile-375.png"),
        ("/people/new", "person-new-375.png"),
    ]:
        phone.goto(path)
        phone.screenshot(path=artifacts_dir / name, full_page=True)
        _no_horizontal_scroll(phone, 375)


def test_skip_link_moves_focus_to_main(page: Page) -> None:
    sign_in(page)
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_create_a_team_through_the_form(page: Page, artifacts_dir: Path) -> None:
    sign_in(page)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Teams").click()
    page.get_by_role("link", name="New team").click()
    page.get_by_role("button", name="Create team").click()  # empty name: refused
    expect(page.locator("#name-error")).to_contain_text("Enter a team name")
    page.screenshot(path=artifacts_dir / "team-new-error.png", full_page=True)
    page.get_by_label("Team name").fill("Search Infrastructure")
    page.get_by_label("Description").fill("Indexing and query serving")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("heading", name="Edit team")).to_be_visible()
    page.get_by_label("Member: Yuki Tanaka").check()
    page.get_by_label("Manager: Grace Hopper").check()
    page.screenshot(path=artifacts_dir / "team-edit.png", full_page=True)
    page.get_by_role("button", name="Save team").click()
    expect(page.get_by_role("heading", name="Search Infrastructure")).to_be_visible()
    expect(page.get_by_text("Members (2)")).to_be_visible()
    expect(page.get_by_role("link", name="Yuki Tanaka")).to_be_visible()
    page.screenshot(path=artifacts_dir / "team-detail.png", full_page=True)


def test_create_a_token_and_see_it_once(page: Page, artifacts_dir: Path) -> None:
    sign_in(page)
    page.goto("/profile")
    page.get_by_label("Token name").fill("deploy script")
    page.get_by_label("write").check()
    page.get_by_role("button", name="Create token").click()
    token_box = page.get_by_role("textbox", name="API token")
    expect(token_box).to_have_value(re.compile(r"^tcn_"))
    raw = token_box.input_value()
    copy = page.get_by_role("button", name="Copy")
    expect(copy).to_be_visible()  # unhidden by tocsin.js
    page.screenshot(path=artifacts_dir / "profile-token.png", full_page=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy.click()
    expect(page.locator("#copy-status")).to_contain_text("Copied")
    page.goto("/profile")
    expect(page.get_by_role("cell", name="deploy script")).to_be_visible()
    assert raw not in page.content()


def test_revoke_asks_for_confirmation(page: Page) -> None:
    sign_in(page)
    page.goto("/profile")
    page.get_by_label("Token name").fill("to revoke")
    page.get_by_role("button", name="Create token").click()
    page.goto("/profile")
    revoke = page.get_by_role("button", name="Revoke to revoke")
    page.once("dialog", lambda dialog: dialog.dismiss())
    revoke.click()
    expect(revoke).to_be_visible()  # dismissed: still there
    page.once("dialog", lambda dialog: dialog.accept())
    revoke.click()
    expect(page.get_by_text("Token revoked.")).to_be_visible()


def test_create_a_service_on_a_phone(phone: Page, artifacts_dir: Path) -> None:
    sign_in(phone)
    phone.goto("/services/new")
    phone.get_by_label("Service name").fill("Card Authorisation")
    phone.get_by_label("Owner team").select_option(label="Payments")
    phone.get_by_label("By support hours").check()
    phone.get_by_label("Time zone").fill("Europe/London")
    for day in ("Mon", "Tue", "Wed", "Thu", "Fri"):
        phone.get_by_label(f"{day} in window 1").check()
    phone.locator("#support_hours-windows-0-start").fill("09:00")
    phone.locator("#support_hours-windows-0-end").fill("08:00")  # before the start: refused
    phone.locator("#runbook_links-0-title").fill("Card runbook")
    phone.locator("#runbook_links-0-url").fill("https://wiki.example.com/cards")
    phone.get_by_role("button", name="Create service").click()
    expect(phone.locator("#support_hours-windows-0-end-error")).to_contain_text(
        "End must be after start"
    )
    phone.screenshot(path=artifacts_dir / "service-new-375.png", full_page=True)
    _no_horizontal_scroll(phone, 375)
    phone.locator("#support_hours-windows-0-end").fill("17:30")
    phone.get_by_role("button", name="Create service").click()
    expect(phone.get_by_role("heading", name="Card Authorisation")).to_be_visible()
    expect(phone.get_by_text("Mon\u2013Fri 09:00\u201317:30")).to_be_visible()
    key = phone.get_by_role("textbox", name="PagerDuty Events API v2 routing key of Events API v2")
    expect(key).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    phone.screenshot(path=artifacts_dir / "service-detail-375.png", full_page=True)
    _no_horizontal_scroll(phone, 375)
