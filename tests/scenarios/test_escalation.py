"""Escalation end to end on the engine harness: alert → levels → personal rules → channels → ack."""

from __future__ import annotations

from sqlalchemy import select, update

from tests.scenarios.harness import Scenario
from tests.scenarios.paging_support import SYSTEM, send_trigger, two_level_service
from tocsin.escalation import actions as escalation
from tocsin.escalation.tables import EscalationState
from tocsin.incidents import actions as incidents
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import actions as people


def _incident(scenario: Scenario) -> Incident:
    with scenario.container.db.read() as tx:
        row = tx.execute(select(Incident).order_by(Incident.number.desc()).limit(1)).scalar_one()
        tx.expunge(row)
        return row


def _kinds(scenario: Scenario, incident: Incident) -> list[str]:
    with scenario.container.db.read() as tx:
        return list(
            tx.execute(
                select(IncidentEvent.kind)
                .where(IncidentEvent.incident_id == incident.id)
                .order_by(IncidentEvent.id)
            ).scalars()
        )


def test_levels_page_in_turn_by_personal_rules_until_acknowledged(scenario: Scenario) -> None:
    graph = two_level_service(scenario.container)
    send_trigger(scenario.container, graph.routing_key)
    scenario.run_cycle()
    # Level 1 at once: Ada's recommended rules are email now, SMS a minute later.
    assert [e.recipient for e in scenario.sent("email")] == ["ada@example.com"]
    page = scenario.sent("email")[0]
    assert "Disk 95% full on db-1" in page.subject and "/a/" in page.body
    assert "{ack_url}" not in page.body and page.context["ack_url"].startswith(
        "http://tocsin.test/a/"
    )
    assert scenario.sent("sms") == []
    scenario.fast_forward(minutes=1)
    [sms] = scenario.sent("sms")
    assert sms.recipient == "+14155550101" and "ack " in sms.body
    # Nobody acknowledged: five minutes after level 1, Bob is paged.
    scenario.fast_forward(minutes=4)
    assert [e.recipient for e in scenario.sent("email")] == ["ada@example.com", "bob@example.com"]
    incident = _incident(scenario)
    assert incident.assignee_id == graph.bob.id
    # Ada was paged too, so she may still acknowledge; that stops the escalation.
    with scenario.container.db.transaction() as tx:
        actor = people.actor_for(tx.get(type(graph.ada), graph.ada.id), via="session")  # type: ignore[arg-type]
        incidents.acknowledge_incident(
            tx, incident_id=incident.id, actor=actor, now=scenario.clock.now()
        )
    scenario.fast_forward(minutes=30)
    assert len(scenario.sent("email")) == 2
    kinds = _kinds(scenario, incident)
    assert kinds.count("incident.escalated") == 2
    assert "notification.sent" in kinds
    with scenario.container.db.read() as tx:
        state = tx.execute(select(EscalationState)).scalar_one()
        assert state.status == "stopped" and state.next_step_at is None


def test_a_policy_repeats_then_exhausts(scenario: Scenario) -> None:
    graph = two_level_service(scenario.container, repeat=1)
    send_trigger(scenario.container, graph.routing_key)
    scenario.fast_forward(minutes=60)
    recipients = [e.recipient for e in scenario.sent("email")]
    assert recipients == ["ada@example.com", "bob@example.com"] * 2
    with scenario.container.db.read() as tx:
        state = tx.execute(select(EscalationState)).scalar_one()
        assert state.status == "exhausted"


def test_a_policy_edited_mid_incident_does_not_disturb_paging_in_flight(
    scenario: Scenario,
) -> None:
    graph = two_level_service(scenario.container)
    send_trigger(scenario.container, graph.routing_key)
    scenario.run_cycle()
    with scenario.container.db.transaction() as tx:
        escalation.update_policy(
            tx,
            policy_id=graph.policy_id,
            levels=[{"delay_minutes": 1, "targets": [{"kind": "user", "id": str(graph.ada.id)}]}],
            actor=SYSTEM,
            now=scenario.clock.now(),
        )
    scenario.fast_forward(minutes=5)
    # The snapshot still had Bob at level 2 after 5 minutes.
    assert [e.recipient for e in scenario.sent("email")] == ["ada@example.com", "bob@example.com"]


def test_a_page_queued_just_before_an_ack_is_cancelled_not_sent(scenario: Scenario) -> None:
    """An ack racing an escalation step: the dispatcher checks the incident before sending."""
    graph = two_level_service(scenario.container)
    send_trigger(scenario.container, graph.routing_key)
    scenario.run_cycle()
    assert len(scenario.sent("email")) == 1  # the email left; the SMS waits a minute
    with scenario.container.db.transaction() as tx:
        # The ack's transaction committed after the step queued the SMS and did not see it.
        tx.execute(update(Incident).values(status="acknowledged"))
    scenario.fast_forward(minutes=2)
    assert scenario.sent("sms") == []
    with scenario.container.db.read() as tx:
        statuses = [m.status for m in tx.execute(select(OutboundMessage)).scalars()]
    assert sorted(statuses) == ["cancelled", "sent"]
