"""Pure handoff rules: which starts and ends a range holds, whose notes go where, the messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tocsin.schedules import handoff_rules as hr
from tocsin.schedules.model import Shift

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def _shift(user: str, start: int, end: int, source: str = "layer:0") -> Shift:
    return Shift(user, T0 + start * H, T0 + end * H, source)


def test_a_change_of_person_is_an_end_and_a_start() -> None:
    shifts = [_shift("a", -5, 0), _shift("b", 0, 5)]
    found = hr.handoffs(shifts, T0 - 5 * H, T0 + 5 * H)
    assert found == [
        hr.Handoff("end", "a", T0, "b", T0 - 5 * H, T0),
        hr.Handoff("start", "b", T0, "a", T0, T0 + 5 * H, T0 - 5 * H),
    ]


def test_range_edges_are_not_handoffs_and_a_person_continuing_is_not_either() -> None:
    shifts = [_shift("a", 0, 2), _shift("a", 2, 4, "override"), _shift("b", 4, 6)]
    found = hr.handoffs(shifts, T0, T0 + 6 * H)
    assert [(h.kind, h.user, h.at) for h in found] == [
        ("end", "a", T0 + 4 * H),
        ("start", "b", T0 + 4 * H),
    ]
    assert found[1].counterpart_since == T0


def test_a_gap_has_no_counterpart() -> None:
    shifts = [_shift("a", 0, 2), _shift("b", 3, 5)]
    found = hr.handoffs(shifts, T0 - H, T0 + 6 * H)
    assert [(h.kind, h.user, h.counterpart) for h in found] == [
        ("start", "a", None),
        ("end", "a", None),
        ("start", "b", None),
        ("end", "b", None),
    ]
    assert hr.find(found, "start", "b", T0 + 3 * H) == found[2]
    assert hr.find(found, "start", "b", T0) is None


def test_notes_for_this_instant_or_left_by_the_outgoing_person_during_their_stretch() -> None:
    start = hr.Handoff("start", "b", T0, "a", T0, T0 + 5 * H, T0 - 10 * H)
    mine = hr.Note("a", "flapping", T0 - 2 * H)
    for_this = hr.Note("c", "for you", T0 - 20 * H)
    old = hr.Note("a", "last week", T0 - 11 * H)
    someone_else = hr.Note("c", "not mine", T0 - H)
    later = hr.Note("a", "after", T0 + H)
    other_instant = hr.Note("a", "other", T0 - H)
    notes = [
        ("a", None, mine),
        ("c", T0, for_this),
        ("a", None, old),
        ("c", None, someone_else),
        ("a", None, later),
        ("a", T0 + 5 * H, other_instant),
    ]
    assert hr.notes_for(start, notes) == [for_this, mine]
    end = hr.Handoff("end", "a", T0, "b", T0 - 10 * H, T0)
    assert hr.notes_for(end, notes) == []
    unknown_start = hr.Handoff("start", "b", T0, "a", T0, T0 + H)
    assert hr.notes_for(unknown_start, [("a", None, old)]) == [old]  # within NOTE_WINDOW


def test_messages_use_the_recipients_wall_clock() -> None:
    start = hr.Handoff("start", "b", T0, "a", T0, T0 + 168 * H, T0 - 168 * H)
    msg = hr.start_message(
        schedule="Payments",
        handoff=start,
        zone="America/New_York",
        names={"a": "Alice"},
        notes=[hr.Note("a", "Disk alerts", T0)],
        link="http://x/schedules/1",
    )
    assert msg.subject == "You are on call: Payments"
    assert "from Mon 2 Mar 04:00 EST until Mon 9 Mar 05:00 EDT" in msg.body
    assert "Alice hands over to you." in msg.body and "Handoff note from Alice:" in msg.body
    gap = hr.Handoff("start", "b", T0, None, T0, T0 + H)
    body = hr.start_message(
        schedule="P", handoff=gap, zone="Nowhere/Zone", names={}, notes=[], link="l"
    ).body
    assert "Nobody was on call just before you" in body and "09:00 UTC" in body
    end = hr.end_message(
        schedule="P",
        handoff=hr.Handoff("end", "a", T0, None, T0 - H, T0),
        zone="UTC",
        names={},
        link="l",
    )
    assert "Nobody takes over" in end.body
    taken = hr.end_message(
        schedule="P",
        handoff=hr.Handoff("end", "a", T0, "b", T0 - H, T0),
        zone="UTC",
        names={"b": "Bob"},
        link="l",
    )
    assert "Bob takes over." in taken.body and taken.subject == "Your shift ends: P"
    cover = hr.cover_message(
        schedule="P",
        requester="Alice",
        start_at=T0,
        end_at=T0 + H,
        reason="",
        zone="UTC",
        link="l",
    )
    assert "Reason" not in cover.body and cover.subject == "Can you cover Alice on P?"
