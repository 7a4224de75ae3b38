"""Escalation policy pages: list, form with errors next to fields, preview of who is paged now."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from tests.integration.pages_support import (
    count,
    field_error,
    main_of,
    make_user,
    page_client,
    sign_in,
)
from tocsin.bootstrap import Container
from tocsin.escalation.tables import EscalationPolicy
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people_actions
from tocsin.schedules import actions as schedule_actions
from tocsin.schedules.convert import LayerInput
from tocsin.services import actions as service_actions

SYSTEM = Actor.system(via="cli")


def _arrange(container: Container) -> dict[str, uuid.UUID]:
    """Ada (admin), Bob on call for a weekly schedule, an empty team."""
    container.clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    ada = make_user(container, role="admin", email="ada@example.com", name="Ada")
    bob = make_user(container, role="responder", email="bob@example.com", name="Bob")
    now = container.clock.now()
    with container.db.transaction() as tx:
        team = people_actions.create_team(tx, name="Nobody home", actor=SYSTEM, now=now)
        schedule = schedule_actions.create_schedule(
            tx,
            name="Payments primary",
            time_zone="Europe/London",
            layers=[
                LayerInput(
                    name="Weekly",
                    participants=[bob.id],
                    turn_hours=168,
                    start_date=date(2026, 3, 2),
                )
            ],
            actor=SYSTEM,
            now=now,
        )
        return {"ada": ada.id, "bob": bob.id, "team": team.id, "schedule": schedule.id}


def test_policy_form_shows_errors_next_to_fields_and_saves_nothing(container: Container) -> None:
    ids = _arrange(container)
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        form = client.get("/policies/new")
        assert form.status_code == 200
        assert 'name="levels[2].delay_minutes"' in form.text  # three levels without JS
        refused = client.post(
            "/policies/new",
            data={
                "csrf_token": token,
                "name": "Payments",
                "repeat": "1",
                "levels[0].schedules": str(ids["schedule"]),
                "levels[0].delay_minutes": "0",
                "levels[2].users": str(ids["ada"]),
                "levels[2].delay_minutes": "10",
            },
        )
        assert refused.status_code == 422
        assert "from 1 to 1440" in field_error(refused.text, "levels-0-delay_minutes")
        assert count(container, EscalationPolicy) == 0
        # The kept values are shown again: level 3's person stays chosen.
        assert f'<option value="{ids["ada"]}" selected>' in refused.text
        empty = client.post("/policies/new", data={"csrf_token": token, "name": "Empty"})
        assert empty.status_code == 422
        assert "at least one level" in field_error(empty.text, "levels")
        created = client.post(
            "/policies/new",
            data={
                "csrf_token": token,
                "name": "Payments",
                "repeat": "1",
                "levels[0].schedules": str(ids["schedule"]),
                "levels[0].delay_minutes": "5",
                "levels[1].teams": str(ids["team"]),
                "levels[1].delay_minutes": "10",
                "levels[1].round_robin": "on",
            },
        )
        assert created.status_code == 303, created.text
        location = created.headers["location"]
        detail = client.get(location)
        assert detail.status_code == 200
        page = main_of(detail.text)
        assert "Payments primary" in page
        assert "Who would be paged now" in page
        assert "Bob" in page and "on call for Payments primary" in page
        assert "no verified contact method" in page
        assert "Level 2 reaches nobody right now" in page
        listing = main_of(client.get("/policies").text)
        assert "Level 2 reaches nobody now" in listing
    with container.db.read() as tx:
        policy = tx.execute(select(EscalationPolicy)).scalar_one()
        assert policy.repeat == 1
        assert policy.levels[1]["round_robin"] is True
        assert policy.levels[1]["targets"] == [{"kind": "team", "id": str(ids["team"])}]


def test_edit_keeps_levels_and_a_service_shows_its_policy(container: Container) -> None:
    ids = _arrange(container)
    now = container.clock.now()
    with container.db.transaction() as tx:
        from tocsin.escalation import actions as escalation_actions

        policy = escalation_actions.create_policy(
            tx,
            name="Primary",
            levels=[{"delay_minutes": 5, "targets": [{"kind": "user", "id": str(ids["bob"])}]}],
            actor=SYSTEM,
            now=now,
        )
        service = service_actions.create_service(
            tx, name="Checkout", escalation_policy_id=policy.id, actor=SYSTEM, now=now
        )
        bare = service_actions.create_service(tx, name="Bare", actor=SYSTEM, now=now)
        pid, sid, bare_id = policy.id, service.id, bare.id
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        form = client.get(f"/policies/{pid}/edit")
        assert form.status_code == 200
        assert f'<option value="{ids["bob"]}" selected>' in form.text
        taken = client.post(
            f"/policies/{pid}/edit",
            data={
                "csrf_token": token,
                "name": "Primary",
                "repeat": "12",
                "levels[0].users": str(ids["bob"]),
            },
        )
        assert taken.status_code == 422
        assert "0 to 9" in field_error(taken.text, "repeat")
        saved = client.post(
            f"/policies/{pid}/edit",
            data={
                "csrf_token": token,
                "name": "Primary on call",
                "repeat": "2",
                "levels[0].users": str(ids["bob"]),
                "levels[0].delay_minutes": "7",
            },
        )
        assert saved.status_code == 303
        service_page = main_of(client.get(f"/services/{sid}").text)
        assert "Primary on call" in service_page
        assert "No escalation policy" in main_of(client.get(f"/services/{bare_id}").text)
        detail = main_of(client.get(f"/policies/{pid}").text)
        assert "Checkout" in detail
        deleted = client.post(f"/policies/{pid}/delete", data={"csrf_token": token})
        assert deleted.status_code == 303
    assert count(container, EscalationPolicy) == 0


def test_responders_may_read_but_not_write_policies(container: Container) -> None:
    _arrange(container)
    with page_client(container) as client:
        sign_in(client, "bob@example.com")
        assert client.get("/policies").status_code == 200
        assert client.get("/policies/new").status_code == 403


def _unreachable_incident(container: Container) -> tuple[dict[str, uuid.UUID], int]:
    """Bob (a phone, unverified) is level 1 of Checkout's policy; #1 pages him and fails."""
    from tocsin.escalation import actions as escalation_actions
    from tocsin.incidents import actions as incident_actions
    from tocsin.incidents import paging
    from tocsin.people import contacts

    ids = _arrange(container)
    now = container.clock.now()
    with container.db.transaction() as tx:
        contacts.add_method(
            tx,
            user_id=ids["bob"],
            kind="sms",
            address="+14155550123",
            label="",
            actor=SYSTEM,
            now=now,
        )
        policy = escalation_actions.create_policy(
            tx,
            name="Checkout primary",
            levels=[
                {"delay_minutes": 5, "targets": [{"kind": "user", "id": str(ids["bob"])}]},
                {"delay_minutes": 5, "targets": [{"kind": "user", "id": str(ids["ada"])}]},
            ],
            actor=SYSTEM,
            now=now,
        )
        service = service_actions.create_service(
            tx, name="Checkout", escalation_policy_id=policy.id, actor=SYSTEM, now=now
        )
        incident = incident_actions.trigger_incident(
            tx, title="Card payments fail", service_id=service.id, actor=SYSTEM, now=now
        )
        number = incident.number
    with container.db.transaction() as tx:
        paging.run_due(tx, now=now, config=container.paging)
    return ids, number


def test_unreachable_banner_escalate_now_and_add_responders(container: Container) -> None:
    ids, number = _unreachable_incident(container)
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        page = client.get(f"/incidents/{number}").text
        main = main_of(page)
        banner = main.index('id="unreachable"')
        assert banner < main.index("<h1")  # above everything else
        assert 'role="alert"' in main[banner - 100 : banner + 100]
        assert 'href="tel:+14155550123"' in main
        assert "Checkout primary" in main and "level 1 of 2 paged" in main
        assert "no verified contact method" in main
        dashboard = main_of(client.get("/").text)
        assert "Nobody could be reached" in dashboard
        assert 'href="tel:+14155550123"' in dashboard
        bad = client.post(f"/incidents/{number}/escalate", data={"csrf_token": token, "level": "7"})
        assert bad.status_code == 422
        assert "from 1 to 2" in main_of(bad.text)
        escalated = client.post(
            f"/incidents/{number}/escalate", data={"csrf_token": token, "level": "2"}
        )
        assert escalated.status_code == 303
        timeline = client.get(f"/incidents/{number}/live/timeline").text
        assert "Escalated by hand" in timeline
        none = client.post(f"/incidents/{number}/responders", data={"csrf_token": token})
        assert none.status_code == 422
        assert "at least one" in field_error(none.text, "responders-targets")
        added = client.post(
            f"/incidents/{number}/responders",
            data={
                "csrf_token": token,
                "target": [f"user:{ids['ada']}", f"schedule:{ids['schedule']}"],
                "message": "need a DBA",
            },
        )
        assert added.status_code == 303
        timeline = client.get(f"/incidents/{number}/live/timeline").text
        assert "Responders added" in timeline and "need a DBA" in timeline
        assert "on call for Payments primary" in timeline
