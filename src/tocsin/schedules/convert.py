"""Between stored rows and the pure model: rows → ``model.Schedule``, inputs → layers.

People are named in the pure model by ``str(user_id)``; ``user_key``/``user_id_of``
convert both ways. Wall-clock values are stored as ``"HH:MM"`` strings.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from tocsin.kernel.errors import FieldError, ValidationFailed
from tocsin.schedules import model
from tocsin.schedules.tables import LayerRow, OverrideRow, ScheduleRow, TimeOffRow


@dataclass(frozen=True)
class LayerInput:
    """One layer as an adapter submits it (``replace_layers`` takes an ordered list).

    ``handoff_time`` is ``"HH:MM"``; ``restrictions`` are mappings with ``start`` and
    ``end`` (``"HH:MM"``) and optional ``start_day``/``end_day`` (0 = Monday); each
    shadow is ``(user_id, shadows_user_id)``.
    """

    participants: Sequence[uuid.UUID]
    turn_hours: int
    start_date: date
    handoff_time: str = "09:00"
    name: str = ""
    restrictions: Sequence[Mapping[str, Any]] = ()
    end_at: datetime | None = None
    on_holidays: str = "normal"
    shadows: Sequence[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=tuple)


def user_key(user_id: uuid.UUID) -> str:
    return str(user_id)


def user_id_of(key: str) -> uuid.UUID:
    return uuid.UUID(key)


def parse_clock(value: object, path: str, errors: list[FieldError]) -> time:
    """``"HH:MM"`` (or ``"HH:MM:SS"``) to a time; appends a field error and returns 00:00."""
    if isinstance(value, time):
        return value
    if isinstance(value, str):
        try:
            parsed = time.fromisoformat(value)
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                return parsed
    errors.append(FieldError(path, "Give a wall-clock time as HH:MM, such as 09:00."))
    return time(0)


def format_clock(value: time) -> str:
    return value.strftime("%H:%M") if value.second == 0 else value.isoformat()


def _day(value: object, path: str, errors: list[FieldError]) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    errors.append(FieldError(path, "Use a weekday number from 0 (Mon) to 6 (Sun)."))
    return None


def restriction_of(
    data: Mapping[str, Any], path: str, errors: list[FieldError]
) -> model.Restriction:
    """Parse one stored or submitted restriction; shape errors go to ``errors``."""
    start = parse_clock(data.get("start"), f"{path}.start", errors)
    end = parse_clock(data.get("end"), f"{path}.end", errors)
    start_day = _day(data.get("start_day"), f"{path}.start_day", errors)
    end_day = _day(data.get("end_day"), f"{path}.end_day", errors)
    return model.Restriction(start, end, start_day, end_day)


def restriction_json(r: model.Restriction) -> dict[str, Any]:
    return {
        "start": format_clock(r.start),
        "end": format_clock(r.end),
        "start_day": r.start_day,
        "end_day": r.end_day,
    }


def layer_of_input(layer: LayerInput, path: str, errors: list[FieldError]) -> model.Layer:
    """The pure layer for one input; shape errors (bad clock strings) go to ``errors``."""
    restrictions = tuple(
        restriction_of(r, f"{path}.restrictions[{j}]", errors)
        for j, r in enumerate(layer.restrictions)
    )
    return model.Layer(
        participants=tuple(user_key(p) for p in layer.participants),
        turn_hours=layer.turn_hours,
        start=layer.start_date,
        handoff=parse_clock(layer.handoff_time, f"{path}.handoff_time", errors),
        restrictions=restrictions,
        end=layer.end_at,
        shadows=tuple(model.Shadow(user_key(u), user_key(s)) for u, s in layer.shadows),
        on_holidays=layer.on_holidays,  # type: ignore[arg-type]  # validate() checks it
    )


def layer_of_row(row: LayerRow) -> model.Layer:
    errors: list[FieldError] = []
    restrictions = tuple(
        restriction_of(r, f"restrictions[{j}]", errors) for j, r in enumerate(row.restrictions)
    )
    if errors:  # rows are validated before they are written; this is corruption
        raise ValidationFailed("A stored layer is unreadable.", errors)
    on_holidays: model.OnHolidays = (
        row.on_holidays if row.on_holidays in ("off", "only") else "normal"  # type: ignore[assignment]
    )
    return model.Layer(
        participants=tuple(user_key(p.user_id) for p in row.participants),
        turn_hours=row.turn_hours,
        start=row.start_date,
        handoff=parse_clock(row.handoff_time, "handoff_time", errors),
        restrictions=restrictions,
        end=row.end_at,
        shadows=tuple(
            model.Shadow(user_key(s.user_id), user_key(s.shadows_user_id)) for s in row.shadows
        ),
        on_holidays=on_holidays,
    )


def calendar_of(row: ScheduleRow) -> model.HolidayCalendar | None:
    if row.holiday_country is None:
        return None
    return model.HolidayCalendar(row.holiday_country, row.holiday_subdivision)


def override_of(row: OverrideRow) -> model.Override:
    return model.Override(user_key(row.user_id), row.start_at, row.end_at)


def time_off_of(row: TimeOffRow) -> model.TimeOff:
    return model.TimeOff(user_key(row.user_id), row.start_at, row.end_at)


def schedule_of(
    row: ScheduleRow,
    overrides: Iterable[OverrideRow] = (),
    time_off: Iterable[TimeOffRow] = (),
    *,
    layers: Sequence[model.Layer] | None = None,
) -> model.Schedule:
    """The pure schedule of ``row``; ``layers`` replaces the stored ones (for previews)."""
    return model.Schedule(
        time_zone=row.time_zone,
        layers=tuple(layers) if layers is not None else tuple(layer_of_row(x) for x in row.layers),
        overrides=tuple(override_of(o) for o in sorted(overrides, key=lambda o: o.start_at)),
        time_off=tuple(time_off_of(t) for t in time_off),
        holidays=calendar_of(row),
    )


def participants_of(row: ScheduleRow) -> list[uuid.UUID]:
    """Everyone in the schedule's layers (participants and shadows), first appearance order."""
    seen: dict[uuid.UUID, None] = {}
    for layer in row.layers:
        for p in layer.participants:
            seen.setdefault(p.user_id, None)
        for s in layer.shadows:
            seen.setdefault(s.user_id, None)
    return list(seen)
