"""Schedule pages: the on-call directory, the list with gap warnings, a schedule's view and forms."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
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
from tocsin.kernel.actor import Actor
from tocsin.people import actions as people_actions
from tocsin.schedules import actions
from tocsin.schedules.convert import LayerInput
from tocsin.schedules.tables import CoverRequest, OverrideRow, TimeOffRow

SYSTEM = Actor.system(via="cli")
TEAMS = ("Payments", "Customer Support", "Marketing", "Legal", "Finance", "Executives")


def _arrange(container: Container) -> dict[str, uuid.UUID]:
    """Ada (admin, London), Bob and Cy; every team; a weekly primary with a restricted layer."""
    container.clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))  # type: ignore[attr-defined]
    ada = make_user(
        container, role="admin", email="ada@example.com", name="Ada", time_zone="Europe/London"
    )
    bob = make_user(
        container,
        role="responder",
        email="bob@example.com",
        name="Bob",
        time_zone="America/New_York",
    )
    cy = make_user(
        container, role="responder", email="cy@example.com", name="Cy", time_zone="Asia/Tokyo"
    )
    now = container.clock.now()
    ids = {"ada": ada.id, "bob": bob.id, "cy": cy.id}
    with container.db.transaction() as tx:
        for name in TEAMS:
            team = people_actions.create_team(tx, name=name, actor=SYSTEM, now=now)
            ids[name] = team.id
        people_actions.update_team(
            tx,
            team_id=ids["Legal"],
            actor=SYSTEM,
            now=now,
            members=[people_actions.Membership(ada.id, is_manager=True)],
        )
        primary = actions.create_schedule(
            tx,
            name="Payments primary",
            time_zone="Europe/London",
            team_ids=[ids["Payments"]],
            layers=[
                LayerInput(
                    name="Weekly",
                    participants=[bob.id, cy.id],
                    turn_hours=168,
                    start_date=date(2026, 3, 2),
                ),
            ],
            actor=SYSTEM,
            now=now,
        )
        support = actions.create_schedule(
            tx,
            name="Support hours",
            time_zone="Europe/London",
            team_ids=[ids["Customer Support"]],
            layers=[
                LayerInput(
                    name="Office hours",
                    participants=[ada.id],
                    turn_hours=24,
                    start_date=date(2026, 3, 2),
                    restrictions=[{"start": "09:00", "end": "17:00"}],
                )
            ],
            actor=SYSTEM,
            now=now,
        )
        actions.add_override(
            tx,
            schedule_id=primary.id,
            user_id=ada.id,
            start_at=datetime(2026, 3, 6, 9, 0, tzinfo=UTC),
            end_at=datetime(2026, 3, 6, 18, 0, tzinfo=UTC),
            reason="Bob at the dentist",
            actor=SYSTEM,
            now=now,
        )
        ids["primary"], ids["support"] = primary.id, support.id
    return ids


def _signed_in(container: Container, client: TestClient) -> str:
    return sign_in(client, "ada@example.com")


def test_directory_shows_every_team_with_who_is_on_call(container: Container) -> None:
    _arrange(container)
    with page_client(container) as client:
        _signed_in(container, client)
        page = client.get("/oncall")
    assert page.status_code == 200
    main = main_of(page.text)
    for team in TEAMS:
        assert team in main
    assert "Payments primary" in main and "Support hours" in main
    assert "Bob" in main and "mailto:bob@example.com" in main
    assert "America/New_York" in main and "their time 08:00 EDT" not in main  # 07:00 EST
    assert "their time 07:00 EST" in main
    assert "Next: <strong>Ada</strong> from Fri 6 Mar 09:00 GMT" in main  # her override
    assert "No on-call schedule." in main  # Marketing has none
    assert "Ask a manager" in main  # Legal: Ada manages it


def test_schedule_list_and_view_show_layers_final_overrides_and_gaps(container: Container) -> None:
    ids = _arrange(container)
    with page_client(container) as client:
        _signed_in(container, client)
        listing = main_of(client.get("/schedules").text)
        view = client.get(f"/schedules/{ids['support']}")
        primary = main_of(client.get(f"/schedules/{ids['primary']}").text)
        css = client.get("/schedules/timeline.css")
    assert "1 schedule with nobody on call" in listing
    assert "Nobody on call Wed 4 Mar 17:00 GMT" in listing
    assert view.status_code == 200
    main = main_of(view.text)
    assert "Office hours" in main and "Final schedule" in main
    assert "tl-bar tl-gap" in main and "Nobody is on call for 15 periods" in main
    assert "Wed 4 Mar 17:00 GMT \u2013 Thu 5 Mar 09:00 GMT (16 h)" in main
    assert "Weekly" in primary and "tl-bar tl-override" in primary
    assert "Bob at the dentist" in primary and "Ada" in primary
    assert "tl-gap" not in primary
    assert css.status_code == 200 and ".tl-l-400{left:100%}" in css.text


def test_dashboard_warns_of_gaps_in_the_next_week(container: Container) -> None:
    ids = _arrange(container)
    with page_client(container) as client:
        _signed_in(container, client)
        main = main_of(client.get("/").text)
    assert "Gaps in on-call cover" in main
    assert f'href="/schedules/{ids["support"]}#gaps"' in main
    assert "Payments primary" not in main.split("Gaps in on-call cover")[1].split("</section>")[0]


def test_override_preview_shows_sentences_and_saves_nothing_then_saves(
    container: Container,
) -> None:
    ids = _arrange(container)
    url = f"/schedules/{ids['primary']}/overrides"
    form = {
        "override_user_id": str(ids["ada"]),
        "override_start_at": "2026-03-10T09:00",
        "override_end_at": "2026-03-10T21:00",
        "override_reason": "Swap",
    }
    with page_client(container) as client:
        token = _signed_in(container, client)
        before = count(container, OverrideRow)
        preview = client.post(url, data={**form, "csrf_token": token, "intent": "preview"})
        assert preview.status_code == 200
        assert "If you save this override" in preview.text
        assert "Ada gains 1 shift (+12 h)" in preview.text
        assert "Cy gains 1 shift (-12 h)" in preview.text  # her week is cut in two
        assert count(container, OverrideRow) == before
        assert 'value="2026-03-10T09:00"' in preview.text
        saved = client.post(url, data={**form, "csrf_token": token, "intent": "save"})
        assert saved.status_code == 303
        assert saved.headers["location"] == f"/schedules/{ids['primary']}?notice=override"
        assert count(container, OverrideRow) == before + 1
        shown = client.get(saved.headers["location"])
        assert "Override saved." in shown.text and "Swap" in shown.text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"override_user_id": ""}, "override_user_id", "Choose who takes the pager."),
        ({"override_start_at": "soon"}, "override_start_at", "Give a date and time"),
        ({"override_end_at": "2026-03-10T08:00"}, "override_end_at", "The end must be after"),
        ({"override_start_at": "2026-03-06T10:00"}, "override_start_at", "overlaps"),
    ],
)
def test_bad_override_input_shows_field_errors_and_saves_nothing(
    container: Container, changes: dict[str, str], field: str, message: str
) -> None:
    ids = _arrange(container)
    form = {
        "override_user_id": str(ids["ada"]),
        "override_start_at": "2026-03-10T09:00",
        "override_end_at": "2026-03-10T21:00",
        "override_reason": "",
        **changes,
    }
    with page_client(container) as client:
        token = _signed_in(container, client)
        before = count(container, OverrideRow)
        for intent in ("preview", "save"):
            got = client.post(
                f"/schedules/{ids['primary']}/overrides",
                data={**form, "csrf_token": token, "intent": intent},
            )
            assert got.status_code == 422
            assert message in field_error(got.text, field)
            assert "Not saved." in got.text
    assert count(container, OverrideRow) == before


def test_time_off_cover_request_accept_and_note(container: Container) -> None:
    ids = _arrange(container)
    base = f"/schedules/{ids['primary']}"
    with page_client(container) as client:
        token = sign_in(client, "bob@example.com")
        bad = client.post(
            f"{base}/time-off",
            data={"csrf_token": token, "off_start_at": "2026-03-20T09:00", "off_end_at": ""},
        )
        assert bad.status_code == 422 and field_error(bad.text, "off_end_at")
        assert count(container, TimeOffRow) == 0
        off = client.post(
            f"{base}/time-off",
            data={
                "csrf_token": token,
                "off_start_at": "2026-03-20T09:00",
                "off_end_at": "2026-03-22T09:00",
                "off_reason": "Wedding",
            },
        )
        assert off.status_code == 303 and count(container, TimeOffRow) == 1
        cover = client.post(
            f"{base}/cover-requests",
            data={
                "csrf_token": token,
                "cover_start_at": "2026-03-05T09:00",
                "cover_end_at": "2026-03-05T17:00",
                "cover_reason": "Flight",
            },
        )
        assert cover.status_code == 303 and count(container, CoverRequest) == 1
        note = client.post(f"{base}/handoff-notes", data={"csrf_token": token, "note_text": " "})
        assert note.status_code == 422 and field_error(note.text, "note_text")
        note = client.post(
            f"{base}/handoff-notes", data={"csrf_token": token, "note_text": "Disk alerts flap"}
        )
        assert note.status_code == 303
    with page_client(container) as client:
        token = sign_in(client, "cy@example.com")
        page = client.get(base).text
        assert "Cover wanted" in page and "Flight" in page and "Disk alerts flap" in page
        with container.db.read() as tx:
            request_id = tx.execute(select(CoverRequest.id)).scalar_one()
        accepted = client.post(
            f"{base}/cover-requests/{request_id}/accept", data={"csrf_token": token}
        )
        assert accepted.status_code == 303
        again = client.post(
            f"{base}/cover-requests/{request_id}/accept", data={"csrf_token": token}
        )
        assert again.status_code == 422 and "already taken" in again.text
    with container.db.read() as tx:
        row = tx.get(CoverRequest, request_id)
        assert row is not None and row.status == "accepted" and row.accepted_by == ids["cy"]


def test_feed_token_is_shown_once_and_not_cached(container: Container) -> None:
    ids = _arrange(container)
    with page_client(container) as client:
        token = _signed_in(container, client)
        got = client.post(f"/schedules/{ids['primary']}/calendar-token", data={"csrf_token": token})
        assert got.status_code == 200 and got.headers["cache-control"] == "no-store"
        assert "http://tocsin.test/calendars/users/" in got.text
        assert f"http://tocsin.test/calendars/schedules/{ids['primary']}/" in got.text
        raw = got.text.split("http://tocsin.test/calendars/users/")[1].split(".ics")[0]
        later = client.get(f"/schedules/{ids['primary']}")
        assert raw not in later.text and "{token}.ics" in later.text


def test_schedule_pages_need_a_sign_in_and_csrf(container: Container) -> None:
    ids = _arrange(container)
    with page_client(container) as client:
        for path in ("/oncall", "/schedules", f"/schedules/{ids['primary']}"):
            got = client.get(path)
            assert got.status_code == 303 and got.headers["location"].startswith("/login")
        sign_in(client, "bob@example.com")
        refused = client.post(
            f"/schedules/{ids['primary']}/overrides",
            data={"csrf_token": "wrong", "override_user_id": str(ids["bob"])},
        )
        assert refused.status_code == 403
        missing = client.get(f"/schedules/{uuid.uuid4()}")
        assert missing.status_code == 404
    assert count(container, OverrideRow) == 1


def test_a_person_page_lists_their_planned_handoffs(container: Container) -> None:
    ids = _arrange(container)
    container.runner.run_cycle()  # the engine plans the next day's handoffs
    with page_client(container) as client:
        _signed_in(container, client)
        main = main_of(client.get(f"/people/{ids['ada']}").text)
    assert "Shift ends (planned)" in main and "On call (planned)" in main
    assert f'href="/schedules/{ids["support"]}">Support hours' in main
    assert "04 Mar 2026 17:00 GMT" in main and "badge-pending" in main


def test_overrides_and_own_time_off_can_be_removed_from_the_page(container: Container) -> None:
    ids = _arrange(container)
    base = f"/schedules/{ids['primary']}"
    with container.db.read() as tx:
        override_id = tx.execute(select(OverrideRow.id)).scalar_one()
    with page_client(container) as client:
        token = sign_in(client, "bob@example.com")
        client.post(
            f"{base}/time-off",
            data={
                "csrf_token": token,
                "off_start_at": "2026-03-20T09:00",
                "off_end_at": "2026-03-22T09:00",
                "off_reason": "Wedding",
            },
        )
        with container.db.read() as tx:
            off_id = tx.execute(select(TimeOffRow.id)).scalar_one()
        page = client.get(base)
        assert f"/time-off/{off_id}/remove" in page.text  # Bob sees his own time off
        refused = client.post(f"{base}/time-off/{off_id}/remove")  # no CSRF token
        assert refused.status_code == 403 and count(container, TimeOffRow) == 1
        gone = client.post(f"{base}/time-off/{off_id}/remove", data={"csrf_token": token})
        assert gone.status_code == 303 and "time_off_removed" in gone.headers["location"]
        assert count(container, TimeOffRow) == 0
        removed = client.post(f"{base}/overrides/{override_id}/remove", data={"csrf_token": token})
        assert removed.status_code == 303
        assert count(container, OverrideRow) == 0
        missing = client.post(f"{base}/overrides/{override_id}/remove", data={"csrf_token": token})
        assert missing.status_code == 404
