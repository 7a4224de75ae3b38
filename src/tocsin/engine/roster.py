"""Roster module: keeps data_dir/roster.json, who is on call and how to call them, for outages.

``tocsin oncall --offline`` reads only this file, so an operator can still find the
on-call person's phone number while the database (or all of Tocsin) is down.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from tocsin.engine.module import CycleContext
from tocsin.escalation import repo as escalation_repo
from tocsin.people import contacts
from tocsin.people.contact_rules import PHONE_KINDS
from tocsin.people.tables import ContactMethod, Team, User
from tocsin.schedules import convert, rules
from tocsin.schedules import repo as schedules_repo
from tocsin.schedules.tables import ScheduleRow

FILENAME: Final = "roster.json"
FORMAT_VERSION: Final = 1
HORIZON: Final = timedelta(days=8)  # from midnight UTC today: always covers the next 7 days
# Addresses worth a person's eyes in an outage; push subscriptions and webhook URLs are not.
SHOWN_ADDRESSES: Final = ("email", "slack", "ntfy", "teams")


def roster_path(data_dir: Path) -> Path:
    return Path(data_dir) / FILENAME


def _person(user: User, methods: list[ContactMethod]) -> dict[str, Any]:
    verified = [m for m in methods if m.verified_at is not None]
    return {
        "id": str(user.id),
        "name": user.name,
        "email": user.email,
        "time_zone": user.time_zone,
        "phones": contacts.phones_of(methods),
        "methods": [
            {"kind": m.kind, "address": m.address if m.kind in SHOWN_ADDRESSES else ""}
            for m in verified
            if m.kind not in PHONE_KINDS
        ],
    }


def build(tx: Session, *, now: datetime) -> dict[str, Any]:
    """The roster document (without ``generated_at``): a pure function of the data and the day.

    Shifts are rendered from midnight UTC so the document only changes when a schedule,
    a person or the day changes; readers find "now" among the shifts themselves.
    """
    start = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    rows = list(tx.execute(select(ScheduleRow).order_by(ScheduleRow.name)).scalars())
    loaded = schedules_repo.load_schedules(tx, rows, since=start)
    teams = list(tx.execute(select(Team).order_by(Team.name)).scalars())
    team_names = {t.id: t.name for t in teams}
    schedules: list[dict[str, Any]] = []
    wanted: set[uuid.UUID] = set()
    for row in rows:
        schedule = loaded[row.id]
        shifts = rules.render(schedule, start, start + HORIZON)
        oncall = rules.oncall_at(schedule, now)
        wanted.update(convert.user_id_of(s.user) for s in shifts)
        wanted.update(convert.user_id_of(o.user) for o in oncall)
        schedules.append(
            {
                "id": str(row.id),
                "name": row.name,
                "time_zone": row.time_zone,
                "teams": [team_names[t.team_id] for t in row.teams if t.team_id in team_names],
                "shadows": [o.user for o in oncall if o.shadow],
                "shifts": [
                    {
                        "user": s.user,
                        "start_at": s.start_at.isoformat(),
                        "end_at": s.end_at.isoformat(),
                    }
                    for s in shifts
                ],
            }
        )
    policies: list[dict[str, Any]] = []
    for policy in escalation_repo.list_policies(tx):
        levels = policy.levels or []
        first = levels[0].get("targets", []) if levels else []
        direct = [str(t["id"]) for t in first if t.get("kind") == "user"]
        wanted.update(uuid.UUID(u) for u in direct)
        policies.append(
            {
                "name": policy.name,
                "team": team_names.get(policy.team_id) if policy.team_id else None,
                "level_1_users": direct,
            }
        )
    for team in teams:
        wanted.update(m.user_id for m in team.members)
    users: dict[uuid.UUID, User] = {}
    if wanted:
        users = {u.id: u for u in tx.execute(select(User).where(User.id.in_(wanted))).scalars()}
    methods = contacts.methods_of(tx, users)
    return {
        "format": FORMAT_VERSION,
        "window_start": start.isoformat(),
        "people": {
            str(uid): _person(u, methods.get(uid, []))
            for uid, u in sorted(users.items(), key=lambda kv: str(kv[0]))
        },
        "teams": [
            {
                "name": t.name,
                "schedules": [s["name"] for s in schedules if t.name in s["teams"]],
                "members": sorted(str(m.user_id) for m in t.members),
            }
            for t in teams
        ],
        "schedules": schedules,
        "policies": policies,
    }


def digest(document: dict[str, Any]) -> str:
    body = {k: v for k, v in document.items() if k != "generated_at"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def write_atomically(path: Path, document: dict[str, Any]) -> None:
    """Write a temp file (mode 0600) beside ``path`` and rename it over: readers never see half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=".roster-", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(document, handle, indent=1, sort_keys=True)
            handle.flush()
            os.fsync(handle.fileno())
        Path(temp).replace(path)  # os.replace: atomic on one filesystem
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _stored_digest(path: Path) -> str | None:
    try:
        return digest(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


class Roster:
    """Rewrites the roster file when its content changes, at most every ``every``.

    The file is local to this machine, so the lease is per host and data directory:
    every machine running an engine keeps its own copy.
    """

    version = 1

    def __init__(self, data_dir: Path, *, every: timedelta = timedelta(seconds=60)) -> None:
        self.path = roster_path(data_dir)
        self.every = every
        where = f"{socket.gethostname()}:{Path(data_dir).resolve()}"
        self.name = "roster:" + hashlib.sha256(where.encode()).hexdigest()[:16]
        self.last_run_at: datetime | None = None
        self.last_digest: str | None = None

    def run(self, ctx: CycleContext) -> int:
        now = ctx.clock.now()
        if self.last_run_at is not None and now - self.last_run_at < self.every:
            return 0
        self.last_run_at = now
        with ctx.db.read() as tx:
            document = build(tx, now=now)
        fresh = digest(document)
        if self.last_digest is None:
            self.last_digest = _stored_digest(self.path)
        if fresh == self.last_digest and self.path.exists():
            # Unchanged: only note that it was checked (readers show the file's mtime).
            os.utime(self.path)
            return 0
        write_atomically(self.path, {**document, "generated_at": now.isoformat()})
        self.last_digest = fresh
        return 1
