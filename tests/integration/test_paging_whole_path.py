"""The whole paging path on both databases, with real parts: an alert over HTTP, escalation
by the engine on a fast-forwarded clock, personal rules, email through a real SMTP server
(aiosmtpd), and an acknowledgement through the one-click link in the email that arrived."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from tests.databases import wipe
from tests.integration.api_support import api_client
from tests.scenarios.paging_support import two_level_service
from tests.smtp import SmtpServer
from tocsin import bootstrap
from tocsin.escalation.tables import EscalationState
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications.tables import OutboundMessage
from tocsin.settings import Settings

LINK = re.compile(r"http://tocsin\.test(/a/[\w.\-]+)")


@pytest.fixture
def live(
    settings: Settings, clock: FrozenClock, smtp_server: SmtpServer
) -> Iterator[bootstrap.Container]:
    """Channels built from settings as in production: email to the real SMTP server; SMS and
    the others are not configured (so they fail loudly and show in the message log)."""
    configured = settings.model_copy(
        update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port}
    )
    c = bootstrap.build(configured, clock=clock, configure_logging=False)
    try:
        yield c
    finally:
        c.runner.stop()
        wipe(c.db)
        c.db.dispose()


def _mail_to(server: SmtpServer, address: str) -> list[str]:
    return [m.message.get_content() for m in server.received() if m.recipients == (address,)]


def _forward(container: bootstrap.Container, clock: FrozenClock, minutes: int) -> None:
    """Run the engine every 30 s of fake time, as a running engine would see it."""
    for _ in range(minutes * 2):
        clock.advance(seconds=30)
        container.runner.run_cycle()


def test_alert_pages_by_email_escalates_and_the_emailed_link_acknowledges(
    live: bootstrap.Container, clock: FrozenClock, smtp_server: SmtpServer
) -> None:
    graph = two_level_service(
        live, runbook_links=[{"title": "Disk", "url": "https://wiki.example/disk"}]
    )
    with api_client(live) as client:
        answer = client.post(
            "/v2/enqueue",
            json={
                "routing_key": graph.routing_key,
                "event_action": "trigger",
                "dedup_key": "disk-db-1",
                "payload": {
                    "summary": "Disk 95% full on db-1",
                    "source": "db-1",
                    "severity": "critical",
                },
            },
        )
        assert answer.status_code == 202
        live.runner.run_cycle()

        # Level 1: Ada by email at once (SMS is not configured here: it fails, loudly).
        [first] = _mail_to(smtp_server, "ada@example.com")
        assert "Disk 95% full on db-1" in first and "Checkout" in first
        assert "Runbook: https://wiki.example/disk" in first
        _forward(live, clock, 6)
        # Level 2 after 5 minutes: Bob.
        [bobs] = _mail_to(smtp_server, "bob@example.com")
        found = LINK.search(bobs)
        assert found is not None, bobs

        # Opening the link changes nothing (mail scanners open links)...
        page = client.get(found.group(1))
        assert page.status_code == 200
        with live.db.read() as tx:
            assert tx.execute(select(Incident.status)).scalar_one() == "triggered"
        # ...the button on the page acknowledges, as Bob, without a session.
        done = client.post(found.group(1))
        assert done.status_code == 200

    with live.db.read() as tx:
        incident = tx.execute(select(Incident)).scalar_one()
        assert incident.status == "acknowledged" and incident.assignee_id == graph.bob.id
        state = tx.execute(select(EscalationState)).scalar_one()
        assert state.status == "stopped"
        kinds = list(
            tx.execute(
                select(IncidentEvent.kind).where(IncidentEvent.incident_id == incident.id)
            ).scalars()
        )
        # Ada's SMS failed (not configured) and that is on the timeline, not hidden.
        sms = tx.execute(
            select(OutboundMessage).where(OutboundMessage.channel == "sms")
        ).scalar_one()
        assert sms.status == "failed" and "not configured" in (sms.last_error or "")
    assert kinds.count("incident.escalated") == 2
    assert "notification.failed" in kinds and "incident.acknowledged" in kinds

    # Acknowledged: nothing more is sent, however long we wait (no ack timeout here).
    sent = len(smtp_server.received())
    _forward(live, clock, 30)
    assert len(smtp_server.received()) == sent
