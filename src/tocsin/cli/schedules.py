"""Schedule commands: ``tocsin schedules`` and ``tocsin oncall`` (both accept --format json)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from sqlalchemy.orm import Session

from tocsin.cli.context import EXIT_REFUSED, EXIT_UNREACHABLE, container, globals_of, handled
from tocsin.cli.output import FORMAT_OPTION, Format, emit
from tocsin.engine.roster import roster_path
from tocsin.kernel.clock import SystemClock
from tocsin.kernel.errors import ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people.tables import User
from tocsin.schedules import calendar, convert, repo
from tocsin.schedules.tables import ScheduleRow

TEAM_OPTION = typer.Option(None, "--team", help="Only schedules owned by this team (name).")
AT_HELP = (
    'The instant to ask about, e.g. "2026-12-24 03:00" (read in the zone given by --tz, '
    "UTC by default) or ISO 8601 with an offset. Default: now."
)


def parse_at(value: str | None, tz: str) -> datetime | None:
    """A wall-clock time in ``tz`` (or ISO 8601 with an offset) as an aware instant."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {tz!r}", param_hint="--tz") from None
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("T", " "))
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a time; use YYYY-MM-DD HH:MM", param_hint="--at"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed.astimezone(UTC)


def _team_id(tx: Session, team: str | None) -> uuid.UUID | None:
    if team is None:
        return None
    found = people_repo.find_team_by_name(tx, team)
    if found is None:
        raise ValidationFailed.one("team", f"No team named {team}.")
    return found.id


def _person(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"id": str(user.id), "name": user.name, "email": user.email, "time_zone": user.time_zone}


def _oncall_rows(tx: Session, entries: list[repo.ScheduleOnCall]) -> list[dict[str, Any]]:
    keys = {o.user for e in entries for o in e.now} | {
        e.next.user for e in entries if e.next is not None
    }
    people = repo.users_by_id(tx, keys)
    teams = {t.id: t.name for t in people_repo.list_teams(tx, limit=100_000)}
    rows = []
    for e in entries:
        now_people = []
        for o in e.now:
            person = _person(people.get(convert.user_id_of(o.user)))
            if person is not None:
                now_people.append({**person, "source": o.source, "shadow": o.shadow})
        following = None
        if e.next is not None:
            person = _person(people.get(convert.user_id_of(e.next.user)))
            if person is not None:
                following = {**person, "start_at": e.next.start_at.isoformat()}
        rows.append(
            {
                "schedule_id": str(e.schedule.id),
                "schedule": e.schedule.name,
                "time_zone": e.schedule.time_zone,
                "teams": [teams[t.team_id] for t in e.schedule.teams if t.team_id in teams],
                "oncall": now_people,
                "until": e.current.end_at.isoformat() if e.current is not None else None,
                "next": following,
            }
        )
    return rows


def oncall(
    ctx: typer.Context,
    team: str | None = TEAM_OPTION,
    at: str | None = typer.Option(None, "--at", help=AT_HELP),
    tz: str = typer.Option("UTC", "--tz", help="IANA zone --at is read in (default UTC)."),
    fmt: Format = FORMAT_OPTION,
    offline: bool = typer.Option(
        False,
        "--offline",
        help="Read only the roster file the engine keeps in the data directory "
        "(works while the database is down): who is on call per team, with phone numbers.",
    ),
) -> None:
    """Who is on call (now, or --at a time) per schedule, until when, who is next."""
    when = parse_at(at, tz)
    if offline:
        _offline(ctx, team, when, fmt)
        return
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        instant = when or c.clock.now()
        entries = repo.oncall_now(tx, at=instant, team_id=_team_id(tx, team))
        rows = _oncall_rows(tx, entries)
    if fmt is Format.json:
        emit({"at": instant.isoformat(), "schedules": rows}, fmt)
        return
    emit(
        [
            {
                "schedule": r["schedule"],
                "teams": ", ".join(r["teams"]),
                "on call": ", ".join(
                    f"{p['name']} <{p['email']}>" + (" (shadow)" if p["shadow"] else "")
                    for p in r["oncall"]
                )
                or "(nobody)",
                "until": r["until"] or "",
                "next": r["next"]["name"] if r["next"] else "",
            }
            for r in rows
        ],
        fmt,
        columns=["schedule", "teams", "on call", "until", "next"],
    )


def list_schedules(
    ctx: typer.Context, team: str | None = TEAM_OPTION, fmt: Format = FORMAT_OPTION
) -> None:
    """Schedules with their zones, layers, who is on call now and the ICS feed URL."""
    with handled(fmt), container(ctx) as c, c.db.read() as tx:
        base_url = c.settings.base_url
        schedules = repo.list_schedules(tx, limit=100_000, team_id=_team_id(tx, team))
        now = c.clock.now()
        current = {
            r["schedule_id"]: r for r in _oncall_rows(tx, repo.oncall_of(tx, schedules, at=now))
        }
        rows = [_schedule_row(tx, s, current[str(s.id)], base_url) for s in schedules]
    if fmt is Format.json:
        emit(rows, fmt)
        return
    emit(
        [
            {
                "name": r["name"],
                "zone": r["time_zone"],
                "layers": r["layers"],
                "on call now": ", ".join(p["name"] for p in r["oncall"]) or "(nobody)",
                "ics feed": r["ics_feed_url"],
            }
            for r in rows
        ],
        fmt,
        columns=["name", "zone", "layers", "on call now", "ics feed"],
    )


def _schedule_row(
    tx: Session, row: ScheduleRow, current: dict[str, Any], base_url: str
) -> dict[str, Any]:
    people = repo.users_by_id(tx, convert.participants_of(row))
    return {
        "id": str(row.id),
        "name": row.name,
        "time_zone": row.time_zone,
        "participant_time_zones": sorted({u.time_zone for u in people.values()}),
        "teams": current["teams"],
        "layers": len(row.layers),
        "oncall": current["oncall"],
        "until": current["until"],
        "next": current["next"],
        "ics_feed_url": calendar.schedule_feed_pattern(base_url, row.id),
    }


def _offline(ctx: typer.Context, team: str | None, when: datetime | None, fmt: Format) -> None:
    """Answer from data_dir/roster.json alone: no container, no database connection."""
    path = roster_path(globals_of(ctx).settings().data_dir)
    try:
        roster = json.loads(path.read_text())
        written = datetime.fromisoformat(roster["generated_at"])
        checked = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except (OSError, ValueError, KeyError) as exc:
        message = (
            f"No usable roster file at {path} ({type(exc).__name__}). The engine writes it "
            "once a minute while it runs; start `tocsin engine` (or `tocsin serve`) once with "
            "this --data-dir."
        )
        _offline_fail(fmt, "roster.missing", message)
        raise typer.Exit(EXIT_UNREACHABLE) from None
    now = when or SystemClock().now()
    rows = offline_rows(roster, now)
    if team is not None:
        rows = [r for r in rows if r["team"].lower() == team.strip().lower()]
        if not rows:
            _offline_fail(fmt, "team.not_found", f"No team named {team} in the roster file.")
            raise typer.Exit(EXIT_REFUSED)
    minutes = max(0, int((now - written).total_seconds() // 60))
    checked_minutes = max(0, int((now - checked).total_seconds() // 60))
    if fmt is Format.json:
        emit(
            {
                "at": now.isoformat(),
                "offline": True,
                "roster_written_at": written.isoformat(),
                "roster_checked_at": checked.isoformat(),
                "teams": rows,
            },
            fmt,
        )
        return
    emit(
        [
            {
                "team": r["team"],
                "schedule": r["schedule"],
                "on call": "; ".join(
                    f"{p['name']} <{p['email']}> {' '.join(p['phones']) or '(no phone)'}"
                    for p in r["oncall"]
                )
                or "(nobody)",
                "until": r["until"] or "",
            }
            for r in rows
        ],
        fmt,
        columns=["team", "schedule", "on call", "until"],
    )
    typer.echo(
        f"roster written {minutes} minutes ago, checked {checked_minutes} minutes ago "
        f"({written:%Y-%m-%d %H:%M} UTC)"
    )


def _offline_fail(fmt: Format, code: str, message: str) -> None:
    if fmt is Format.json:
        emit({"error": {"code": code, "message": message, "fields": []}}, fmt)
    typer.echo(f"error: {message}", err=True)


def offline_rows(roster: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Per team and schedule, who is on call at ``now`` by the roster's rendered shifts."""
    people: dict[str, Any] = roster.get("people", {})
    schedules = {s["name"]: s for s in roster.get("schedules", [])}
    rows: list[dict[str, Any]] = []

    def person(key: str, shadow: bool) -> dict[str, Any]:
        found = people.get(key, {"name": key, "email": "", "phones": [], "methods": []})
        return {**found, "shadow": shadow}

    def row(team: str, schedule: dict[str, Any] | None) -> dict[str, Any]:
        if schedule is None:
            return {"team": team, "schedule": None, "oncall": [], "until": None}
        current = [
            s
            for s in schedule.get("shifts", [])
            if datetime.fromisoformat(s["start_at"]) <= now < datetime.fromisoformat(s["end_at"])
        ]
        oncall = [person(s["user"], False) for s in current]
        if current:
            oncall += [person(u, True) for u in schedule.get("shadows", [])]
        return {
            "team": team,
            "schedule": schedule["name"],
            "oncall": oncall,
            "until": current[0]["end_at"] if current else None,
        }

    owned: set[str] = set()
    for team in roster.get("teams", []):
        names = [n for n in team.get("schedules", []) if n in schedules]
        owned.update(names)
        rows.extend(row(team["name"], schedules[n]) for n in names)
        if not names:
            rows.append(row(team["name"], None))
    rows.extend(row("(no team)", s) for name, s in schedules.items() if name not in owned)
    return rows
