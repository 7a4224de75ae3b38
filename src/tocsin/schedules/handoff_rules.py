"""Pure handoff decisions: which shift starts and ends a rendered range holds, and what to say.

No database, no clock. A handoff is a change of person in the final schedule: two
touching shifts of the same person (a layer turn followed by their own override) are
one stretch on call and hand nothing over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tocsin.schedules.model import DAY_NAMES, Shift
from tocsin.schedules.preview import MONTH_NAMES

Kind = Literal["start", "end"]
KINDS: Final = ("start", "end")


@dataclass(frozen=True, slots=True)
class Handoff:
    """``user``'s stretch on call starts (``kind="start"``) or ends at ``at``.

    ``counterpart`` is the person handing over (for a start) or taking over (for an
    end), None at the edge of a gap. ``stretch_start``/``stretch_end`` bound the
    user's whole stretch as far as the rendered range shows it; ``counterpart_since``
    is when the outgoing counterpart's stretch began (starts only).
    """

    kind: Kind
    user: str
    at: datetime
    counterpart: str | None
    stretch_start: datetime
    stretch_end: datetime
    counterpart_since: datetime | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """A handoff note as the message needs it."""

    author: str
    text: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Message:
    subject: str
    body: str


def stretches(shifts: Sequence[Shift]) -> list[tuple[str, datetime, datetime]]:
    """Sorted shifts joined where the same person continues at the same instant."""
    out: list[tuple[str, datetime, datetime]] = []
    for shift in sorted(shifts, key=lambda s: s.start_at):
        if out and out[-1][0] == shift.user and out[-1][2] == shift.start_at:
            out[-1] = (shift.user, out[-1][1], shift.end_at)
        else:
            out.append((shift.user, shift.start_at, shift.end_at))
    return out


def handoffs(shifts: Sequence[Shift], start: datetime, end: datetime) -> list[Handoff]:
    """Every real start and end inside ``(start, end)`` of the shifts rendered over it.

    Instants on the range's own edges are left out: there the render cut a shift, and
    nothing is known about who was on call before ``start`` or after ``end``.
    """
    runs = stretches(shifts)
    out: list[Handoff] = []
    for i, (user, s, e) in enumerate(runs):
        before = runs[i - 1] if i > 0 and runs[i - 1][2] == s else None
        after = runs[i + 1] if i + 1 < len(runs) and runs[i + 1][1] == e else None
        if s > start:
            out.append(
                Handoff(
                    "start",
                    user,
                    s,
                    before[0] if before else None,
                    s,
                    e,
                    before[1] if before else None,
                )
            )
        if e < end:
            out.append(Handoff("end", user, e, after[0] if after else None, s, e))
    out.sort(key=lambda h: (h.at, h.kind != "end", h.user))
    return out


def find(found: Sequence[Handoff], kind: str, user: str, at: datetime) -> Handoff | None:
    """The handoff of ``user`` of ``kind`` at ``at`` among ``found``, if it still exists."""
    for handoff in found:
        if handoff.kind == kind and handoff.user == user and handoff.at == at:
            return handoff
    return None


def notes_for(handoff: Handoff, notes: Sequence[tuple[str, datetime | None, Note]]) -> list[Note]:
    """The notes an incoming person receives, oldest first.

    ``notes`` are ``(author, for_shift_start_at, note)``. A note made for this
    instant belongs here whoever wrote it; a note for "the next handoff" (None)
    belongs here when the outgoing person wrote it during the stretch now ending
    (or in the last ``NOTE_WINDOW`` when the range does not show where it began).
    """
    if handoff.kind != "start":
        return []
    picked: list[Note] = []
    for author, for_at, note in notes:
        if for_at is not None:
            if for_at == handoff.at:
                picked.append(note)
        elif (
            handoff.counterpart is not None
            and author == handoff.counterpart
            and note.created_at <= handoff.at
            and note.created_at > _outgoing_start(handoff)
        ):
            picked.append(note)
    picked.sort(key=lambda n: n.created_at)
    return picked


NOTE_WINDOW: Final = timedelta(weeks=4)


def _outgoing_start(handoff: Handoff) -> datetime:
    if handoff.counterpart_since is not None:
        return handoff.counterpart_since
    return handoff.at - NOTE_WINDOW


def when(instant: datetime, zone_name: str) -> str:
    """The instant on the wall clock of ``zone_name``: "Mon 7 Dec 09:00 GMT"."""
    try:
        zone = ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = instant.astimezone(zone)
    return (
        f"{DAY_NAMES[local.weekday()]} {local.day} {MONTH_NAMES[local.month - 1]} "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def start_message(
    *,
    schedule: str,
    handoff: Handoff,
    zone: str,
    names: Mapping[str, str],
    notes: Sequence[Note],
    link: str,
) -> Message:
    """What the incoming person receives when their stretch starts."""
    until = when(handoff.stretch_end, zone)
    lines = [f"You are on call for {schedule} from {when(handoff.at, zone)} until {until}."]
    if handoff.counterpart is not None:
        lines.append(f"{names.get(handoff.counterpart, 'Someone')} hands over to you.")
    else:
        lines.append("Nobody was on call just before you: check for anything left open.")
    for note in notes:
        author = names.get(note.author, "The previous person on call")
        lines += ["", f"Handoff note from {author}:", note.text]
    lines += ["", f"Schedule: {link}"]
    return Message(f"You are on call: {schedule}", "\n".join(lines) + "\n")


def end_message(
    *,
    schedule: str,
    handoff: Handoff,
    zone: str,
    names: Mapping[str, str],
    link: str,
) -> Message:
    """What the outgoing person receives when their stretch ends."""
    lines = [f"Your shift on {schedule} ends at {when(handoff.at, zone)}."]
    if handoff.counterpart is not None:
        lines.append(f"{names.get(handoff.counterpart, 'Someone')} takes over.")
    else:
        lines.append("Nobody takes over: the schedule has a gap. Tell the schedule's owners.")
    lines += [
        "",
        "Anything still flapping or likely to come back? Leave a handoff note for the next",
        f"person on the schedule: {link}",
    ]
    return Message(f"Your shift ends: {schedule}", "\n".join(lines) + "\n")


def cover_message(
    *,
    schedule: str,
    requester: str,
    start_at: datetime,
    end_at: datetime,
    reason: str,
    zone: str,
    link: str,
) -> Message:
    """What each teammate receives when someone asks for cover."""
    lines = [
        f"{requester} asks for cover on {schedule} from {when(start_at, zone)} "
        f"until {when(end_at, zone)}.",
    ]
    if reason:
        lines.append(f"Reason: {reason}")
    lines += ["", f"The first to accept takes the shift: {link}"]
    return Message(f"Can you cover {requester} on {schedule}?", "\n".join(lines) + "\n")
