"""Service pages: list and detail, create and edit through the form, integrations, roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

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
from tocsin.services import repo
from tocsin.services.tables import Integration, Service


def _team(container: Container, name: str = "Payments") -> str:
    with container.db.transaction() as tx:
        team = people_actions.create_team(
            tx, name=name, actor=Actor.system(via="cli"), now=container.clock.now()
        )
        return str(team.id)


def _form(token: str, **extra: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": token,
        "name": "Checkout",
        "description": "Takes the money",
        "owner_team_id": "",
        "urgency_rule": "support_hours",
        "outside_hours": "hold",
        "support_hours.time_zone": "Europe/London",
        "support_hours.windows[0].days": ["0", "1", "2", "3", "4"],
        "support_hours.windows[0].start": "09:00",
        "support_hours.windows[0].end": "17:00",
        "ack_timeout_minutes": "15",
        "auto_resolve_minutes": "",
        "runbook_links[0].title": "Checkout runbook",
        "runbook_links[0].url": "https://wiki.example.com/checkout",
    }
    data.update(extra)
    return data


def test_manager_creates_a_service_and_sees_its_routing_key(container: Container) -> None:
    team_id = _team(container)
    make_user(container, role="manager", email="mia@example.com")
    make_user(container, role="responder", email="rita@example.com")
    with page_client(container) as client:
        token = sign_in(client, "mia@example.com")
        assert client.get("/services/new").status_code == 200
        created = client.post("/services/new", data=_form(token, owner_team_id=team_id))
        assert created.status_code == 303, created.text
        detail_url = created.headers["location"].split("?")[0]
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout")
        assert service is not None
        assert service.support_hours == {
            "time_zone": "Europe/London",
            "windows": [{"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}],
        }
        assert service.outside_hours == "hold" and service.ack_timeout_minutes == 15
        assert service.auto_resolve_minutes is None
        assert service.runbook_links == [
            {"title": "Checkout runbook", "url": "https://wiki.example.com/checkout"}
        ]
        key = service.integrations[0].routing_key
    with page_client(container) as client:
        sign_in(client, "rita@example.com")  # responders can look
        detail = main_of(client.get(detail_url).text)
        listing = main_of(client.get("/services").text)
        dashboard = main_of(client.get("/").text)
        assert client.get("/services/new").status_code == 403
        assert client.get(f"{detail_url}/edit").status_code == 403
    assert f'value="{key}"' in detail and "data-copy=" in detail
    assert "PagerDuty Events API v2 routing key" in detail
    assert "http://testserver/v2/enqueue" in detail or "/v2/enqueue" in detail
    assert "By support hours" in detail and "Mon\u2013Fri 09:00\u201317:00" in detail
    assert 'href="https://wiki.example.com/checkout"' in detail and "Payments" in detail
    assert "Checkout" in listing and "By support hours" in listing and "Payments" in listing
    assert 'href="/services/new"' not in listing
    assert "Checkout" in dashboard and "owned by Payments" in dashboard


def test_bad_support_hours_are_shown_next_to_the_field(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        bad = client.post(
            "/services/new",
            data=_form(
                token,
                **{
                    # Slot 0 left empty: errors must still land on slot 1's inputs.
                    "support_hours.windows[0].days": [],
                    "support_hours.windows[0].start": "",
                    "support_hours.windows[0].end": "",
                    "support_hours.windows[1].days": ["5"],
                    "support_hours.windows[1].start": "18:00",
                    "support_hours.windows[1].end": "08:00",
                    "runbook_links[1].title": "Second",
                    "runbook_links[1].url": "javascript:alert(1)",
                },
            ),
        )
        bad_url = client.post(
            "/services/new",
            data=_form(
                token,
                **{"runbook_links[1].title": "Second", "runbook_links[1].url": "ftp://x"},
            ),
        )
        no_hours = client.post(
            "/services/new",
            data=_form(
                token,
                **{
                    "support_hours.time_zone": "",
                    "support_hours.windows[0].days": [],
                    "support_hours.windows[0].start": "",
                    "support_hours.windows[0].end": "",
                },
            ),
        )
    assert bad.status_code == 422
    assert "End must be after start" in field_error(bad.text, "support_hours-windows-1-end")
    assert field_error(bad.text, "support_hours-windows-0-end") == ""
    assert 'value="18:00"' in bad.text and ">Takes the money</textarea>" in bad.text
    assert bad_url.status_code == 422
    assert "http://" in field_error(bad_url.text, "runbook_links-1-url")
    assert 'value="ftp://x"' in bad_url.text
    assert no_hours.status_code == 422
    assert "needs support hours" in field_error(no_hours.text, "support_hours")
    assert count(container, Service) == 0


def test_duplicate_name_is_shown_next_to_the_name(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        assert client.post("/services/new", data=_form(token)).status_code == 303
        again = client.post("/services/new", data=_form(token, name="CHECKOUT"))
        minutes = client.post("/services/new", data=_form(token, ack_timeout_minutes="soon"))
    assert again.status_code == 422
    assert "already exists" in field_error(again.text, "name")
    assert 'value="CHECKOUT"' in again.text
    assert minutes.status_code == 422 and "whole number" in field_error(
        minutes.text, "ack_timeout_minutes"
    )
    assert count(container, Service) == 1


def test_edit_keeps_values_and_switching_rule_clears_nothing(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        form = client.get(f"{detail_url}/edit")
        assert form.status_code == 200 and 'value="Checkout runbook"' in form.text
        saved = client.post(
            f"{detail_url}/edit",
            data=_form(token, name="Checkout API", urgency_rule="severity"),
        )
        assert saved.status_code == 303
        detail = client.get(saved.headers["location"])
    assert "Checkout API" in detail.text and "By event severity" in detail.text
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout API")
        assert service is not None and service.urgency_rule == "severity"
        assert service.support_hours is not None


def test_csrf_missing_is_refused_and_nothing_written(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        data = _form(token)
        del data["csrf_token"]
        refused = client.post("/services/new", data=data)
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        no_token = client.post(
            f"{detail_url}/integrations", data={"kind": "heartbeat", "name": "x"}
        )
    assert refused.status_code == 403 and no_token.status_code == 403
    assert count(container, Service) == 1 and count(container, Integration) == 1


def test_add_integration(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    make_user(container, role="responder", email="rita@example.com")
    make_user(container, role="stakeholder", email="sam@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = (
            client.post("/services/new", data=_form(token)).headers["location"].split("?")[0]
        )
        added = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": token, "kind": "alertmanager", "name": "Prometheus"},
        )
        assert added.status_code == 303
        detail = client.get(added.headers["location"].split("#")[0])
        empty = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": token, "kind": "heartbeat", "name": " "},
        )
    assert "Prometheus" in detail.text and "Alertmanager" in detail.text
    assert "Integrations (2)" in detail.text
    assert empty.status_code == 422 and "name" in field_error(empty.text, "integration-name")
    with page_client(container) as client:
        rita = sign_in(client, "rita@example.com")
        page = client.get(detail_url)
        refused = client.post(
            f"{detail_url}/integrations",
            data={"csrf_token": rita, "kind": "heartbeat", "name": "x"},
        )
    assert page.status_code == 200 and "Add integration" not in main_of(page.text)
    assert refused.status_code == 403
    with page_client(container) as client:
        sign_in(client, "sam@example.com")
        assert client.get("/services").status_code == 403
        assert client.get(detail_url).status_code == 403
        assert "services-title" not in client.get("/").text
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout")
        assert service is not None
        assert sorted(i.name for i in service.integrations) == ["Events API v2", "Prometheus"]


def _service_page(client: TestClient, token: str) -> str:
    return str(client.post("/services/new", data=_form(token)).headers["location"].split("?")[0])


def test_integration_urls_and_webhook_mapping_preview(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = _service_page(client, token)
        for kind, name in (("alertmanager", "Prometheus"), ("generic_webhook", "Grafana")):
            client.post(
                f"{detail_url}/integrations", data={"csrf_token": token, "kind": kind, "name": name}
            )
        with container.db.read() as tx:
            service = repo.find_service_by_name(tx, "Checkout")
            assert service is not None
            keys = {i.kind: (i.id, i.routing_key) for i in service.integrations}
        hook_id, hook_key = keys["generic_webhook"]
        detail = main_of(client.get(detail_url).text)
        mapping = {
            "csrf_token": token,
            "summary": "alert.title",
            "source": "alert.host",
            "severity": "alert.level",
            "dedup_key": "",
            "severity_map": "P1=critical",
            "resolve_values": "ok, resolved",
            "default_severity": "error",
            "sample": '{"alert": {"title": "Disk 95% full on db-1", "host": "db-1", "level": "P1"}}',
        }
        preview = client.post(f"{detail_url}/integrations/{hook_id}/preview", data=mapping)
        bad_path = client.post(
            f"{detail_url}/integrations/{hook_id}/preview", data={**mapping, "summary": "a..b"}
        )
        bad_json = client.post(
            f"{detail_url}/integrations/{hook_id}/preview", data={**mapping, "sample": "{nope"}
        )
        missing = client.post(
            f"{detail_url}/integrations/{hook_id}/preview",
            data={**mapping, "sample": '{"alert": {}}'},
        )
        with container.db.read() as tx:
            assert repo.get_integration(tx, hook_id).mapping is None  # previews write nothing
        saved = client.post(f"{detail_url}/integrations/{hook_id}/mapping", data=mapping)
        bad_save = client.post(
            f"{detail_url}/integrations/{hook_id}/mapping",
            data={**mapping, "severity_map": "P1=loud"},
        )
    assert f"/integrations/alertmanager/{keys['alertmanager'][1]}" in detail
    assert f"/integrations/webhook/{hook_key}" in detail and "/v2/enqueue" in detail
    assert "not set: events are refused" in detail
    assert preview.status_code == 200
    body = main_of(preview.text)
    assert "Preview (nothing saved)" in body and "Disk 95% full on db-1" in body
    assert "critical" in body and "wh:" in body  # the generated dedup key
    assert bad_path.status_code == 422
    assert "dotted path" in field_error(bad_path.text, f"map-{hook_id}-summary")
    assert bad_json.status_code == 422
    assert "not valid JSON" in field_error(bad_json.text, f"map-{hook_id}-sample")
    assert missing.status_code == 200 and "would be refused" in missing.text
    assert saved.status_code == 303
    assert bad_save.status_code == 422
    assert "critical, error" in field_error(bad_save.text, f"map-{hook_id}-severity_map")
    with container.db.read() as tx:
        stored = repo.get_integration(tx, hook_id).mapping
        assert stored is not None and stored["summary"] == "alert.title"
        assert stored["severity_map"] == {"P1": "critical"}


def test_maintenance_windows_add_and_end(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = _service_page(client, token)
        added = client.post(
            f"{detail_url}/maintenance",
            data={"csrf_token": token, "duration": "60", "reason": "DB upgrade"},
        )
        past = client.post(
            f"{detail_url}/maintenance",
            data={"csrf_token": token, "end_at": "2001-01-01T10:00", "duration": "60"},
        )
        garbage = client.post(
            f"{detail_url}/maintenance", data={"csrf_token": token, "start_at": "tomorrow"}
        )
        page = main_of(client.get(detail_url).text)
        with container.db.read() as tx:
            service = repo.find_service_by_name(tx, "Checkout")
            assert service is not None
            windows = repo.list_maintenance_windows(
                tx, service.id, current_or_future_at=container.clock.now()
            )
            assert len(windows) == 1
            window_id = windows[0].id
        ended = client.post(f"{detail_url}/maintenance/{window_id}/end", data={"csrf_token": token})
        after = main_of(client.get(detail_url).text)
    assert added.status_code == 303
    assert "DB upgrade" in page and "End now" in page
    assert past.status_code == 422 and field_error(past.text, "maintenance-end_at")
    assert garbage.status_code == 422 and field_error(garbage.text, "maintenance-start_at")
    assert ended.status_code == 303 and "No current or planned maintenance" in after


def test_heartbeat_monitors(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = _service_page(client, token)
        added = client.post(
            f"{detail_url}/heartbeats",
            data={"csrf_token": token, "name": "Nightly backup", "interval_minutes": "1440"},
        )
        bad = client.post(
            f"{detail_url}/heartbeats",
            data={"csrf_token": token, "name": "Cron", "interval_minutes": "0"},
        )
        text_interval = client.post(
            f"{detail_url}/heartbeats",
            data={"csrf_token": token, "name": "Cron", "interval_minutes": "often"},
        )
        page = main_of(client.get(detail_url).text)
    assert added.status_code == 303
    assert "Nightly backup" in page and "http://tocsin.test/integrations/heartbeat/" in page
    assert "waiting" in page
    assert bad.status_code == 422
    assert "from 1 to" in field_error(bad.text, "heartbeat-interval_minutes")
    assert text_interval.status_code == 422
    assert 'value="Cron"' in text_interval.text


def test_grouping_storm_and_event_rules_in_the_edit_form(container: Container) -> None:
    make_user(container, role="admin", email="ada@example.com")
    with page_client(container) as client:
        token = sign_in(client, "ada@example.com")
        detail_url = _service_page(client, token)
        bad = client.post(
            f"{detail_url}/edit",
            data=_form(
                token,
                **{
                    "grouping.mode": "fields",
                    "grouping.window_minutes": "5",
                    "storm_threshold": "0",
                    "event_rules[0].field": "summary",
                    "event_rules[0].op": "equals",
                    "event_rules[0].value": "",
                    "event_rules[1].field": "source",
                    "event_rules[1].op": "matches",
                    "event_rules[1].value": "db-(",
                    "event_rules[1].suppress": "on",
                },
            ),
        )
        bad_storm = client.post(f"{detail_url}/edit", data=_form(token, storm_threshold="0"))
        bad_rule = client.post(
            f"{detail_url}/edit",
            data=_form(
                token,
                **{
                    # Slot 0 unused: the error must land on slot 1's input.
                    "event_rules[1].field": "source",
                    "event_rules[1].op": "matches",
                    "event_rules[1].value": "db-(",
                    "event_rules[1].suppress": "on",
                },
            ),
        )
        good = client.post(
            f"{detail_url}/edit",
            data=_form(
                token,
                **{
                    "grouping.mode": "fields",
                    "grouping.window_minutes": "15",
                    "grouping.fields": ["source", "component"],
                    "storm_threshold": "",
                    "event_rules[0].field": "summary",
                    "event_rules[0].op": "contains",
                    "event_rules[0].value": "test",
                    "event_rules[0].suppress": "on",
                    "event_rules[0].priority": "",
                    "event_rules[0].severity": "",
                },
            ),
        )
        edit = client.get(f"{detail_url}/edit")
        detail = main_of(client.get(detail_url).text)
    assert bad.status_code == 422
    assert "Choose one or more" in field_error(bad.text, "grouping-fields")
    assert bad_storm.status_code == 422 and "from 1 to" in field_error(
        bad_storm.text, "storm_threshold"
    )
    assert bad_rule.status_code == 422
    assert "regular expression" in field_error(bad_rule.text, "event_rules-1-value")
    assert 'value="db-("' in bad_rule.text
    assert good.status_code == 303, good.text
    with container.db.read() as tx:
        service = repo.find_service_by_name(tx, "Checkout")
        assert service is not None
        assert service.grouping == {
            "mode": "fields",
            "window_minutes": 15,
            "fields": ["component", "source"],
        }
        assert service.storm_threshold is None
        assert service.event_rules[0]["value"] == "test" and service.event_rules[0]["suppress"]
    assert (
        'value="test"' in edit.text
        and 'id="grouping-mode-fields" name="grouping.mode" value="fields" checked' in edit.text
    )
    assert "By component, source within 15 min" in detail and "Storm threshold" in detail
