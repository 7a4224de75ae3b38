"""Paging commands in a subprocess: ``tocsin page``, ``policies``, ``readiness``, and
``oncall --offline`` answering from the roster file while the database is unreachable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.e2e.cli import tocsin
from tocsin import bootstrap
from tocsin.cli import demo, demo_paging, demo_schedules
from tocsin.engine.module import CycleContext
from tocsin.engine.roster import Roster
from tocsin.escalation import repo as escalation_repo
from tocsin.incidents.tables import Incident
from tocsin.kernel.actor import Actor
from tocsin.notifications.tables import OutboundMessage
from tocsin.people import contacts
from tocsin.people import repo as people_repo
from tocsin.settings import Settings

pytestmark = pytest.mark.slow

CLOSED_PORT_URL = "postgresql+psycopg://tocsin@127.0.0.1:9/tocsin?connect_timeout=2"
SYSTEM = Actor.system(via="cli")


def _container(data: Path, url: str | None = None) -> bootstrap.Container:
    settings = Settings(data_dir=data, database_url=url, secret_key="k" * 32)  # type: ignore[arg-type]
    return bootstrap.build(settings, configure_logging=False, channels={}, upgrade=url is None)


def test_page_a_person_by_email_opens_an_incident_and_queues_the_page(
    own_database_url: str, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    env = {"TOCSIN_DATABASE_URL": own_database_url}
    made = tocsin(
        "--data-dir", str(data), "user", "create", "--email", "grace@example.com",
        "--name", "Grace", "--role", "responder", **env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    c = _container(data, own_database_url)
    try:
        with c.db.transaction() as tx:
            grace = people_repo.get_user_by_email(tx, "grace@example.com")
            contacts.add_method(
                tx,
                user_id=grace.id,
                kind="email",
                address="grace@example.com",
                label="",
                actor=SYSTEM,
                now=c.clock.now(),
                verified=True,
            )
            grace_id = grace.id

        paged = tocsin(
            "--data-dir", str(data), "page", "grace@example.com", "Disk full on db-1, please look",
            "--format", "json", **env,
        )  # fmt: skip
        assert paged.returncode == 0, paged.stderr
        body = json.loads(paged.stdout)
        assert (
            body["target"]["kind"] == "user" and body["title"] == "Disk full on db-1, please look"
        )
        assert body["paged_user_ids"] == [str(grace_id)]

        text = tocsin("--data-dir", str(data), "page", "user:grace@example.com", "again", **env)
        assert text.returncode == 0, text.stderr
        assert text.stdout.strip() == str(body["number"] + 1)

        with c.db.read() as tx:
            incident = tx.execute(
                select(Incident).where(Incident.number == body["number"])
            ).scalar_one()
            assert incident.service_id is None and incident.status == "triggered"
            assert incident.assignee_id == grace_id
            state = escalation_repo.find_state(tx, incident.id)
            assert state is not None and state.unreachable_at is None
            [message] = tx.execute(
                select(OutboundMessage).where(OutboundMessage.incident_id == incident.id)
            ).scalars()
            assert message.kind == "page" and message.recipient == "grace@example.com"
            assert message.status == "pending"
    finally:
        c.close()

    unknown = tocsin("--data-dir", str(data), "page", "nobody", "hello", "-f", "json", **env)
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["code"] == "invalid"
    down = tocsin(
        "--data-dir", str(data), "--database-url", CLOSED_PORT_URL, "page", "grace@example.com",
        "hello",
    )  # fmt: skip
    assert down.returncode == 3, down.stderr


def test_policies_readiness_and_oncall_offline_on_the_demo(tmp_path: Path) -> None:
    data = tmp_path / "data"
    c = _container(data)
    try:
        with c.db.transaction() as tx:
            now = c.clock.now()
            demo.seed(tx, now=now, base_url="http://localhost:8080")
            demo_schedules.seed(tx, now=now)
            demo_paging.seed(tx, now=now)
        Roster(data).run(CycleContext(db=c.db, clock=c.clock, instance_id="test"))
    finally:
        c.close()

    policies = tocsin("--data-dir", str(data), "policies", "-f", "json")
    assert policies.returncode == 0, policies.stderr
    payments = next(p for p in json.loads(policies.stdout) if p["name"] == "Payments escalation")
    assert [lv["targets"][0]["name"] for lv in payments["levels"]] == [
        "Payments primary",
        "Payments backup",
        "Payments",
    ]
    assert payments["repeat"] == 1 and payments["levels"][0]["delay_minutes"] == 5

    services = json.loads(tocsin("--data-dir", str(data), "services", "-f", "json").stdout)
    checkout = next(s for s in services if s["name"] == "Checkout API")
    assert checkout["escalation_policy"] == "Payments escalation"
    assert checkout["integrations"][0]["routing_key"]

    ready = tocsin("--data-dir", str(data), "readiness", "-f", "json")
    assert ready.returncode == 0, ready.stderr
    report = json.loads(ready.stdout)
    assert report["services"] == [] and report["people_checked"] > 10

    # The database is unreachable: the offline answer comes from the roster file alone.
    offline = tocsin(
        "--data-dir", str(data), "--database-url", CLOSED_PORT_URL,
        "oncall", "--offline", "--team", "Payments", "-f", "json",
    )  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    body = json.loads(offline.stdout)
    assert body["offline"] is True
    primary = next(r for r in body["teams"] if r["schedule"] == "Payments primary")
    [person] = primary["oncall"]
    assert person["phones"][0].startswith("+155555501") and person["email"].endswith("@example.com")
    as_text = tocsin(
        "--data-dir", str(data), "--database-url", CLOSED_PORT_URL, "oncall", "--offline",
    )  # fmt: skip
    assert as_text.returncode == 0, as_text.stderr
    assert "roster written 0 minutes ago" in as_text.stdout
    assert person["phones"][0] in as_text.stdout
    online_down = tocsin("--data-dir", str(data), "--database-url", CLOSED_PORT_URL, "oncall")
    assert online_down.returncode == 3

    missing = tocsin("--data-dir", str(tmp_path / "empty"), "oncall", "--offline")
    assert missing.returncode == 3
    assert "No usable roster file" in missing.stderr
    assert not (tmp_path / "empty").exists()  # it touched nothing, not even the data dir
