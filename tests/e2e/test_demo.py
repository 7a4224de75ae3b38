"""The README's first command: `tocsin demo` serves a populated instance where the admin can sign in."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from tests.e2e.processes import http_ok, running, wait_until
from tests.smtp import SmtpServer, free_port

pytestmark = pytest.mark.slow


TEST_SUBJECT = "Tocsin test message"


def _sign_in(client: httpx.Client) -> httpx.Response:
    form = client.get("/login")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token, "login form has a CSRF field"
    return client.post(
        "/login",
        data={
            "email": "admin@example.com",
            "password": "tocsin-demo",
            "csrf_token": token.group(1),
            "next": "/",
        },
    )


def test_demo_serves_a_populated_instance_and_delivers_its_email(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    data = tmp_path / "demo"
    log = tmp_path / "demo.log"
    with (
        SmtpServer() as smtp,
        running(
            ["--data-dir", str(data), "demo", "--port", str(port)],
            log,
            TOCSIN_SMTP_HOST=smtp.host,
            TOCSIN_SMTP_PORT=str(smtp.port),
            TOCSIN_ENGINE_CYCLE_SECONDS="0.5",
        ),
    ):
        wait_until(http_ok(f"{base}/healthz"), what="the demo to answer", log=log)
        printed = log.read_text()
        assert f"http://localhost:{port}" in printed
        assert "admin@example.com / tocsin-demo" in printed

        with httpx.Client(base_url=base, timeout=10) as client:
            anonymous = client.get("/", headers={"accept": "text/html"})
            assert anonymous.status_code == 303
            assert anonymous.headers["location"].startswith("/login")
            signed_in = _sign_in(client)
            assert signed_in.status_code == 303
            dashboard = client.get("/", headers={"accept": "text/html"})
            assert dashboard.status_code == 200
            for team in ("Platform", "Payments", "Legal", "Executives"):
                assert team in dashboard.text
        wait_until(http_ok(f"{base}/readyz"), what="the in-process engine to cycle", log=log)
        # The demo queues one test email to the admin; with SMTP configured it really goes out.
        # (Handoff emails may go out too, when a demo shift happens to start or end now.)
        wait_until(
            lambda: any(m.subject == TEST_SUBJECT for m in smtp.received()),
            what="the test email",
            log=log,
        )
        [received] = [m for m in smtp.received() if m.subject == TEST_SUBJECT]
        assert received.recipients == ("admin@example.com",)

    with sqlite3.connect(data / "tocsin.sqlite3") as db:
        assert db.execute("select count(*) from users").fetchone()[0] == 25
        assert db.execute("select count(*) from teams").fetchone()[0] == 11
        keys = [k for (k,) in db.execute("select routing_key from integrations")]
        assert len(keys) == 7 and all(len(k) == 32 for k in keys)
        statuses = db.execute(
            "select status from outbound_messages where subject = ?", (TEST_SUBJECT,)
        ).fetchall()
        assert statuses == [("sent",)]


def test_demo_without_smtp_records_the_email_as_not_sent_and_restarts_reusing_data(
    tmp_path: Path,
) -> None:
    data = tmp_path / "demo"
    for attempt in ("created", "reused"):
        port = free_port()
        log = tmp_path / f"demo-{attempt}.log"
        with running(
            ["--data-dir", str(data), "demo", "--port", str(port)],
            log,
            TOCSIN_ENGINE_CYCLE_SECONDS="0.5",
        ):
            wait_until(http_ok(f"http://127.0.0.1:{port}/readyz"), what="the demo engine", log=log)

            def failed_loudly() -> bool:
                with sqlite3.connect(data / "tocsin.sqlite3") as db:
                    rows = db.execute(
                        "select status, last_error from outbound_messages where subject = ?",
                        (TEST_SUBJECT,),
                    ).fetchall()
                return rows == [("failed", rows[0][1])] and "TOCSIN_SMTP_HOST" in (rows[0][1] or "")

            wait_until(
                failed_loudly, what="the unsent email to be recorded with the reason", log=log
            )
            assert f"Demo organisation {attempt}" in log.read_text()
