"""ICS calendar feeds of on-call shifts, per person and per schedule, behind feed tokens.

A feed token authenticates a person (``personal.rotate_calendar_token``); a wrong or
rotated token is NotFound, so adapters answer 404 without saying why.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from icalendar import Calendar, Event  # type: ignore[import-untyped]
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.kernel.ids import hash_secret
from tocsin.people.rules import allows
from tocsin.people.tables import User
from tocsin.schedules import convert, model, repo, rules
from tocsin.schedules.tables import ScheduleRow

PAST: Final = timedelta(weeks=2)
AHEAD: Final = timedelta(weeks=8)
USER_FEED_PATH: Final = "/calendars/users/{token}.ics"
SCHEDULE_FEED_PATH: Final = "/calendars/schedules/{schedule_id}/{token}.ics"
PRODID: Final = "-//Tocsin//On-call schedules//EN"


def schedule_feed_pattern(base_url: str, schedule_id: uuid.UUID) -> str:
    """The schedule's feed URL with a literal ``{token}`` for the reader's feed token."""
    path = SCHEDULE_FEED_PATH.replace("{schedule_id}", str(schedule_id))
    return base_url.rstrip("/") + path


def user_feed_pattern(base_url: str) -> str:
    return base_url.rstrip("/") + USER_FEED_PATH


def feed_urls(base_url: str, token: str, schedule_ids: Sequence[uuid.UUID]) -> dict[str, str]:
    """The person's own feed and one per schedule, for showing once after a rotation."""
    urls = {"user": user_feed_pattern(base_url).replace("{token}", token)}
    for schedule_id in schedule_ids:
        urls[str(schedule_id)] = schedule_feed_pattern(base_url, schedule_id).replace(
            "{token}", token
        )
    return urls


def _reader(tx: Session, token: str) -> User:
    row = repo.find_feed_token(tx, hash_secret(token)) if token else None
    user = tx.get(User, row.user_id) if row is not None else None
    if user is None or not user.is_active or not allows(user.role, "schedules.read"):
        raise NotFound("calendar", "feed")
    return user


def _uid(schedule_id: uuid.UUID, shift: model.Shift) -> str:
    """Stable per shift: the same shift keeps its UID from one fetch to the next."""
    key = f"{schedule_id}|{shift.user}|{shift.start_at.isoformat()}|{shift.source}"
    return hashlib.sha256(key.encode()).hexdigest()[:32] + "@tocsin"


def build_calendar(
    title: str,
    events: Sequence[tuple[ScheduleRow, model.Shift]],
    names: dict[str, str],
    now: datetime,
) -> bytes:
    """One VCALENDAR: a VEVENT per shift with a stable UID and UTC start and end."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", title)
    for schedule, shift in events:
        event = Event()
        event.add("uid", _uid(schedule.id, shift))
        event.add("dtstamp", now)
        event.add("dtstart", shift.start_at)
        event.add("dtend", shift.end_at)
        event.add("summary", f"On call: {schedule.name}")
        who = names.get(shift.user, shift.user)
        via = "override" if shift.source == model.OVERRIDE else shift.source.replace(":", " ")
        event.add("description", f"{who} is on call for {schedule.name} ({via}).")
        cal.add_component(event)
    return bytes(cal.to_ical())


def _shifts(
    tx: Session, rows: Sequence[ScheduleRow], now: datetime
) -> list[tuple[ScheduleRow, model.Shift]]:
    start, end = now - PAST, now + AHEAD
    loaded = repo.load_schedules(tx, rows, since=start)
    return [(row, s) for row in rows for s in rules.render(loaded[row.id], start, end)]


def user_feed(tx: Session, *, token: str, now: datetime) -> bytes:
    """The token holder's own shifts in every schedule, two weeks back, eight ahead."""
    user = _reader(tx, token)
    rows = [repo.get_schedule(tx, i) for i in repo.schedule_ids_with_user(tx, user.id)]
    key = convert.user_key(user.id)
    events = [(row, s) for row, s in _shifts(tx, rows, now) if s.user == key]
    return build_calendar(f"On call: {user.name}", events, {key: user.name}, now)


def schedule_feed(tx: Session, *, schedule_id: uuid.UUID, token: str, now: datetime) -> bytes:
    """Every shift of one schedule (whoever holds it), two weeks back, eight ahead."""
    _reader(tx, token)
    row = tx.get(ScheduleRow, schedule_id)
    if row is None:
        raise NotFound("calendar", "feed")
    events = _shifts(tx, [row], now)
    names = repo.display_names(tx, {s.user for _, s in events})
    return build_calendar(f"On call: {row.name}", events, names, now)
