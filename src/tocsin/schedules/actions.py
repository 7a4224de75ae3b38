"""Use cases of schedules: schedules, layers, overrides, time off, each with a dry run.

Actions never commit; the adapter owns the transaction. Everything is validated
before anything is written, and every change is audited. ``preview_*`` functions
take the same arguments as their action and return ``preview.diff`` of the final
schedule over the next ``weeks`` weeks without writing anything.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import Conflict, FieldError, ValidationFailed
from tocsin.people import repo as people_repo
from tocsin.people.rules import authorize
from tocsin.schedules import convert, model, preview, repo
from tocsin.schedules.checks import (
    check_interval,
    check_name,
    check_weeks,
    existing_users,
    merged_errors,
)
from tocsin.schedules.convert import LayerInput
from tocsin.schedules.tables import (
    LayerParticipant,
    LayerRow,
    LayerShadow,
    OverrideRow,
    ScheduleRow,
    ScheduleTeam,
)

PREVIEW_WEEKS: Final = 2
_UNSET: Any = object()


def create_schedule(
    tx: Session,
    *,
    name: str,
    time_zone: str,
    actor: Actor,
    now: datetime,
    description: str = "",
    team_ids: Sequence[uuid.UUID] = (),
    holiday_country: str | None = None,
    holiday_subdivision: str | None = None,
    layers: Sequence[LayerInput] = (),
) -> ScheduleRow:
    """Create a schedule (optionally with its layers). Conflict ``schedule.name_taken``."""
    authorize(actor, "schedules.write")
    name = check_name(name)
    if len(description) > 2000:
        raise ValidationFailed.one("description", "Use at most 2000 characters.")
    probe = ScheduleRow(
        name=name,
        time_zone=time_zone,
        description=description,
        holiday_country=holiday_country,
        holiday_subdivision=holiday_subdivision,
    )
    pure_layers = _checked_layers(tx, probe, layers, team_ids=team_ids)
    if repo.find_schedule_by_name(tx, name) is not None:
        raise Conflict("schedule.name_taken", f"A schedule named {name} already exists.", "name")
    probe.created_at = probe.updated_at = now
    probe.teams = [ScheduleTeam(team_id=t) for t in dict.fromkeys(team_ids)]
    tx.add(probe)
    tx.flush()
    _write_layers(tx, probe, layers)
    audit.record(
        tx,
        actor=actor,
        kind="schedule.created",
        subject_type="schedule",
        subject_id=probe.id,
        at=now,
        data={"name": name, "time_zone": time_zone, "layers": len(pure_layers)},
    )
    return probe


def update_schedule(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    time_zone: str | None = None,
    description: str | None = None,
    team_ids: Sequence[uuid.UUID] | None = None,
    holiday_country: str | None = _UNSET,
    holiday_subdivision: str | None = _UNSET,
) -> ScheduleRow:
    """Change a schedule; arguments left out keep their value (None clears the holidays).

    The changed schedule is validated as a whole (its layers against the new zone and
    calendar) before anything changes. An unchanged value records nothing.
    """
    authorize(actor, "schedules.write")
    row = repo.get_schedule(tx, schedule_id)
    new_name = check_name(name) if name is not None else row.name
    if description is not None and len(description) > 2000:
        raise ValidationFailed.one("description", "Use at most 2000 characters.")
    values: dict[str, Any] = {
        "name": new_name,
        "time_zone": row.time_zone if time_zone is None else time_zone,
        "description": row.description if description is None else description,
        "holiday_country": row.holiday_country if holiday_country is _UNSET else holiday_country,
        "holiday_subdivision": row.holiday_subdivision
        if holiday_subdivision is _UNSET
        else holiday_subdivision,
    }
    if holiday_country is None and holiday_subdivision is _UNSET:
        values["holiday_subdivision"] = None
    probe = ScheduleRow(**values)
    stored = [convert.layer_of_row(x) for x in row.layers]
    _validate(tx, convert.schedule_of(probe, layers=stored), team_ids=team_ids or ())
    if new_name != row.name:
        other = repo.find_schedule_by_name(tx, new_name)
        if other is not None and other.id != row.id:
            raise Conflict(
                "schedule.name_taken", f"A schedule named {new_name} already exists.", "name"
            )
    changed = [k for k, v in values.items() if getattr(row, k) != v]
    for key in changed:
        setattr(row, key, values[key])
    if team_ids is not None and {t.team_id for t in row.teams} != set(team_ids):
        row.teams = [ScheduleTeam(team_id=t) for t in dict.fromkeys(team_ids)]
        changed.append("teams")
    if changed:
        row.updated_at = now
        tx.flush()
        audit_schedule(tx, actor, "schedule.updated", row.id, now, {"fields": changed})
    return row


def delete_schedule(tx: Session, *, schedule_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    """Delete a schedule with its layers, overrides, cover requests and notes."""
    authorize(actor, "schedules.write")
    row = repo.get_schedule(tx, schedule_id)
    audit_schedule(tx, actor, "schedule.deleted", row.id, now, {"name": row.name})
    tx.delete(row)
    tx.flush()


def replace_layers(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    layers: Sequence[LayerInput],
    actor: Actor,
    now: datetime,
) -> ScheduleRow:
    """Replace the whole ordered list of layers (field errors name ``layers[i]…``)."""
    authorize(actor, "schedules.write")
    row = repo.get_schedule(tx, schedule_id)
    _checked_layers(tx, row, layers)
    row.layers.clear()
    tx.flush()
    _write_layers(tx, row, layers)
    row.updated_at = now
    audit_schedule(tx, actor, "schedule.layers_replaced", row.id, now, {"layers": len(layers)})
    return row


def preview_replace_layers(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    layers: Sequence[LayerInput],
    actor: Actor,
    now: datetime,
    weeks: int = PREVIEW_WEEKS,
) -> preview.Preview:
    authorize(actor, "schedules.write")
    check_weeks(weeks)
    row = repo.get_schedule(tx, schedule_id)
    after_layers = _checked_layers(tx, row, layers)
    before = repo.load_schedule(tx, row, since=now)
    after = model.Schedule(
        before.time_zone, tuple(after_layers), before.overrides, before.time_off, before.holidays
    )
    return diff_over(tx, before, after, now, weeks)


def add_override(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    user_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
) -> OverrideRow:
    """Put ``user_id`` on call from ``start_at`` to ``end_at`` whoever the layers say.

    Conflict ``override.overlaps`` (field ``start_at``) when another override of the
    schedule overlaps.
    """
    authorize(actor, "schedules.write")
    row = repo.get_schedule(tx, schedule_id)
    _check_override(tx, row.id, user_id, start_at, end_at, reason)
    override = OverrideRow(
        schedule_id=row.id,
        user_id=user_id,
        start_at=start_at,
        end_at=end_at,
        reason=reason,
        created_by=actor.user_id,
        created_at=now,
    )
    tx.add(override)
    tx.flush()
    data = {"override_id": str(override.id), "user_id": str(user_id)}
    audit_schedule(tx, actor, "schedule.override_added", row.id, now, data)
    return override


def preview_add_override(
    tx: Session,
    *,
    schedule_id: uuid.UUID,
    user_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    actor: Actor,
    now: datetime,
    reason: str = "",
    weeks: int = PREVIEW_WEEKS,
) -> preview.Preview:
    authorize(actor, "schedules.write")
    check_weeks(weeks)
    row = repo.get_schedule(tx, schedule_id)
    _check_override(tx, row.id, user_id, start_at, end_at, reason)
    before = repo.load_schedule(tx, row, since=now)
    added = model.Override(convert.user_key(user_id), start_at, end_at)
    overrides = tuple(sorted((*before.overrides, added), key=lambda o: o.start_at))
    after = model.Schedule(
        before.time_zone, before.layers, overrides, before.time_off, before.holidays
    )
    return diff_over(tx, before, after, now, weeks)


def remove_override(tx: Session, *, override_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    authorize(actor, "schedules.write")
    override = repo.get_override(tx, override_id)
    data = {"override_id": str(override.id), "user_id": str(override.user_id)}
    audit_schedule(tx, actor, "schedule.override_removed", override.schedule_id, now, data)
    tx.delete(override)
    tx.flush()


def preview_remove_override(
    tx: Session,
    *,
    override_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    weeks: int = PREVIEW_WEEKS,
) -> preview.Preview:
    authorize(actor, "schedules.write")
    check_weeks(weeks)
    override = repo.get_override(tx, override_id)
    row = repo.get_schedule(tx, override.schedule_id)
    before = repo.load_schedule(tx, row, since=now)
    gone = convert.override_of(override)
    after = model.Schedule(
        before.time_zone,
        before.layers,
        tuple(o for o in before.overrides if o != gone),
        before.time_off,
        before.holidays,
    )
    return diff_over(tx, before, after, now, weeks)


# Helpers -------------------------------------------------------------------------------


def audit_schedule(
    tx: Session, actor: Actor, kind: str, schedule_id: uuid.UUID, now: datetime, data: Any
) -> None:
    audit.record(
        tx,
        actor=actor,
        kind=kind,
        subject_type="schedule",
        subject_id=schedule_id,
        at=now,
        data=data,
    )


def _validate(
    tx: Session,
    schedule: model.Schedule,
    *,
    team_ids: Sequence[uuid.UUID] = (),
    shape: Sequence[FieldError] = (),
    layers: Sequence[LayerInput] = (),
) -> None:
    errors = list(shape)
    known_teams = {t.id for t in people_repo.list_teams(tx, limit=100_000)} if team_ids else set()
    for i, team_id in enumerate(team_ids):
        if team_id not in known_teams:
            errors.append(FieldError(f"team_ids[{i}]", f"No team {team_id}."))
    errors.extend(existing_users(tx, layers))
    for i, layer in enumerate(layers):
        if len(layer.name) > 100:
            errors.append(FieldError(f"layers[{i}].name", "Use at most 100 characters."))
    found = merged_errors(schedule, errors)
    if found:
        raise ValidationFailed("The schedule has invalid fields.", found)


def _checked_layers(
    tx: Session,
    row: ScheduleRow,
    layers: Sequence[LayerInput],
    *,
    team_ids: Sequence[uuid.UUID] = (),
) -> list[model.Layer]:
    shape: list[FieldError] = []
    pure = [convert.layer_of_input(x, f"layers[{i}]", shape) for i, x in enumerate(layers)]
    _validate(
        tx, convert.schedule_of(row, layers=pure), team_ids=team_ids, shape=shape, layers=layers
    )
    return pure


def _write_layers(tx: Session, row: ScheduleRow, layers: Sequence[LayerInput]) -> None:
    for position, layer in enumerate(layers):
        shape: list[FieldError] = []
        restrictions = [
            convert.restriction_json(convert.restriction_of(r, "", shape))
            for r in layer.restrictions
        ]
        stored = LayerRow(
            schedule_id=row.id,
            position=position,
            name=layer.name.strip(),
            turn_hours=layer.turn_hours,
            start_date=layer.start_date,
            handoff_time=convert.format_clock(convert.parse_clock(layer.handoff_time, "", shape)),
            restrictions=restrictions,
            end_at=layer.end_at,
            on_holidays=layer.on_holidays,
        )
        stored.participants = [
            LayerParticipant(position=j, user_id=u) for j, u in enumerate(layer.participants)
        ]
        stored.shadows = [LayerShadow(user_id=u, shadows_user_id=s) for u, s in layer.shadows]
        row.layers.append(stored)
    tx.flush()


def _check_override(
    tx: Session,
    schedule_id: uuid.UUID,
    user_id: uuid.UUID,
    start_at: datetime,
    end_at: datetime,
    reason: str,
) -> None:
    check_interval(start_at, end_at, reason)
    if not repo.users_by_id(tx, [user_id]):
        raise ValidationFailed.one("user_id", f"No user {user_id}.")
    overlapping = repo.list_overrides(
        tx, [schedule_id], ending_after=start_at, starting_before=end_at
    )
    if overlapping:
        other = overlapping[0]
        raise Conflict(
            "override.overlaps",
            f"This overlaps another override ({other.start_at:%Y-%m-%d %H:%M} to "
            f"{other.end_at:%Y-%m-%d %H:%M} UTC); remove or shorten it first.",
            "start_at",
        )


def diff_over(
    tx: Session, before: model.Schedule, after: model.Schedule, now: datetime, weeks: int
) -> preview.Preview:
    end = now + timedelta(weeks=weeks)
    keys = {p for s in (before, after) for layer in s.layers for p in layer.participants}
    keys |= {o.user for s in (before, after) for o in s.overrides}
    return preview.diff(before, after, now, end, names=repo.display_names(tx, keys))
