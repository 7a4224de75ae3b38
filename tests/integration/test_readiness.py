"""Readiness on both databases: people who cannot be reached, policies reaching nobody,
deleted targets, services without a policy; plus the pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.scenarios.paging_support import SYSTEM, person
from tocsin.bootstrap import Container
from tocsin.escalation import actions as escalation
from tocsin.insight import readiness
from tocsin.insight import readiness_rules as rr
from tocsin.people import actions as people
from tocsin.people import contacts
from tocsin.people.tables import TestPage, User
from tocsin.services import actions as services


def _problems(report: rr.Report) -> set[tuple[str, str]]:
    return {(f.subject, f.problem) for f in report.findings}


def test_report_names_every_gap(container: Container) -> None:
    now = container.clock.now()
    ready = person(container, "Ready", methods=(("email", "ready@example.com"),))
    silent = person(container, "Silent")  # no method at all
    lowonly = person(container, "Lowonly", methods=(("email", "lowonly@example.com"),))
    leaver = person(container, "Leaver", methods=(("email", "leaver@example.com"),))
    outsider = person(container, "Outsider")  # in no rotation: not checked
    with container.db.transaction() as tx:
        # Lowonly's high-urgency rule uses a phone never verified: high pages reach nobody.
        unverified = contacts.add_method(
            tx,
            user_id=lowonly.id,
            kind="sms",
            address="+15555550177",
            label="",
            actor=SYSTEM,
            now=now,
        )
        contacts.set_rules(
            tx,
            user_id=lowonly.id,
            urgency="high",
            steps=[(0, unverified.id)],
            actor=SYSTEM,
            now=now,
        )
        [ready_method] = contacts.list_methods(tx, ready.id)
        tx.add(
            TestPage(
                user_id=ready.id,
                contact_method_id=ready_method.id,
                kind="email",
                created_at=now - timedelta(days=10),
                acknowledged_at=now - timedelta(days=10) + timedelta(minutes=1),
            )
        )
        empty = people.create_team(tx, name="Ghosts", actor=SYSTEM, now=now)
        policy = escalation.create_policy(
            tx,
            name="Main",
            levels=[
                {"targets": [{"kind": "user", "id": str(ready.id)}]},
                {
                    "targets": [
                        {"kind": "user", "id": str(silent.id)},
                        {"kind": "user", "id": str(lowonly.id)},
                        {"kind": "user", "id": str(leaver.id)},
                    ]
                },
                {"targets": [{"kind": "team", "id": str(empty.id)}]},
            ],
            actor=SYSTEM,
            now=now,
        )
        services.create_service(
            tx, name="Covered", escalation_policy_id=policy.id, actor=SYSTEM, now=now
        )
        services.create_service(tx, name="Orphan", actor=SYSTEM, now=now)
        gone = tx.get(User, leaver.id)
        assert gone is not None
        gone.is_active = False  # deactivated after the policy was saved
    with container.db.read() as tx:
        report = readiness.report(tx, now=now)
    problems = _problems(report)
    assert ("Silent", rr.NO_METHOD) in problems
    assert ("Silent", rr.NO_RECENT_TEST) in problems
    assert ("Lowonly", rr.NO_HIGH_RULE) in problems
    assert not [p for p in problems if p[0] == "Ready"]
    assert not [p for p in problems if p[0] in ("Outsider", "Leaver")]
    assert ("Policy Main, level 2,", rr.TARGET_DELETED) in problems
    assert ("Policy Main, level 3,", rr.LEVEL_REACHES_NOBODY) in problems
    assert ("Policy Main, level 1,", rr.LEVEL_REACHES_NOBODY) not in problems
    assert ("Service Orphan", rr.SERVICE_NO_POLICY) in problems
    assert ("Service Covered", rr.SERVICE_NO_POLICY) not in problems
    assert report.people_checked == 3 and report.services_checked == 2
    body = report.to_json()
    assert body["ready"] is False
    silent_rows = [p for p in body["people"] if p["subject"] == "Silent"]
    assert silent_rows[0]["rotations"] == ["policy Main"]
    assert "cannot reach them" in silent_rows[0]["message"]
    assert body["services"] == [
        {
            "kind": "service",
            "subject": "Service Orphan",
            "problem": rr.SERVICE_NO_POLICY,
            "message": "Service Orphan has no escalation policy: its incidents page nobody",
            "service": "Orphan",
        }
    ]
    assert outsider.id not in {p.get("user_id") for p in body["people"]}


def test_an_empty_organisation_is_ready(container: Container) -> None:
    with container.db.read() as tx:
        report = readiness.report(tx, now=container.clock.now())
    assert report.ready and report.to_json()["people"] == []


NOW = datetime(2026, 3, 1, tzinfo=UTC)


def _facts(**changes: object) -> rr.PersonFacts:
    base = {
        "user_id": "u1",
        "name": "Ada",
        "email": "ada@example.com",
        "rotations": ("schedule Primary",),
        "verified_methods": 1,
        "high_urgency_steps": 2,
        "last_acknowledged_test_at": NOW - timedelta(days=1),
    }
    base.update(changes)
    return rr.PersonFacts(**base)  # type: ignore[arg-type]


def test_rules_test_page_window_is_ninety_days() -> None:
    assert rr.person_findings(_facts(), now=NOW) == []
    old = _facts(last_acknowledged_test_at=NOW - timedelta(days=91))
    assert [f.problem for f in rr.person_findings(old, now=NOW)] == [rr.NO_RECENT_TEST]
    edge = _facts(last_acknowledged_test_at=NOW - timedelta(days=90))
    assert rr.person_findings(edge, now=NOW) == []


def test_rules_no_method_hides_the_rule_finding() -> None:
    found = rr.person_findings(_facts(verified_methods=0, high_urgency_steps=0), now=NOW)
    assert [f.problem for f in found] == [rr.NO_METHOD]


def test_rules_policy_without_levels() -> None:
    [finding] = rr.policy_findings("Empty", [])
    assert finding.problem == rr.POLICY_EMPTY and finding.message == "Policy Empty has no levels"
