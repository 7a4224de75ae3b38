"""One-click links (/a/{token}, /t/{token}) on both databases: GET confirms, POST acts."""

from __future__ import annotations

import re
from datetime import timedelta

import structlog
from sqlalchemy import select

from tests.integration.api_support import api_client
from tests.scenarios.harness import Scenario
from tests.scenarios.paging_support import Paging, send_trigger, two_level_service
from tocsin.bootstrap import Container
from tocsin.db.audit import AuditEvent
from tocsin.escalation.tables import EscalationState
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications.links import LinkMaker


def _incident(container: Container) -> Incident:
    with container.db.read() as tx:
        incident = tx.execute(select(Incident)).scalar_one()
        tx.expunge(incident)
        return incident


def _refusals(container: Container) -> list[tuple[str, dict[str, object]]]:
    with container.db.read() as tx:
        rows = tx.execute(
            select(AuditEvent.actor_name, AuditEvent.data)
            .where(AuditEvent.kind == "link.refused")
            .order_by(AuditEvent.at, AuditEvent.id)
        ).all()
        return [(name, data) for name, data in rows]


def _open(container: Container) -> tuple[Paging, Incident, LinkMaker]:
    graph = two_level_service(container)
    send_trigger(container, graph.routing_key)
    container.runner.run_cycle()
    return graph, _incident(container), LinkMaker("http://tocsin.test", container.secret_key)


def _path(url: str) -> str:
    return url.removeprefix("http://tocsin.test")


def test_the_link_in_the_page_acknowledges_as_its_person(
    container: Container, clock: FrozenClock
) -> None:
    scenario = Scenario(container, clock)
    graph = two_level_service(container)
    send_trigger(container, graph.routing_key)
    scenario.run_cycle()
    scenario.run_cycle()
    (mail,) = scenario.sent("email", recipient="ada@example.com")
    found = re.search(r"http://tocsin\.test(/a/[\w.\-]+)", mail.body)
    assert found is not None, mail.body
    link = found.group(1)
    with api_client(container) as client:
        for _ in range(3):  # a mail scanner prefetching the link changes nothing
            shown = client.get(link)
            assert shown.status_code == 200
            assert "Acknowledge" in shown.text and "Disk 95% full" in shown.text
        assert _incident(container).status == "triggered"
        done = client.post(link)
        assert done.status_code == 200 and "acknowledged" in done.text
    incident = _incident(container)
    assert incident.status == "acknowledged" and incident.assignee_id == graph.ada.id
    with container.db.read() as tx:
        event = tx.execute(
            select(IncidentEvent).where(IncidentEvent.kind == "incident.acknowledged")
        ).scalar_one()
        assert event.actor_id == graph.ada.id
        assert tx.execute(select(EscalationState.status)).scalar_one() == "stopped"


def test_resolve_then_acting_again_is_a_friendly_message(container: Container) -> None:
    graph, incident, links = _open(container)
    now = container.clock.now()
    resolve = _path(
        links.incident_action(
            incident_id=incident.id, user_id=graph.ada.id, action="resolve", now=now
        )
    )
    ack = _path(
        links.incident_action(incident_id=incident.id, user_id=graph.ada.id, action="ack", now=now)
    )
    with api_client(container) as client:
        assert "resolved" in client.post(resolve).text
        assert _incident(container).status == "resolved"
        again = client.post(ack)
        assert again.status_code == 200
        assert "already resolved" in again.text
        confirm = client.get(ack)
        assert confirm.status_code == 200 and "nothing to do" in confirm.text
        assert "<button" not in confirm.text.split("<main", 1)[1]


def test_escalate_link_pages_the_next_level(container: Container) -> None:
    graph, incident, links = _open(container)
    link = _path(
        links.incident_action(
            incident_id=incident.id,
            user_id=graph.ada.id,
            action="escalate",
            now=container.clock.now(),
        )
    )
    with api_client(container) as client:
        assert client.post(link).status_code == 200
    with container.db.read() as tx:
        state = tx.execute(select(EscalationState)).scalar_one()
        assert state.status == "active" and state.next_step_at == container.clock.now()
        assert state.level == 1


def test_forged_altered_or_expired_links_are_refused_and_audited(
    container: Container, clock: FrozenClock
) -> None:
    graph, incident, links = _open(container)
    good = _path(
        links.incident_action(
            incident_id=incident.id, user_id=graph.bob.id, action="resolve", now=clock.now()
        )
    )
    forged_maker = LinkMaker("http://tocsin.test", b"not-the-server-key")
    forged = _path(
        forged_maker.incident_action(
            incident_id=incident.id, user_id=graph.bob.id, action="resolve", now=clock.now()
        )
    )
    body, _, mac = good.removeprefix("/a/").partition(".")
    altered = f"/a/{body[:-2]}{'A' if body[-2] != 'A' else 'B'}{body[-1]}.{mac}"
    test_token = _path(links.test_ack(test_id=incident.id, user_id=graph.bob.id, now=clock.now()))
    wrong_purpose = "/a/" + test_token.removeprefix("/t/")
    with api_client(container) as client, structlog.testing.capture_logs() as logs:
        for path in (forged, altered, wrong_purpose, "/a/garbage", "/t/garbage"):
            for method in ("GET", "POST"):
                answer = client.request(method, path)
                assert answer.status_code == 403, (method, path, answer.text)
                assert "not valid" in answer.text
        clock.advance(timedelta(hours=25))
        expired = client.post(good)
        assert expired.status_code == 403 and "expired" in expired.text
    assert _incident(container).status == "triggered"
    refusals = _refusals(container)
    assert len(refusals) == 11
    assert refusals[-1][1] == {"reason": "link.expired"}
    assert all(name == "link" for name, _ in refusals)
    refused_logs = [e for e in logs if e["event"] == "link.refused"]
    assert len(refused_logs) == 11
    token_text = good.removeprefix("/a/")
    assert all(token_text not in str(e) and mac not in str(e) for e in logs)
