"""Incident pages: the list and its filters, the detail page, the trigger form and the actions."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from tests.integration.intake_support import post, process, trigger
from tests.integration.pages_support import (
    count,
    field_error,
    main_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.incidents import actions as incident_actions
from tocsin.incidents import repo as incident_repo
from tocsin.incidents.tables import Incident, IncidentEvent
from tocsin.kernel.actor import Actor
from tocsin.services import actions as service_actions


def _service(container: Container, name: str = "Checkout") -> Any:
    """A service id (the row itself is detached once its transaction ends)."""
    with container.db.transaction() as tx:
        service = service_actions.create_service(
            tx, name=name, actor=Actor.system(via="cli"), now=container.clock.now()
        )
        return SimpleNamespace(id=service.id, key=service.integrations[0].routing_key)


def _incident(container: Container, service_id: Any, title: str, **extra: Any) -> int:
    with container.db.transaction() as tx:
        incident = incident_actions.trigger_incident(
            tx,
            title=title,
            service_id=service_id,
            actor=Actor.system(via="cli"),
            now=container.clock.now(),
            **extra,
        )
        return incident.number


def _state(container: Container, number: int) -> Incident:
    with container.db.read() as tx:
        incident = incident_repo.get_incident_by_number(tx, number)
        tx.expunge(incident)
        return incident


def _kinds(container: Container, number: int) -> list[str]:
    with container.db.read() as tx:
        incident = incident_repo.get_incident_by_number(tx, number)
        return [e.kind for e in incident_repo.timeline(tx, incident.id)]


def _ack(client: TestClient, token: str, number: int) -> Any:
    return client.post(f"/incidents/{number}/acknowledge", data={"csrf_token": token})


def test_list_shows_open_incidents_first_and_filters(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    checkout = _service(container, "Checkout")
    search = _service(container, "Search")
    major = _incident(container, checkout.id, "Card payments fail with 500", severity=2)
    low = _incident(container, search.id, "Search index lagging 10 minutes", urgency="low")
    done = _incident(container, search.id, "Old resolved thing")
    with container.db.transaction() as tx:
        incident = incident_repo.get_incident_by_number(tx, done)
        incident_actions.resolve_incident(
            tx, incident_id=incident.id, actor=Actor.system(via="cli"), now=container.clock.now()
        )
    working = _incident(container, checkout.id, "Newest but already acknowledged")
    with container.db.transaction() as tx:
        incident = incident_repo.get_incident_by_number(tx, working)
        incident_actions.acknowledge_incident(
            tx, incident_id=incident.id, actor=Actor.system(via="cli"), now=container.clock.now()
        )
    with page_client(container) as client:
        sign_in(client, "rita@example.com")
        default = main_of(client.get("/incidents").text)
        everything = main_of(client.get("/incidents?status=all").text)
        by_service = main_of(client.get(f"/incidents?service={search.id}").text)
        majors = main_of(client.get("/incidents?severity=major").text)
        lows = main_of(client.get("/incidents?urgency=low").text)
        resolved = main_of(client.get("/incidents?status=resolved").text)
        junk = client.get("/incidents?status=bogus&service=nope&severity=9&urgency=x")
        fragment = client.get(f"/incidents?partial=1&service={search.id}")
    assert f"#{major}" in default and f"#{low}" in default and f"#{done}" not in default
    assert "3 open" in default
    # Triggered (nobody on it) before acknowledged, newest first within each.
    assert default.index(f"#{low}") < default.index(f"#{major}") < default.index(f"#{working}")
    assert "Card payments fail with 500" in default and "Checkout" in default
    assert ">major</span>" in default and "SEV-2" in default
    # Open first: the resolved one comes after both open ones even though it is newest.
    assert everything.index(f"#{done}") > everything.index(f"#{major}")
    assert everything.index(f"#{done}") > everything.index(f"#{low}")
    assert f"#{low}" in by_service and f"#{major}" not in by_service
    assert f"#{major}" in majors and f"#{low}" not in majors
    assert f"#{low}" in lows and f"#{major}" not in lows
    assert f"#{done}" in resolved and f"#{major}" not in resolved
    assert junk.status_code == 200
    assert fragment.status_code == 200 and fragment.headers["x-tocsin-fragment"] == "1"
    assert "<html" not in fragment.text and f'data-live-item="{low}"' in fragment.text
    assert f'data-live-item="{major}"' not in fragment.text
    assert 'data-live-src="/incidents?partial=1"' in default


def test_list_and_detail_show_alerts_storms_and_quality(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    key = _service(container, "Checkout").key
    with page_client(container) as client:
        assert post(client, trigger(key, summary="error")).status_code == 202
        process(container)
        sign_in(client, "rita@example.com")
        listing = main_of(client.get("/incidents").text)
        number = _state_numbers(container)[0]
        detail = main_of(client.get(f"/incidents/{number}").text)
    assert f"#{number}" in listing and "Checkout" in listing
    assert "Why it joined" in detail and "New incident" in detail
    assert "The summary is not specific" in detail  # quality warning with advice
    assert "Alert joined" in detail or "Triggered" in detail
    assert 'title="' in detail and "UTC" in detail  # times carry UTC in a title


def _state_numbers(container: Container) -> list[int]:
    with container.db.read() as tx:
        return sorted(i.number for i in tx.query(Incident).all())


def test_trigger_form_errors_then_success(container: Container) -> None:
    make_user(container, role="stakeholder", email="sam@example.com")
    service = _service(container, "Checkout")
    with page_client(container) as client:
        token = sign_in(client, "sam@example.com")  # anyone may trigger
        assert client.get("/incidents/new").status_code == 200
        empty = client.post(
            "/incidents/new",
            data={"csrf_token": token, "service_id": "", "title": "", "urgency": "high"},
        )
        no_title = client.post(
            "/incidents/new",
            data={
                "csrf_token": token,
                "service_id": str(service.id),
                "title": "  ",
                "urgency": "high",
                "description": "kept text",
            },
        )
        bad_sev = client.post(
            "/incidents/new",
            data={
                "csrf_token": token,
                "service_id": str(service.id),
                "title": "Checkout down",
                "urgency": "high",
                "severity": "9",
            },
        )
        assert count(container, Incident) == 0
        ok = client.post(
            "/incidents/new",
            data={
                "csrf_token": token,
                "service_id": str(service.id),
                "title": "Checkout returns 500 for card payments",
                "description": "Since 03:02",
                "urgency": "high",
                "severity": "2",
            },
        )
        assert ok.status_code == 303, ok.text
        page = client.get(ok.headers["location"])
    assert empty.status_code == 422
    assert "Pick the service" in field_error(empty.text, "service_id")
    assert no_title.status_code == 422
    assert "Say what is wrong" in field_error(no_title.text, "title")
    assert ">kept text</textarea>" in no_title.text
    assert f'value="{service.id}" selected' in no_title.text
    assert bad_sev.status_code == 422 and "SEV-1 to SEV-5" in field_error(bad_sev.text, "severity")
    assert count(container, Incident) == 1
    body = main_of(page.text)
    assert "Incident triggered" in body and "Checkout returns 500 for card payments" in body
    assert "major incident" in body and "Since 03:02" in body


def test_non_assignee_cannot_acknowledge_but_adds_a_note(container: Container) -> None:
    grace = make_user(container, role="responder", email="grace@example.com", name="Grace Hopper")
    make_user(container, role="responder", email="linus@example.com", name="Linus")
    service = _service(container, "Checkout")
    number = _incident(container, service.id, "Disk full on db-1", assignee_id=grace.id)
    with page_client(container) as client:
        token = sign_in(client, "linus@example.com")
        page = main_of(client.get(f"/incidents/{number}").text)
        refused = _ack(client, token, number)
        noted = client.post(
            f"/incidents/{number}/notes", data={"csrf_token": token, "text": "db-1 is at 99%"}
        )
        empty_note = client.post(f"/incidents/{number}/notes", data={"csrf_token": token})
        after = main_of(client.get(f"/incidents/{number}").text)
    # The easy path for someone else: no acknowledge button, a note and "reassign to me".
    assert f"Acknowledge #{number}" not in page
    assert "Grace Hopper</strong> is assigned" in page and "Reassign to me" in page
    assert "Add a note" in page
    assert refused.status_code == 403
    assert "Only Grace Hopper acknowledges" in refused.text and 'role="alert"' in refused.text
    assert _state(container, number).status == "triggered"
    assert noted.status_code == 303
    assert empty_note.status_code == 422
    assert "Write a note" in field_error(empty_note.text, "note-text")
    assert "db-1 is at 99%" in after
    assert _kinds(container, number).count("incident.note") == 1


def test_assignee_acknowledges_snoozes_raises_severity_and_resolves(
    container: Container,
) -> None:
    make_user(container, role="responder", email="rita@example.com", name="Rita")
    service = _service(container, "Checkout")
    number = _incident(container, service.id, "Queue backlog growing", severity=4)
    with page_client(container) as client:
        token = sign_in(client, "rita@example.com")
        page = main_of(client.get(f"/incidents/{number}").text)
        acked = _ack(client, token, number)
        raised = client.post(
            f"/incidents/{number}/severity", data={"csrf_token": token, "severity": "2"}
        )
        snoozed = client.post(
            f"/incidents/{number}/snooze", data={"csrf_token": token, "minutes": "30"}
        )
        urgency = client.post(
            f"/incidents/{number}/urgency", data={"csrf_token": token, "urgency": "low"}
        )
        priority = client.post(
            f"/incidents/{number}/priority", data={"csrf_token": token, "priority": "high"}
        )
        resolved = client.post(
            f"/incidents/{number}/resolve", data={"csrf_token": token, "note": "Restarted workers"}
        )
        again = client.post(f"/incidents/{number}/resolve", data={"csrf_token": token})
        final = main_of(client.get(f"/incidents/{number}").text)
        timeline = client.get(f"/incidents/{number}/live/timeline")
        summary = client.get(f"/incidents/{number}/live/summary")
    assert f"Acknowledge #{number}" in page and "Raise to SEV-3" in page
    assert "Raise to SEV-5" not in page
    for response in (acked, raised, snoozed, urgency, priority, resolved):
        assert response.status_code == 303, response.text
    assert acked.headers["location"].startswith(f"/incidents/{number}?notice=acknowledged")
    incident = _state(container, number)
    assert incident.status == "resolved" and incident.severity == 2
    assert incident.urgency == "low" and incident.priority == "high"
    assert again.status_code == 409 and "already resolved" in again.text
    assert "Restarted workers" in final and "SEV-4" in final and "SEV-2" in final
    assert "major incident" in final and f"Resolve #{number}" not in final
    assert timeline.headers["x-tocsin-fragment"] == "1" and "Restarted workers" in timeline.text
    assert "<html" not in timeline.text and "resolved" in summary.text
    kinds = _kinds(container, number)
    for kind in ("incident.acknowledged", "incident.severity_changed", "incident.snoozed"):
        assert kind in kinds


def test_reassign_to_me_then_acknowledge_and_merge(container: Container) -> None:
    grace = make_user(container, role="responder", email="grace@example.com", name="Grace")
    linus = make_user(container, role="responder", email="linus@example.com", name="Linus")
    service = _service(container, "Checkout")
    primary = _incident(container, service.id, "Checkout down", assignee_id=grace.id)
    child = _incident(container, service.id, "Payments 500s")
    with page_client(container) as client:
        token = sign_in(client, "linus@example.com")
        mine = client.post(
            f"/incidents/{primary}/reassign", data={"csrf_token": token, "assignee_id": "me"}
        )
        acked = _ack(client, token, primary)
        bad_merge = client.post(
            f"/incidents/{child}/merge", data={"csrf_token": token, "primary": "99999"}
        )
        self_merge = client.post(
            f"/incidents/{child}/merge", data={"csrf_token": token, "primary": str(child)}
        )
        merged = client.post(
            f"/incidents/{child}/merge", data={"csrf_token": token, "primary": f"#{primary}"}
        )
        primary_page = main_of(client.get(f"/incidents/{primary}").text)
        child_page = main_of(client.get(f"/incidents/{child}").text)
        bad_person = client.post(
            f"/incidents/{primary}/reassign", data={"csrf_token": token, "assignee_id": "nope"}
        )
    assert mine.status_code == 303 and acked.status_code == 303
    state = _state(container, primary)
    assert state.assignee_id == linus.id and state.status == "acknowledged"
    assert bad_merge.status_code == 422 and "No incident 99999" in field_error(
        bad_merge.text, "merge-primary"
    )
    assert self_merge.status_code == 422 and "into itself" in field_error(
        self_merge.text, "merge-primary"
    )
    assert merged.status_code == 303
    assert _state(container, child).parent_id == state.id
    assert f"#{child} Payments 500s" in primary_page
    assert f'Merged into <a href="/incidents/{primary}">' in child_page
    assert bad_person.status_code == 422
    assert "Pick a person" in field_error(bad_person.text, "reassign-assignee_id")


def test_observer_reads_and_notes_but_cannot_work_incidents(container: Container) -> None:
    make_user(container, role="observer", email="olga@example.com")
    service = _service(container, "Checkout")
    number = _incident(container, service.id, "Checkout slow")
    with page_client(container) as client:
        token = sign_in(client, "olga@example.com")
        page = main_of(client.get(f"/incidents/{number}").text)
        refused = client.post(f"/incidents/{number}/resolve", data={"csrf_token": token})
        noted = client.post(
            f"/incidents/{number}/notes", data={"csrf_token": token, "text": "seen it"}
        )
    assert "Add a note" in page and f"Resolve #{number}" not in page
    assert f"Acknowledge #{number}" not in page
    assert refused.status_code == 403 and _state(container, number).status == "triggered"
    assert noted.status_code == 303


def test_csrf_and_sign_in_are_required(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    service = _service(container, "Checkout")
    number = _incident(container, service.id, "Checkout slow")
    before = count(container, IncidentEvent)
    with page_client(container) as client:
        for path in ("/incidents", f"/incidents/{number}", "/incidents/new"):
            response = client.get(path)
            assert response.status_code == 303 and "/login" in response.headers["location"]
        fragment = client.get("/incidents?partial=1")
        assert fragment.status_code in (303, 401)
        sign_in(client, "rita@example.com")
        no_csrf = client.post(f"/incidents/{number}/acknowledge", data={})
        wrong = client.post(f"/incidents/{number}/notes", data={"csrf_token": "x", "text": "hi"})
        trig = client.post(
            "/incidents/new", data={"service_id": str(service.id), "title": "No token"}
        )
        missing = client.get("/incidents/99999")
    assert no_csrf.status_code == 403 and wrong.status_code == 403 and trig.status_code == 403
    assert count(container, IncidentEvent) == before
    assert count(container, Incident) == 1
    assert missing.status_code == 404


def test_dashboard_shows_open_incidents(container: Container) -> None:
    make_user(container, role="responder", email="rita@example.com")
    service = _service(container, "Checkout")
    number = _incident(container, service.id, "Checkout slow for EU customers")
    with page_client(container) as client:
        sign_in(client, "rita@example.com")
        dashboard = main_of(client.get("/").text)
    assert "Open incidents" in dashboard and f"#{number}" in dashboard
    assert "Checkout slow for EU customers" in dashboard and 'href="/incidents"' in dashboard
