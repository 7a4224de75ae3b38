"""Pure escalation rules: validating a policy, walking its levels, choosing whom to page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from tocsin.kernel.errors import FieldError, ValidationFailed

TARGET_KINDS: Final = ("user", "schedule", "team")
DEFAULT_DELAY_MINUTES: Final = 5
MIN_DELAY_MINUTES: Final = 1
MAX_DELAY_MINUTES: Final = 24 * 60
MAX_REPEAT: Final = 9
MAX_LEVELS: Final = 10
MAX_TARGETS: Final = 20


@dataclass(frozen=True)
class Target:
    kind: str  # user | schedule | team
    id: str


@dataclass(frozen=True)
class Level:
    delay_minutes: int
    targets: tuple[Target, ...]
    round_robin: bool = False


@dataclass(frozen=True)
class Policy:
    levels: tuple[Level, ...]
    repeat: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "repeat": self.repeat,
            "levels": [level_json(level) for level in self.levels],
        }


def level_json(level: Level) -> dict[str, Any]:
    return {
        "delay_minutes": level.delay_minutes,
        "round_robin": level.round_robin,
        "targets": [{"kind": t.kind, "id": t.id} for t in level.targets],
    }


def policy_from_json(data: Mapping[str, Any]) -> Policy:
    """The snapshot stored on a state (already validated when the policy was saved)."""
    return Policy(
        levels=tuple(
            Level(
                delay_minutes=int(level["delay_minutes"]),
                round_robin=bool(level.get("round_robin", False)),
                targets=tuple(Target(t["kind"], str(t["id"])) for t in level["targets"]),
            )
            for level in data.get("levels", [])
        ),
        repeat=int(data.get("repeat", 0)),
    )


def parse_levels(raw: object, *, known: Mapping[str, set[str]]) -> tuple[Level, ...]:
    """Levels from API/form input, with every problem named by its field path.

    ``known`` maps a target kind to the ids that exist; an unknown id is refused.
    """
    problems: list[FieldError] = []
    if not isinstance(raw, list) or not raw:
        raise ValidationFailed.one("levels", "A policy needs at least one level.")
    if len(raw) > MAX_LEVELS:
        raise ValidationFailed.one("levels", f"At most {MAX_LEVELS} levels.")
    levels: list[Level] = []
    for i, item in enumerate(raw):
        path = f"levels[{i}]"
        if not isinstance(item, Mapping):
            problems.append(FieldError(path, "A level is an object."))
            continue
        delay = item.get("delay_minutes", DEFAULT_DELAY_MINUTES)
        if (
            isinstance(delay, bool)
            or not isinstance(delay, int)
            or not MIN_DELAY_MINUTES <= delay <= MAX_DELAY_MINUTES
        ):
            problems.append(
                FieldError(
                    f"{path}.delay_minutes",
                    f"The delay is a whole number of minutes from {MIN_DELAY_MINUTES} "
                    f"to {MAX_DELAY_MINUTES}.",
                )
            )
            delay = DEFAULT_DELAY_MINUTES
        targets_raw = item.get("targets")
        targets: list[Target] = []
        if not isinstance(targets_raw, list) or not targets_raw:
            problems.append(
                FieldError(
                    f"{path}.targets", "A level needs at least one person, schedule or team."
                )
            )
            targets_raw = []
        if len(targets_raw) > MAX_TARGETS:
            problems.append(FieldError(f"{path}.targets", f"At most {MAX_TARGETS} targets."))
        for j, t in enumerate(targets_raw):
            tpath = f"{path}.targets[{j}]"
            if not isinstance(t, Mapping) or t.get("kind") not in TARGET_KINDS:
                problems.append(
                    FieldError(f"{tpath}.kind", "A target is a user, schedule or team.")
                )
                continue
            tid = str(t.get("id", "")).strip()
            if tid not in known.get(str(t["kind"]), set()):
                problems.append(FieldError(f"{tpath}.id", f"No {t['kind']} with this id."))
                continue
            target = Target(str(t["kind"]), tid)
            if target in targets:
                problems.append(FieldError(f"{tpath}.id", "This target is already in the level."))
                continue
            targets.append(target)
        round_robin = item.get("round_robin", False)
        if not isinstance(round_robin, bool):
            problems.append(FieldError(f"{path}.round_robin", "round_robin is true or false."))
            round_robin = False
        levels.append(Level(int(delay), tuple(targets), round_robin))
    if problems:
        raise ValidationFailed("The escalation policy is not valid.", problems)
    return tuple(levels)


def check_repeat(repeat: object) -> int:
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 0 <= repeat <= MAX_REPEAT:
        raise ValidationFailed.one(
            "repeat", f"Repeat the policy 0 to {MAX_REPEAT} times after the first pass."
        )
    return repeat


@dataclass(frozen=True)
class Position:
    level: int
    loop: int


def after(policy: Policy, position: Position) -> Position | None:
    """The level paged after ``position``, or None when every level and repeat is spent."""
    if position.level + 1 < len(policy.levels):
        return Position(position.level + 1, position.loop)
    if position.loop < policy.repeat:
        return Position(0, position.loop + 1)
    return None


def next_step_at(policy: Policy, position: Position, paged_at: datetime) -> datetime:
    """The level at ``position`` waits its delay before the next level is paged."""
    return paged_at + timedelta(minutes=policy.levels[position.level].delay_minutes)


@dataclass(frozen=True)
class Recipient:
    """A person to page and why: directly, on call for a schedule (maybe as shadow), or team."""

    user_id: str
    via: str  # user | schedule | team
    via_id: str
    shadow: bool = False


def recipients(
    level: Level,
    *,
    oncall: Mapping[str, Sequence[tuple[str, bool]]],
    members: Mapping[str, Sequence[str]],
    rotation: int = 0,
) -> list[Recipient]:
    """Whom a level pages, in target order, each person once.

    ``oncall`` maps a schedule id to (user id, is shadow) pairs on call now; ``members``
    maps a team id to its member ids. With round robin only one non-shadow person is
    paged (the ``rotation``-th, wrapping); shadows of that person still ride along.
    """
    out: list[Recipient] = []
    seen: set[str] = set()

    def add(r: Recipient) -> None:
        if r.user_id not in seen:
            seen.add(r.user_id)
            out.append(r)

    for target in level.targets:
        if target.kind == "user":
            add(Recipient(target.id, "user", target.id))
        elif target.kind == "schedule":
            for user_id, shadow in oncall.get(target.id, ()):
                add(Recipient(user_id, "schedule", target.id, shadow))
        else:
            for user_id in members.get(target.id, ()):
                add(Recipient(user_id, "team", target.id))
    if not level.round_robin:
        return out
    acting = [r for r in out if not r.shadow]
    if not acting:
        return out
    chosen = acting[rotation % len(acting)]
    return [chosen, *(r for r in out if r.shadow)]
