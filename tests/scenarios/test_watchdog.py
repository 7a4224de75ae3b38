"""The watchdog on the engine harness: alarms when paging falls behind, a second path to the
admins (never the outbox), repeat throttling, clearing, the heartbeat URL and /metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from tests.integration.api_support import api_client
from tests.scenarios.harness import Scenario
from tests.scenarios.paging_support import person, send_trigger, two_level_service
from tocsin.channels.base import DeliveryError
from tocsin.engine import lease
from tocsin.engine.tables import EngineAlarm
from tocsin.engine.watchdog import OVERDUE, STUCK, Watchdog, WatchdogConfig
from tocsin.incidents.tables import Incident
from tocsin.notifications.tables import OutboundMessage

ADMIN_SMS = "+15555550142"


def _hold(scenario: Scenario, module: str) -> None:
    """Another (dead) instance holds ``module``'s lease: that module stops running here."""
    with scenario.container.db.transaction() as tx:
        now = scenario.clock.now()
        lease.release(tx, module=module, holder=scenario.container.runner.instance_id, now=now)
        assert lease.acquire(
            tx,
            module=module,
            version=1,
            holder="stalled-instance",
            now=scenario.clock.now(),
            ttl=timedelta(hours=2),
        )


def _release(scenario: Scenario, module: str) -> None:
    with scenario.container.db.transaction() as tx:
        lease.release(tx, module=module, holder="stalled-instance", now=scenario.clock.now())


def _alarm(scenario: Scenario, kind: str) -> EngineAlarm | None:
    with scenario.container.db.read() as tx:
        row = tx.get(EngineAlarm, kind)
        if row is not None:
            tx.expunge(row)
        return row


def _watchdog(scenario: Scenario, **config: object) -> Watchdog:
    """Replace the runner's watchdog (the last module) by one with ``config``."""
    runner = scenario.container.runner
    assert runner.modules[-1].name == "watchdog"
    dog = Watchdog(scenario.container.channels, WatchdogConfig(**config))  # type: ignore[arg-type]
    runner.modules[-1] = dog
    return dog


def _messages(scenario: Scenario) -> int:
    with scenario.container.db.read() as tx:
        return int(tx.execute(select(func.count()).select_from(OutboundMessage)).scalar_one())


def _admin_pages(scenario: Scenario) -> list[str]:
    return [e.body for e in scenario.sent("sms", recipient=ADMIN_SMS)]


def test_overdue_escalations_page_the_admin_directly_repeat_and_clear(scenario: Scenario) -> None:
    person(
        scenario.container,
        "Root",
        role="admin",
        methods=(("email", "root@example.com"), ("sms", ADMIN_SMS)),
    )
    graph = two_level_service(scenario.container)
    _hold(scenario, "escalator")
    send_trigger(scenario.container, graph.routing_key)
    scenario.run_cycle()
    assert _alarm(scenario, OVERDUE) is None  # due, but not overdue yet

    scenario.fast_forward(minutes=3)
    alarm = _alarm(scenario, OVERDUE)
    assert alarm is not None and alarm.raised_at == scenario.clock.now()
    with scenario.container.db.read() as tx:
        number = tx.execute(select(Incident.number)).scalar_one()
    assert alarm.detail["message"] == (
        f"1 escalation step is overdue by up to 3 min; the oldest is incident #{number}."
    )
    # The second path: straight through the SMS channel, first in the admin's order, and
    # nothing in the outbox (which may be what is stuck).
    [page] = _admin_pages(scenario)
    assert "overdue by up to 3 min" in page and f"#{number}" in page
    assert scenario.sent("email", recipient="root@example.com") == []
    assert _messages(scenario) == 0

    scenario.fast_forward(minutes=10)
    assert len(_admin_pages(scenario)) == 1  # throttled: 15 minutes between repeats
    scenario.fast_forward(minutes=5)
    pages = _admin_pages(scenario)
    assert len(pages) == 2 and "Still: " in pages[1] and "overdue by up to 18 min" in pages[1]
    assert _alarm(scenario, OVERDUE).raised_at == alarm.raised_at  # type: ignore[union-attr]

    _release(scenario, "escalator")
    scenario.run_cycle()
    cleared = _alarm(scenario, OVERDUE)
    assert cleared is not None and cleared.raised_at is None
    assert cleared.cleared_at == scenario.clock.now()
    assert [e.recipient for e in scenario.sent("email")] == ["ada@example.com"]  # caught up
    # Raised again later: a fresh page at once, not held back by the old throttle.
    _hold(scenario, "escalator")
    scenario.fast_forward(minutes=8)
    assert _alarm(scenario, OVERDUE).raised_at is not None  # type: ignore[union-attr]
    assert len(_admin_pages(scenario)) == 3


def test_a_stuck_dispatcher_falls_back_to_the_next_method_and_extra_emails(
    scenario: Scenario,
) -> None:
    person(
        scenario.container,
        "Root",
        role="admin",
        methods=(("email", "root@example.com"), ("sms", ADMIN_SMS)),
    )
    person(scenario.container, "Quiet", role="admin")  # no method: logged as unreachable
    person(scenario.container, "Pat", methods=(("sms", "+15555550143"),))  # not an admin
    _watchdog(scenario, emails=("oncall-leads@example.com",))
    _hold(scenario, "dispatcher")
    scenario.enqueue("stuck-1")
    scenario.enqueue("stuck-2")
    scenario.channels["sms"].fail_next.append(DeliveryError("carrier down", temporary=True))

    scenario.fast_forward(minutes=4)
    alarm = _alarm(scenario, STUCK)
    assert alarm is not None and alarm.raised_at is not None
    assert "2 outbound messages are waiting to be sent for more than 2 min" in str(
        alarm.detail["message"]
    )
    assert _admin_pages(scenario) == []  # SMS failed: the next method in order was used
    [email] = scenario.sent("email", recipient="root@example.com")
    assert "dispatcher may be stuck" in email.body
    assert len(scenario.sent("email", recipient="oncall-leads@example.com")) == 1
    assert scenario.sent("sms", recipient="+15555550143") == []
    assert _messages(scenario) == 2  # only the two stuck ones: no page went via the outbox

    _release(scenario, "dispatcher")
    scenario.run_cycle()
    assert _alarm(scenario, STUCK).raised_at is None  # type: ignore[union-attr]


class _Beats(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def beat_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("Beats", (_Beats,), {"hits": hits})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/beat", hits
    finally:
        server.shutdown()
        server.server_close()


def test_heartbeat_is_sent_while_healthy_and_silent_during_an_alarm(
    scenario: Scenario, beat_server: tuple[str, list[str]]
) -> None:
    url, hits = beat_server
    _watchdog(scenario, heartbeat_url=url, heartbeat_every=timedelta(seconds=30))
    scenario.run_cycle()
    assert hits == ["/beat"]
    scenario.run_cycle()
    assert len(hits) == 1  # at most every 30 s
    scenario.clock.advance(timedelta(seconds=30))
    scenario.run_cycle()
    assert len(hits) == 2

    graph = two_level_service(scenario.container)
    _hold(scenario, "escalator")
    send_trigger(scenario.container, graph.routing_key)
    scenario.fast_forward(minutes=2)
    assert _alarm(scenario, OVERDUE).raised_at is not None  # type: ignore[union-attr]
    beats_at_alarm = len(hits)
    scenario.clock.advance(timedelta(minutes=5))
    scenario.run_cycle()
    assert len(hits) == beats_at_alarm  # silence tells the outside monitor something is wrong

    _release(scenario, "escalator")
    scenario.run_cycle()
    assert len(hits) == beats_at_alarm + 1


def test_an_unreachable_heartbeat_url_is_logged_not_raised(scenario: Scenario) -> None:
    _watchdog(scenario, heartbeat_url="http://127.0.0.1:9/down")
    report = scenario.run_cycle()
    assert "watchdog" not in report.failed and report.work["watchdog"] == 0


def test_a_heartbeat_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        WatchdogConfig(heartbeat_url="ftp://example.com/beat")


def test_metrics_report_paging_health(scenario: Scenario) -> None:
    graph = two_level_service(scenario.container)
    _hold(scenario, "escalator")
    _hold(scenario, "dispatcher")
    send_trigger(scenario.container, graph.routing_key)
    scenario.fast_forward(minutes=3)
    with api_client(scenario.container) as client:
        text = client.get("/metrics").text
    assert "tocsin_escalations_overdue 1.0" in text
    assert "tocsin_escalation_oldest_due_seconds 180.0" in text
    assert 'tocsin_watchdog_alarm{kind="overdue_escalations"} 1.0' in text
    assert 'tocsin_watchdog_alarm{kind="stuck_dispatcher"} 0.0' in text
    assert "tocsin_outbox_oldest_due_seconds 0.0" in text
    assert "tocsin_outbox_failed_total 0.0" in text
    assert "tocsin_engine_cycle_lag_seconds" in text
