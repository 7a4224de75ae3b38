"""Demo schedules: primary and backup rotations, IC and IC shadow, follow-the-sun, business hours.

``seed`` runs after the demo people and teams exist and is idempotent: it does
nothing once any schedule exists (a reused data directory keeps its schedules).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from tocsin.cli.context import CLI_ACTOR
from tocsin.people import repo as people_repo
from tocsin.people.tables import Team
from tocsin.schedules import actions, personal
from tocsin.schedules import repo as schedule_repo
from tocsin.schedules.convert import LayerInput

ENGINEERING: Final = ("Payments", "Storefront", "Data", "Security")
BUSINESS: Final = ("Customer Support", "Marketing", "Legal", "Finance", "Executives")
WEEK: Final = 168
WEEKDAYS: Final = [
    {"start": "09:00", "end": "17:30", "start_day": d, "end_day": d} for d in range(5)
]
# Follow the sun (UTC): Europe takes the morning, the Americas the afternoon, APAC the night.
SUN = (
    ("Europe", ("marcus.oduya", "lena.fischer", "priya.natarajan"), [("07:00", "15:00")]),
    ("Americas", ("diego.ramirez",), [("15:00", "23:00")]),
    ("Asia-Pacific", ("aiko.tanaka",), [("23:00", "00:00"), ("00:00", "07:00")]),
)


def _monday(now: datetime) -> date:
    """The Monday a week before this one: every rotation is already running today."""
    today = now.date()
    return today - timedelta(days=today.weekday() + 7)


def _members(team: Team) -> list[uuid.UUID]:
    """Team members in email order, so the rotation is the same on every run."""
    found = sorted(team.members, key=lambda m: m.user.email)
    return [m.user_id for m in found]


def _weekly(
    name: str,
    people: Sequence[uuid.UUID],
    start: date,
    *,
    turn_hours: int = WEEK,
    restrictions: Sequence[dict[str, object]] = (),
    shadows: Sequence[tuple[uuid.UUID, uuid.UUID]] = (),
) -> LayerInput:
    return LayerInput(
        name=name,
        participants=list(people),
        turn_hours=turn_hours,
        start_date=start,
        handoff_time="10:00",
        restrictions=restrictions,
        shadows=shadows,
    )


def _create(
    tx: Session, name: str, zone: str, team: Team, layers: list[LayerInput], now: datetime
) -> uuid.UUID:
    row = actions.create_schedule(
        tx,
        name=name,
        time_zone=zone,
        team_ids=[team.id],
        layers=layers,
        description=f"{team.name}: {layers[0].name.lower()} rotation." if layers else "",
        actor=CLI_ACTOR,
        now=now,
    )
    return row.id


def _user(tx: Session, handle: str) -> uuid.UUID:
    return people_repo.get_user_by_email(tx, f"{handle}@example.com").id


def seed(tx: Session, *, now: datetime) -> bool:
    """Create the demo schedules unless some exist or the demo teams do not; True if it did."""
    if schedule_repo.list_schedules(tx, limit=1):
        return False
    teams = {name: people_repo.find_team_by_name(tx, name) for name in (*ENGINEERING, *BUSINESS)}
    platform = people_repo.find_team_by_name(tx, "Platform")
    commanders = people_repo.find_team_by_name(tx, "Incident Commanders")
    if platform is None or commanders is None or None in teams.values():
        return False
    monday = _monday(now)
    ids: dict[str, uuid.UUID] = {}
    for name in ENGINEERING:
        team = teams[name]
        assert team is not None
        people = _members(team)
        zone = team.members[0].user.time_zone if team.members else "UTC"
        backup = people[1:] + people[:1]  # the backup follows the primary
        ids[f"{name} primary"] = _create(
            tx, f"{name} primary", zone, team, [_weekly("Primary", people, monday)], now
        )
        _create(tx, f"{name} backup", zone, team, [_weekly("Backup", backup, monday)], now)
    sun_layers = [
        _weekly(
            region,
            [_user(tx, h) for h in handles],
            monday,
            turn_hours=WEEK if len(handles) > 1 else 24,
            restrictions=[{"start": s, "end": e} for s, e in windows],
        )
        for region, handles, windows in SUN
    ]
    _create(tx, "Platform primary", "UTC", platform, sun_layers, now)
    platform_people = _members(platform)
    _create(
        tx,
        "Platform backup",
        "Europe/London",
        platform,
        [_weekly("Backup", platform_people[1:] + platform_people[:1], monday)],
        now,
    )
    ic_people = _members(commanders)
    trainee, mentor = _user(tx, "grace.kim"), _user(tx, "fatima.zahra")
    ic_main = _weekly(
        "Incident Commander",
        [p for p in ic_people if p != trainee],
        monday,
        shadows=[(trainee, mentor)],
    )
    _create(tx, "Incident Commander", "Europe/London", commanders, [ic_main], now)
    shadows = [trainee, _user(tx, "marcus.oduya"), _user(tx, "nora.lindqvist")]
    _create(
        tx,
        "Incident Commander shadow",
        "Europe/London",
        commanders,
        [_weekly("IC shadow", shadows, monday)],
        now,
    )
    for name in BUSINESS:
        team = teams[name]
        assert team is not None
        zone = team.members[0].user.time_zone if team.members else "UTC"
        hours = _weekly("Business hours", _members(team), monday, restrictions=WEEKDAYS)
        _create(tx, f"{name} business hours", zone, team, [hours], now)
    _unusual_days(tx, ids["Payments primary"], now)
    return True


def _unusual_days(tx: Session, payments: uuid.UUID, now: datetime) -> None:
    """One override (someone takes the pager) and one person on holiday."""
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(days=1)
    actions.add_override(
        tx,
        schedule_id=payments,
        user_id=_user(tx, "chloe.martin"),
        start_at=start,
        end_at=start + timedelta(hours=4),
        reason="Taking the pager while Raj is at the dentist.",
        actor=CLI_ACTOR,
        now=now,
    )
    holiday = start + timedelta(days=2)
    personal.add_time_off(
        tx,
        user_id=_user(tx, "kwame.asante"),
        start_at=holiday,
        end_at=holiday + timedelta(days=7),
        reason="Holiday in Ghana.",
        actor=CLI_ACTOR,
        now=now,
    )
