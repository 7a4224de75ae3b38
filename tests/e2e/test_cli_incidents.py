"""The incident commands in a subprocess on SQLite: trigger, list as JSON, ack, resolve, refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.cli import tocsin

pytestmark = pytest.mark.slow


def _setup(tmp_path: Path) -> str:
    data = str(tmp_path / "data")
    assert tocsin("--data-dir", data, "service", "create", "Checkout").returncode == 0
    for email in ("grace@example.com", "alan@example.com"):
        made = tocsin(
            "--data-dir", data, "user", "create", "--email", email, "--name", email[:4].title(),
            "--role", "responder",
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
    return data


def test_trigger_list_ack_resolve(tmp_path: Path) -> None:
    data = _setup(tmp_path)
    triggered = tocsin(
        "--data-dir", data, "trigger", "--service", "Checkout",
        "--title", "Checkout returns 502", "--severity", "SEV-2",
    )  # fmt: skip
    assert triggered.returncode == 0, triggered.stderr
    number = triggered.stdout.strip()
    assert number.isdigit()

    as_json = tocsin(
        "--data-dir", data, "trigger", "--service", "Checkout", "--title", "Cart slow",
        "--urgency", "low", "--description", "p99 at 4s", "--format", "json",
    )  # fmt: skip
    assert as_json.returncode == 0, as_json.stderr
    second = json.loads(as_json.stdout)
    assert second["urgency"] == "low" and second["status"] == "triggered"

    listed = tocsin("--data-dir", data, "incidents", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["number"] for r in rows] == [second["number"], int(number)]
    first = rows[1]
    assert first["severity"] == "SEV-2" and first["major"] is True
    assert first["service"] == "Checkout" and first["title"] == "Checkout returns 502"

    acked = tocsin("--data-dir", data, "ack", number, "--as", "grace@example.com", "-f", "json")
    assert acked.returncode == 0, acked.stderr
    assert json.loads(acked.stdout)["assignee"] == "grace@example.com"
    not_yours = tocsin(
        "--data-dir", data, "ack", f"#{number}", "--as", "alan@example.com", "-f", "json"
    )
    assert not_yours.returncode == 1
    assert json.loads(not_yours.stdout)["error"]["code"] == "incident.not_assignee"

    only_open = tocsin(
        "--data-dir", data, "incidents", "--status", "acknowledged", "--service", "Checkout",
        "--format", "json",
    )  # fmt: skip
    assert [r["number"] for r in json.loads(only_open.stdout)] == [int(number)]

    resolved = tocsin("--data-dir", data, "resolve", number, "--note", "Rolled back")
    assert resolved.returncode == 0, resolved.stderr
    assert resolved.stdout.startswith(f"#{number} resolved")
    twice = tocsin("--data-dir", data, "resolve", number, "-f", "json")
    assert twice.returncode == 1
    assert json.loads(twice.stdout)["error"]["code"] == "incident.already_resolved"

    # The operator at the shell acts for nobody in particular: no assignee rule applies.
    operator = tocsin("--data-dir", data, "ack", str(second["number"]))
    assert operator.returncode == 0, operator.stderr

    table = tocsin("--data-dir", data, "incidents")
    assert table.returncode == 0 and "Cart slow" in table.stdout and "SEV-2" in table.stdout


def test_refusals_exit_1_and_usage_errors_exit_2(tmp_path: Path) -> None:
    data = _setup(tmp_path)
    for args in [
        ("ack", "4242"),
        ("resolve", "not-a-number"),
        ("ack", "1", "--as", "nobody@example.com"),
        ("trigger", "--service", "Ghosts", "--title", "Boo"),
        ("trigger", "--service", "Checkout", "--title", "Bad", "--severity", "SEV-9"),
        ("incidents", "--status", "sleeping"),
    ]:
        refused = tocsin("--data-dir", data, *args, "--format", "json")
        assert refused.returncode == 1, (args, refused.stdout, refused.stderr)
        assert "error" in json.loads(refused.stdout)
    assert tocsin("--data-dir", data, "trigger", "--service", "Checkout").returncode == 2
    assert tocsin("--data-dir", data, "ack").returncode == 2
    empty = tocsin("--data-dir", data, "incidents", "--format", "json")
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
