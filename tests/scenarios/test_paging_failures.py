"""Paging when delivery fails, on the engine harness (frozen clock, recording channels).

Temporary provider errors are retried with backoff; a permanent failure falls back to the
person's next method at once; when every method fails the incident says "unreachable"
with numbers to call, and the next level still pages on time; an acknowledgement cancels
pages not yet sent; two engines alternating cycles take each step once.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from tests.scenarios.harness import Scenario
from tests.scenarios.paging_support import Paging, send_trigger, two_level_service
from tocsin import bootstrap
from tocsin.channels.base import DeliveryError
from tocsin.escalation.tables import EscalationState
from tocsin.incidents import actions as incidents
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import actions as people
from tocsin.people.tables import User

ADA_EMAIL = "ada@example.com"
ADA_PHONE = "+14155550101"
BOB_EMAIL = "bob@example.com"


def _incident(scenario: Scenario) -> Incident:
    with scenario.container.db.read() as tx:
        row = tx.execute(select(Incident).order_by(Incident.number.desc()).limit(1)).scalar_one()
        tx.expunge(row)
        return row


def _timeline(scenario: Scenario, incident: Incident) -> list[tuple[str, dict[str, Any]]]:
    with scenario.container.db.read() as tx:
        return [
            (e.kind, dict(e.data))
            for e in tx.execute(
                select(IncidentEvent)
                .where(IncidentEvent.incident_id == incident.id)
                .order_by(IncidentEvent.at, IncidentEvent.id)
            ).scalars()
        ]


def _notices(scenario: Scenario, incident: Incident, channel: str) -> list[str]:
    """The notification.* events about one channel, in order."""
    return [
        kind
        for kind, data in _timeline(scenario, incident)
        if kind.startswith("notification.") and data.get("channel") == channel
    ]


def _state(scenario: Scenario, incident: Incident) -> EscalationState:
    with scenario.container.db.read() as tx:
        row = tx.execute(
            select(EscalationState).where(EscalationState.incident_id == incident.id)
        ).scalar_one()
        tx.expunge(row)
        return row


def _messages(scenario: Scenario, **where: Any) -> list[OutboundMessage]:
    with scenario.container.db.read() as tx:
        stmt = select(OutboundMessage).order_by(OutboundMessage.created_at, OutboundMessage.id)
        for column, value in where.items():
            stmt = stmt.where(getattr(OutboundMessage, column) == value)
        rows = list(tx.execute(stmt).scalars())
        for row in rows:
            tx.expunge(row)
        return rows


def _page(scenario: Scenario) -> tuple[Paging, Incident]:
    graph = two_level_service(scenario.container)
    send_trigger(scenario.container, graph.routing_key)
    scenario.run_cycle()
    return graph, _incident(scenario)


def test_temporary_errors_are_retried_with_backoff_then_sent(scenario: Scenario) -> None:
    email = scenario.channels["email"]
    email.fail_next = [
        DeliveryError("email: HTTP 500 from the provider", temporary=True),
        DeliveryError("email: timed out after 15 s", temporary=True),
    ]
    _, incident = _page(scenario)
    [message] = _messages(scenario, channel="email", recipient=ADA_EMAIL)
    assert (message.status, message.attempts) == ("retry", 1)
    assert message.next_attempt_at == scenario.started_at + timedelta(seconds=30)
    scenario.fast_forward(seconds=29)
    assert scenario.sent("email") == []
    scenario.fast_forward(seconds=1)  # 30 s: the second try, which times out
    assert _messages(scenario, channel="email")[0].next_attempt_at == scenario.started_at + (
        timedelta(seconds=30 + 60)
    )
    scenario.fast_forward(seconds=60)  # 90 s: the backoff doubled, the third try goes out
    [sent] = scenario.expect_sent("email", count=1, recipient=ADA_EMAIL)
    assert scenario.elapsed(email.sent_at[0]) == 90
    assert sent.dedup_key == message.dedup_key
    attempts = scenario.attempts(message.id)
    assert [a.outcome for a in attempts] == ["temporary_failure", "temporary_failure", "sent"]
    assert [scenario.elapsed(a.started_at) for a in attempts] == [0, 30, 90]
    assert _notices(scenario, incident, "email") == [
        "notification.retrying",
        "notification.retrying",
        "notification.sent",
    ]
    errors = [d.get("error") for k, d in _timeline(scenario, incident) if k.endswith("retrying")]
    assert errors == ["email: HTTP 500 from the provider", "email: timed out after 15 s"]
    assert _state(scenario, incident).unreachable_at is None


def test_a_permanent_email_failure_falls_back_to_sms_at_once(scenario: Scenario) -> None:
    scenario.channels["email"].fail_next = [
        DeliveryError("email: 550 mailbox unavailable", temporary=False)
    ]
    _, incident = _page(scenario)
    [email] = _messages(scenario, channel="email")
    assert email.status == "failed"
    # SMS was due a minute after the page (Ada's rules); the failure made it due now.
    [sms] = _messages(scenario, channel="sms")
    assert sms.next_attempt_at == scenario.clock.now() == scenario.started_at
    scenario.run_cycle()  # the next cycle, same instant
    [sent] = scenario.expect_sent("sms", count=1, recipient=ADA_PHONE)
    assert scenario.elapsed(scenario.channels["sms"].sent_at[0]) == 0
    assert sent.dedup_key == sms.dedup_key
    kinds = [kind for kind, _ in _timeline(scenario, incident)]
    assert kinds.index("notification.failed") < kinds.index("notification.fallback")
    assert kinds.index("notification.fallback") < kinds.index("notification.sent")
    [fallback] = [d for k, d in _timeline(scenario, incident) if k == "notification.fallback"]
    assert (fallback["failed"], fallback["next"], fallback["name"]) == ("email", "sms", "Ada")
    assert "incident.unreachable" not in kinds
    scenario.fast_forward(minutes=2)
    scenario.expect_sent("sms", count=1)  # the rule's own minute does not send it again


def test_all_methods_failing_mark_the_incident_unreachable_and_the_next_level_pages_on_time(
    scenario: Scenario,
) -> None:
    scenario.channels["email"].fail_next = [
        DeliveryError("email: 550 mailbox unavailable", temporary=False)
    ]
    scenario.channels["sms"].fail_next = [
        DeliveryError("sms: 21211 invalid 'To' number", temporary=False)
    ]
    graph, incident = _page(scenario)
    scenario.run_cycle()  # the SMS, hurried by the email's failure, fails too
    assert scenario.sent("email") == [] and scenario.sent("sms") == []
    timeline = _timeline(scenario, incident)
    [unreachable] = [d for k, d in timeline if k == "incident.unreachable"]
    assert unreachable["call"] == [{"name": "Ada", "phones": [ADA_PHONE]}]
    assert "sms" in unreachable["why"]
    state = _state(scenario, incident)
    assert state.unreachable_at == scenario.started_at
    assert state.unreachable == [{"name": "Ada", "phones": [ADA_PHONE]}]
    assert state.next_step_at == scenario.started_at + timedelta(minutes=5)
    # Level 2 pages Bob when its delay runs out, no sooner and no later.
    scenario.fast_forward(minutes=4, seconds=59)
    assert scenario.sent("email") == []
    scenario.fast_forward(seconds=1)
    scenario.expect_sent("email", count=1, recipient=BOB_EMAIL)
    assert scenario.elapsed(scenario.channels["email"].sent_at[0]) == 300
    # Reaching Bob clears the red banner.
    assert _state(scenario, incident).unreachable_at is None
    assert _incident(scenario).assignee_id == graph.bob.id


def test_an_acknowledgement_cancels_pages_not_yet_sent(scenario: Scenario) -> None:
    graph, incident = _page(scenario)
    scenario.expect_sent("email", count=1, recipient=ADA_EMAIL)
    [sms] = _messages(scenario, channel="sms")
    assert sms.status == "pending"  # Ada's SMS waits for its minute
    scenario.fast_forward(seconds=30)
    with scenario.container.db.transaction() as tx:
        ada = tx.get(User, graph.ada.id)
        assert ada is not None
        incidents.acknowledge_incident(
            tx,
            incident_id=incident.id,
            actor=people.actor_for(ada, via="session"),
            now=scenario.clock.now(),
        )
    [sms] = _messages(scenario, channel="sms")
    assert sms.status == "cancelled"
    scenario.fast_forward(minutes=15)
    assert scenario.sent("sms") == []
    scenario.expect_sent("email", count=1)  # Bob (level 2) is never paged
    [cancelled] = [d for k, d in _timeline(scenario, incident) if k == "notification.cancelled"]
    assert cancelled == {"count": 1}
    assert _state(scenario, incident).status == "stopped"


def test_two_engines_alternating_cycles_take_each_step_once(scenario: Scenario) -> None:
    container = scenario.container
    graph = two_level_service(container)
    for n in range(3):
        send_trigger(container, graph.routing_key, dedup_key=f"disk-{n}")
    first = container.runner
    second = bootstrap.build_runner(container)
    lease = timedelta(seconds=container.settings.engine_lease_seconds)
    worked: Counter[str] = Counter()
    # Same instant: the second engine finds every module leased by the first.
    report = first.run_cycle()
    assert report.work.get("escalator") == 3
    assert "escalator" in second.run_cycle().not_leased
    # Then turns: each engine runs after the other's leases ran out, for 12 minutes; a
    # fourth incident arrives on the second engine's first turn.
    runners = [second, first]
    for turn in range(int(timedelta(minutes=12) / (lease + timedelta(seconds=1)))):
        scenario.clock.advance(lease + timedelta(seconds=1))
        runner = runners[turn % 2]
        if turn == 0:
            send_trigger(container, graph.routing_key, dedup_key="disk-3")
        report = runner.run_cycle()
        assert not report.failed, report.failed
        if report.work.get("escalator"):
            worked[runner.instance_id] += report.work["escalator"]
    # Both engines took steps, and eight steps (two levels of four incidents) were taken.
    assert set(worked) == {first.instance_id, second.instance_id}
    assert sum(worked.values()) == 8 - 3
    sent = [*scenario.sent("email"), *scenario.sent("sms")]
    emails = Counter(e.recipient for e in scenario.sent("email"))
    assert emails == Counter({ADA_EMAIL: 4, BOB_EMAIL: 4})
    assert scenario.sent("sms"), "Ada's SMS (bundled by the throttle) went out"
    assert len({e.dedup_key for e in sent}) == len(sent)
    with container.db.read() as tx:
        states = list(tx.execute(select(EscalationState)).scalars())
        assert [(s.step, s.status) for s in states] == [(2, "exhausted")] * 4
        escalated = tx.execute(
            select(IncidentEvent.incident_id).where(IncidentEvent.kind == "incident.escalated")
        ).all()
    assert Counter(Counter(row[0] for row in escalated).values()) == Counter({2: 4})
