"""Validation shared by the schedule actions: names, intervals, preview ranges, people."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Final

from sqlalchemy.orm import Session

from tocsin.kernel.errors import FieldError, ValidationFailed
from tocsin.schedules import model, repo
from tocsin.schedules.convert import LayerInput

MAX_PREVIEW_WEEKS: Final = 12


def check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > 100:
        raise ValidationFailed.one("name", "Give the schedule a name of 1 to 100 characters.")
    return value


def check_weeks(weeks: int) -> int:
    if not 1 <= weeks <= MAX_PREVIEW_WEEKS:
        raise ValidationFailed.one("weeks", f"Preview from 1 to {MAX_PREVIEW_WEEKS} weeks ahead.")
    return weeks


def check_interval(start_at: datetime, end_at: datetime, reason: str) -> None:
    """``start_at < end_at``, both aware, and a reason of at most 500 characters."""
    errors: list[FieldError] = []
    for field_name, value in (("start_at", start_at), ("end_at", end_at)):
        if not model.is_aware(value):
            errors.append(FieldError(field_name, "Give a time zone (aware datetime)."))
    if not errors and end_at <= start_at:
        errors.append(FieldError("end_at", "The end must be after the start."))
    if len(reason) > 500:
        errors.append(FieldError("reason", "Use at most 500 characters."))
    if errors:
        raise ValidationFailed("The interval is invalid.", errors)


def existing_users(tx: Session, layers: Sequence[LayerInput]) -> list[FieldError]:
    """A field error for every participant or shadow who is not a user."""
    wanted: set[uuid.UUID] = set()
    for layer in layers:
        wanted.update(layer.participants)
        for pair in layer.shadows:
            wanted.update(pair)
    known = set(repo.users_by_id(tx, wanted))
    errors: list[FieldError] = []
    for i, layer in enumerate(layers):
        for j, user_id in enumerate(layer.participants):
            if user_id not in known:
                errors.append(FieldError(f"layers[{i}].participants[{j}]", f"No user {user_id}."))
        for j, (user_id, shadowed) in enumerate(layer.shadows):
            if user_id not in known:
                errors.append(FieldError(f"layers[{i}].shadows[{j}].user", f"No user {user_id}."))
            if shadowed not in known:
                errors.append(
                    FieldError(f"layers[{i}].shadows[{j}].shadows_user", f"No user {shadowed}.")
                )
    return errors


def merged_errors(schedule: model.Schedule, errors: Sequence[FieldError]) -> list[FieldError]:
    """``errors`` plus what ``model.validate`` finds, without repeating a field."""
    found = list(errors)
    try:
        model.validate(schedule)
    except ValidationFailed as exc:
        seen = {e.field for e in found}
        found.extend(e for e in exc.fields if e.field not in seen)
    return found
