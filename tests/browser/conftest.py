"""Browser fixtures: a live Tocsin on a loopback port (SQLite) and headless system Chromium."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, sync_playwright
from sqlalchemy.orm import Session

from tests.databases import sqlite_database
from tocsin import bootstrap
from tocsin.channels.base import Recording
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.incidents import actions as incident_actions
from tocsin.kernel.actor import Actor
from tocsin.notifications import actions as outbox
from tocsin.people import actions
from tocsin.people.tables import User
from tocsin.services import actions as service_actions
from tocsin.settings import Settings
from tocsin.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
ADMIN_EMAIL = "ada@example.com"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Where screenshots go: $TOCSIN_ARTIFACTS_DIR, else artifacts/screenshots (gitignored)."""
    configured = os.environ.get("TOCSIN_ARTIFACTS_DIR")
    path = Path(configured) if configured else REPO_ROOT / "artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _seed(container: bootstrap.Container) -> None:
    """An admin, colleagues in other zones, a team, messages, a service and open incidents."""
    now = container.clock.now()
    system = Actor.system(via="cli")
    with container.db.transaction() as tx:
        people = [
            actions.create_user(
                tx,
                email=email,
                name=name,
                role=role,
                time_zone=zone,
                password=PASSWORD,
                actor=system,
                now=now,
            )
            for email, name, role, zone in [
                (ADMIN_EMAIL, "Ada Lovelace", "admin", "Europe/London"),
                ("grace@example.com", "Grace Hopper", "manager", "America/New_York"),
                (
                    "linus@example.com",
                    "Linus Torvalds-Extraordinarily-Long-Name",
                    "responder",
                    "Europe/Helsinki",
                ),
                ("yuki@example.com", "Yuki Tanaka", "responder", "Asia/Tokyo"),
            ]
        ]
        team = actions.create_team(
            tx, name="Payments", description="Card and bank transfers", actor=system, now=now
        )
        actions.update_team(
            tx,
            team_id=team.id,
            actor=system,
            now=now,
            members=[
                actions.Membership(people[1].id, is_manager=True),
                actions.Membership(people[2].id),
            ],
        )
        for person in people[:3]:
            outbox.enqueue(
                tx,
                dedup_key=f"welcome:{person.id}",
                channel="email",
                recipient=person.email,
                user_id=person.id,
                subject=f"Welcome to Tocsin, {person.name.split()[0]}",
                body="hello",
                now=now,
            )
        _seed_incidents(tx, people, system, now)


def _seed_incidents(tx: Session, people: list[User], system: Actor, now: datetime) -> None:
    """A service with a runbook and two open incidents: a major one for Grace, a low one."""
    service = service_actions.create_service(
        tx,
        name="Checkout",
        description="Takes the money",
        runbook_links=[{"title": "Checkout runbook", "url": "https://wiki.example.com/checkout"}],
        actor=system,
        now=now,
    )
    incident_actions.trigger_incident(
        tx,
        title="Card payments fail with HTTP 500 for EU customers",
        service_id=service.id,
        severity=2,
        assignee_id=people[1].id,
        actor=system,
        now=now,
    )
    incident_actions.trigger_incident(
        tx,
        title="Receipt emails delayed by 10 minutes",
        service_id=service.id,
        urgency="low",
        actor=system,
        now=now,
    )


@pytest.fixture(scope="session")
def live_container(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bootstrap.Container]:
    data_dir = tmp_path_factory.mktemp("browser")
    url = sqlite_database(data_dir)
    db = Database(url)
    migrate.upgrade(db)
    db.dispose()
    settings = Settings(
        data_dir=data_dir / "data",
        database_url=url,
        base_url="http://127.0.0.1",
        secret_key="browser-test-secret-key-0123456789",
        login_max_failures=50,
    )
    container = bootstrap.build(
        settings, channels={"email": Recording("email")}, configure_logging=False
    )
    _seed(container)
    try:
        yield container
    finally:
        container.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def live_server(live_container: bootstrap.Container) -> Iterator[str]:
    """Tocsin served by uvicorn in a thread; stopped (not killed) at the end of the session."""
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(live_container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, name="tocsin-live-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        assert not thread.is_alive(), "the live server did not stop"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        if os.environ.get("TOCSIN_TEST_REQUIRE_BROWSER"):
            pytest.fail("TOCSIN_TEST_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Chromium not installed at /usr/bin/chromium (apt-get install chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def new_page(browser: Browser, live_server: str, width: int = 1280, height: int = 800) -> Page:
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        # Pages answered with 401/403/422 on purpose log "Failed to load resource";
        # broken subresources are caught by on_response instead.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(msg.text)

    def on_response(response: Response) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            errors.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.console_errors = errors  # type: ignore[attr-defined]
    return page


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A desktop-sized page; its console errors (CSP violations too) fail the test."""
    p = new_page(browser, live_server)
    yield p
    errors = list(p.console_errors)  # type: ignore[attr-defined]
    p.context.close()
    assert errors == [], errors


@pytest.fixture
def phone(browser: Browser, live_server: str) -> Iterator[Page]:
    """A 375x800 phone-sized page."""
    p = new_page(browser, live_server, 375, 800)
    yield p
    errors = list(p.console_errors)  # type: ignore[attr-defined]
    p.context.close()
    assert errors == [], errors


def sign_in(page: Page, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/")
