"""The service commands in a subprocess: create prints the routing key, listing, refusals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.e2e.cli import tocsin

pytestmark = pytest.mark.slow


def test_create_prints_id_and_routing_key_then_json_listing(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = tocsin("--data-dir", data, "service", "create", "Checkout API")
    assert created.returncode == 0, created.stderr
    id_line, key_line = created.stdout.splitlines()
    assert re.fullmatch(r"id: [0-9a-f-]{36}", id_line)
    key = key_line.removeprefix("routing_key: ")
    assert re.fullmatch(r"[0-9a-f]{32}", key)

    as_json = tocsin(
        "--data-dir", data, "service", "create", "Search", "--urgency", "severity", "-f", "json"
    )
    assert as_json.returncode == 0, as_json.stderr
    body = json.loads(as_json.stdout)
    assert body["name"] == "Search" and re.fullmatch(r"[0-9a-f]{32}", body["routing_key"])

    listed = tocsin("--data-dir", data, "services", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    services = json.loads(listed.stdout)
    assert [s["name"] for s in services] == ["Checkout API", "Search"]
    assert services[0]["integrations"] == [
        {"id": services[0]["integrations"][0]["id"], "kind": "events_v2",
         "name": "Events API v2", "routing_key": key,
         "url": "http://127.0.0.1:8080/v2/enqueue"}
    ]  # fmt: skip
    assert services[1]["urgency_rule"] == "severity"


def test_unknown_team_and_duplicate_name_exit_1(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    bad_team = tocsin(
        "--data-dir", data, "service", "create", "Billing", "--team", "Ghosts", "-f", "json"
    )
    assert bad_team.returncode == 1
    error = json.loads(bad_team.stdout)["error"]
    assert [f["field"] for f in error["fields"]] == ["team"]

    assert tocsin("--data-dir", data, "service", "create", "Billing").returncode == 0
    dup = tocsin("--data-dir", data, "service", "create", "BILLING", "-f", "json")
    assert dup.returncode == 1
    assert json.loads(dup.stdout)["error"]["code"] == "service.name_taken"

    bad_urgency = tocsin("--data-dir", data, "service", "create", "X", "--urgency", "sometimes")
    assert bad_urgency.returncode == 1
    assert "urgency_rule" in bad_urgency.stderr

    listed = tocsin("--data-dir", data, "services")
    assert listed.returncode == 0
    assert "Billing" in listed.stdout and "events_v2" in listed.stdout
