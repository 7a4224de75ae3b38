"""The CLI contract: --format json prints one JSON document; exit codes 0, 1, 2, 3."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.databases import postgres_database
from tests.e2e.cli import tocsin
from tocsin.db import migrate
from tocsin.db.session import Database

pytestmark = pytest.mark.slow


def test_user_and_token_lifecycle_with_json_output(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    created = tocsin(
        "--data-dir",
        data,
        "user",
        "create",
        "--email",
        "Ada@Example.com",
        "--name",
        "Ada Lovelace",
        "--role",
        "admin",
        "--time-zone",
        "Europe/London",
        "--password-stdin",
        "--format",
        "json",
        stdin="correct horse battery\n",
    )
    assert created.returncode == 0, created.stderr
    user = json.loads(created.stdout)
    assert user["email"] == "ada@example.com"
    assert user["role"] == "admin"
    assert (tmp_path / "data" / "tocsin.sqlite3").exists()  # data dir created on first run

    token = tocsin(
        "--data-dir",
        data,
        "token",
        "create",
        "--user",
        "ada@example.com",
        "--scope",
        "write",
        "--format",
        "json",
    )
    assert token.returncode == 0, token.stderr
    body = json.loads(token.stdout)
    assert body["token"].startswith("tcn_") and body["scope"] == "write"
    # shown once: nowhere in the database file
    assert body["token"].encode() not in (tmp_path / "data" / "tocsin.sqlite3").read_bytes()

    listed = tocsin("--data-dir", data, "users", "--format", "json")
    assert listed.returncode == 0
    assert [u["email"] for u in json.loads(listed.stdout)] == ["ada@example.com"]


def test_refusals_exit_1_with_json_error_and_change_nothing(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    args = ("--data-dir", data, "user", "create", "--email", "a@example.com", "--name", "A")
    assert tocsin(*args).returncode == 0
    dup = tocsin(*args, "--format", "json")
    assert dup.returncode == 1
    error = json.loads(dup.stdout)["error"]
    assert error["code"] == "user.email_taken"
    assert error["fields"][0]["field"] == "email"

    bad_role = tocsin(
        "--data-dir",
        data,
        "user",
        "create",
        "--email",
        "b@example.com",
        "--name",
        "B",
        "--role",
        "overlord",
    )
    assert bad_role.returncode == 1
    assert "role" in bad_role.stderr
    bad_zone = tocsin(
        "--data-dir",
        data,
        "user",
        "create",
        "--email",
        "c@example.com",
        "--name",
        "C",
        "--time-zone",
        "Mars/Base",
    )
    assert bad_zone.returncode == 1
    short = tocsin(
        "--data-dir",
        data,
        "user",
        "create",
        "--email",
        "d@example.com",
        "--name",
        "D",
        "--password-stdin",
        stdin="short\n",
    )
    assert short.returncode == 1
    listed = json.loads(tocsin("--data-dir", data, "users", "--format", "json").stdout)
    assert [u["email"] for u in listed] == ["a@example.com"]


def test_usage_error_exits_2(tmp_path: Path) -> None:
    assert tocsin("--data-dir", str(tmp_path), "no-such-command").returncode == 2
    assert tocsin("--data-dir", str(tmp_path), "user", "create").returncode == 2


def test_unreachable_database_exits_3(tmp_path: Path) -> None:
    result = tocsin(
        "--data-dir",
        str(tmp_path),
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/none",
        "users",
        "--format",
        "json",
    )
    assert result.returncode == 3
    assert json.loads(result.stdout)["error"]["code"] == "database.unreachable"


def test_version_and_help() -> None:
    version = tocsin("version", "--format", "json")
    assert version.returncode == 0 and json.loads(version.stdout)["version"]
    helped = tocsin("--help")
    assert helped.returncode == 0
    for command in ("serve", "engine", "demo", "db", "user", "token", "version"):
        assert command in helped.stdout


def test_db_upgrade_on_postgres(pg_admin_url: str, tmp_path: Path) -> None:
    with postgres_database(pg_admin_url, "cli") as url:
        up = tocsin(
            "--data-dir",
            str(tmp_path),
            "db",
            "upgrade",
            "--format",
            "json",
            TOCSIN_DATABASE_URL=url,
        )
        assert up.returncode == 0, up.stderr
        db = Database(url)
        try:
            head = migrate.head_revision(db)
        finally:
            db.dispose()
        assert json.loads(up.stdout) == {"revision": head, "database": "postgresql"}
        current = tocsin(
            "--data-dir",
            str(tmp_path),
            "db",
            "current",
            "--format",
            "json",
            TOCSIN_DATABASE_URL=url,
        )
        assert json.loads(current.stdout)["up_to_date"] is True
        created = tocsin(
            "--data-dir",
            str(tmp_path),
            "user",
            "create",
            "--email",
            "pg@example.com",
            "--name",
            "P",
            "--format",
            "json",
            TOCSIN_DATABASE_URL=url,
        )
        assert created.returncode == 0, created.stderr
