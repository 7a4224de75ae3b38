"""``tocsin oncall`` and ``tocsin schedules`` in a subprocess over the demo schedules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import tocsin
from tocsin import bootstrap
from tocsin.cli import demo, demo_schedules
from tocsin.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("schedules") / "data"
    c = bootstrap.build(Settings(data_dir=path), upgrade=True)
    try:
        with c.db.transaction() as tx:
            demo.seed(tx, now=c.clock.now(), base_url="http://localhost:8080")
            demo_schedules.seed(tx, now=c.clock.now())
    finally:
        c.close()
    return str(path)


def test_schedules_json_lists_zones_layers_oncall_and_feed(data_dir: str) -> None:
    listed = tocsin("--data-dir", data_dir, "schedules", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    by_name = {r["name"]: r for r in rows}
    platform = by_name["Platform primary"]
    assert platform["layers"] == 3 and platform["time_zone"] == "UTC"
    assert len(platform["participant_time_zones"]) >= 3
    assert platform["ics_feed_url"].endswith(f"/calendars/schedules/{platform['id']}/{{token}}.ics")
    assert all(r["oncall"] for r in rows if "business hours" not in r["name"])
    text = tocsin("--data-dir", data_dir, "schedules")
    assert text.returncode == 0 and "Platform primary" in text.stdout


def test_oncall_json_for_a_team_at_a_local_time(data_dir: str) -> None:
    found = tocsin(
        "--data-dir", data_dir, "oncall", "--team", "Legal",
        "--at", "2030-06-12 10:00", "--tz", "Europe/London", "--format", "json",
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    body = json.loads(found.stdout)
    assert body["at"] == "2030-06-12T09:00:00+00:00"
    [legal] = body["schedules"]
    assert legal["teams"] == ["Legal"]
    assert legal["oncall"][0]["email"] == "robert.hughes@example.com"
    assert set(legal["oncall"][0]) >= {"name", "email", "time_zone"}
    night = tocsin(
        "--data-dir", data_dir, "oncall", "--team", "Legal", "--at", "2030-06-12T23:00:00+01:00",
        "-f", "json",
    )  # fmt: skip
    assert json.loads(night.stdout)["schedules"][0]["oncall"] == []


def test_oncall_refusals_and_usage_errors(data_dir: str) -> None:
    unknown = tocsin("--data-dir", data_dir, "oncall", "--team", "Nope", "--format", "json")
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["error"]["fields"][0]["field"] == "team"
    assert tocsin("--data-dir", data_dir, "oncall", "--at", "soon").returncode == 2
    assert tocsin("--data-dir", data_dir, "oncall", "--tz", "Mars/Base").returncode == 2
    text = tocsin("--data-dir", data_dir, "oncall")
    assert text.returncode == 0 and "Incident Commander" in text.stdout
    assert "--tz" in tocsin("oncall", "--help").stdout


def test_empty_instance_answers_with_empty_lists(tmp_path: Path) -> None:
    data = str(tmp_path / "d")
    assert json.loads(tocsin("--data-dir", data, "schedules", "-f", "json").stdout) == []
    assert json.loads(tocsin("--data-dir", data, "oncall", "-f", "json").stdout)["schedules"] == []
