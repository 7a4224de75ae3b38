"""Pure decisions of the incidents slice: severity, priority, grouping, storms, transitions.

No database and no clock: callers pass plain values and the current instant.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from tocsin.kernel.errors import Conflict, ValidationFailed
from tocsin.services.rules import (
    GROUP_WINDOW_RANGE,
    GROUPING_FIELDS,
    GROUPING_MODES,
    PRIORITIES,
    RULE_FIELDS,
    RULE_OPS,
    STORM_RANGE,
    check_event_rules,
    check_grouping,
)

from .events import Event

# --- severity (SPEC §1): lower number = worse; SEV-2 and worse are "major" --------------

SEVERITY_SCALE: Final = (
    (1, "SEV-1", "Critical; public notice and executive liaison"),
    (2, "SEV-2", "Critical issue actively impacting many customers"),
    (3, "SEV-3", "Stability or minor customer impact; needs the owners now"),
    (4, "SEV-4", "Needs action, no customer impact"),
    (5, "SEV-5", "Cosmetic; no impact"),
)
MAJOR_AT_OR_BELOW: Final = 2


def severity_label(level: int | None) -> str:
    return "no severity" if level is None else f"SEV-{level}"


def check_severity(level: object, field: str = "severity") -> int:
    if isinstance(level, str) and level.upper().startswith("SEV-"):
        level = level[4:]
    if isinstance(level, bool) or not isinstance(level, int | str):
        raise ValidationFailed.one(field, "Give a severity from SEV-1 to SEV-5.")
    try:
        value = int(level)
    except ValueError:
        raise ValidationFailed.one(field, "Give a severity from SEV-1 to SEV-5.") from None
    if not any(value == number for number, _label, _meaning in SEVERITY_SCALE):
        raise ValidationFailed.one(field, "Give a severity from SEV-1 to SEV-5.")
    return value


def is_major(level: int | None) -> bool:
    """Major is derived, never set: SEV-2 and worse."""
    return level is not None and level <= MAJOR_AT_OR_BELOW


# --- priority of an alert (SPEC §1 "Alert priorities") -----------------------------------

Urgency = Literal["high", "low"]
URGENCIES: Final = ("high", "low")


# --- event rules per service: route, suppress, set priority ------------------------------


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """What the first matching event rule says (None: keep the service's behaviour)."""

    suppress: bool = False
    priority: str | None = None
    severity: str | None = None
    rule_index: int | None = None


def _event_field(event: Event, name: str) -> str:
    value = {
        "summary": event.summary,
        "source": event.source,
        "severity": event.severity,
        "component": event.component,
        "group": event.group,
        "class": event.class_,
        "client": event.client,
    }.get(name)
    return value or ""


def apply_event_rules(rules: Sequence[Mapping[str, Any]], event: Event) -> RuleOutcome:
    """The first rule whose condition holds decides; rules are checked in order."""
    for index, rule in enumerate(rules):
        text = _event_field(event, rule["field"])
        value = rule["value"]
        op = rule["op"]
        hit = (
            (op == "equals" and text == value)
            or (op == "contains" and value.lower() in text.lower())
            or (op == "matches" and re.search(value, text) is not None)
        )
        if hit:
            return RuleOutcome(
                suppress=bool(rule.get("suppress")),
                priority=rule.get("priority"),
                severity=rule.get("severity"),
                rule_index=index,
            )
    return RuleOutcome()


# --- alert quality (SPEC §1 "Good alert content") ----------------------------------------

QUALITY_FLAGS: Final = {
    "no_runbook": "No runbook link: say how to fix it or link a runbook.",
    "vague_summary": "The summary is not specific: say what is wrong and where.",
    "no_description": "No description: say what is wrong and why it matters.",
}
_VAGUE = re.compile(
    r"^\s*(alert|alarm|error|errors|problem|issue|warning|critical|test|firing|failure|"
    r"failed|down|check failed|something (is )?wrong)[\s!.]*$",
    re.IGNORECASE,
)
SUMMARY_SPECIFIC_MIN: Final = 12


def _has_runbook(event: Event) -> bool:
    for link in event.links:
        text = f"{link.get('href', '')} {link.get('text', '')}".lower()
        if "runbook" in text or "playbook" in text:
            return True
    details = event.custom_details
    if isinstance(details, dict):
        for key in ("runbook", "runbook_url", "playbook"):
            if isinstance(details.get(key), str) and details[key].strip():
                return True
        notes = details.get("annotations")
        if isinstance(notes, dict) and (notes.get("runbook_url") or notes.get("runbook")):
            return True
    return False


def _has_description(event: Event) -> bool:
    details = event.custom_details
    if isinstance(details, dict):
        for key in ("description", "details", "message", "text"):
            value = details.get(key)
            if isinstance(value, str) and len(value.strip()) >= SUMMARY_SPECIFIC_MIN:
                return True
        return False
    return isinstance(details, str) and len(details.strip()) >= SUMMARY_SPECIFIC_MIN


def quality_flags(event: Event, *, service_runbooks: bool = False) -> tuple[str, ...]:
    """Which good-content rules an alert breaks (keys of ``QUALITY_FLAGS``).

    A runbook on the service counts: responders find it on the incident page.
    """
    flags: list[str] = []
    if not (_has_runbook(event) or service_runbooks):
        flags.append("no_runbook")
    summary = event.summary.strip()
    if len(summary) < SUMMARY_SPECIFIC_MIN or _VAGUE.match(summary):
        flags.append("vague_summary")
    if not _has_description(event):
        flags.append("no_description")
    return tuple(flags)


# --- grouping alerts into incidents ------------------------------------------------------

STORM_WINDOW: Final = timedelta(minutes=1)


def group_key(grouping: Mapping[str, Any], event: Event) -> str | None:
    """The key alerts must share to join one incident (None: one incident per alert)."""
    mode = grouping.get("mode", "none")
    if mode == "time":
        return "time"
    if mode == "fields":
        return "|".join(f"{name}={_event_field(event, name)}" for name in grouping["fields"])
    return None


@dataclass(frozen=True, slots=True)
class OpenGroup:
    """An open incident that alerts may join: its group key and when it opened."""

    incident_id: Any
    number: int
    group_key: str | None
    created_at: datetime
    storm: bool


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a new alert goes: a new incident, or an open one, and the reason why."""

    join: OpenGroup | None
    reason: str
    storm: bool = False


def place_alert(
    *,
    grouping: Mapping[str, Any],
    key: str | None,
    candidates: Sequence[OpenGroup],
    new_incidents_last_minute: int,
    storm_threshold: int | None,
    now: datetime,
) -> Placement:
    """Decide which incident a new (non-suppressed) alert belongs to.

    1. Grouping (time window or fields): join the newest open incident with the same
       group key opened within the window.
    2. Storm protection: beyond ``storm_threshold`` new incidents in the last minute,
       join the service's open storm incident (or open one); nothing is dropped.
    3. Otherwise a new incident of its own.
    """
    if key is not None:
        window = timedelta(minutes=int(grouping.get("window_minutes", 10)))
        for group in sorted(candidates, key=lambda g: g.created_at, reverse=True):
            if group.storm or group.group_key != key:
                continue
            if now - group.created_at <= window:
                if grouping.get("mode") == "time":
                    why = (
                        f"Grouped by time: arrived within {window.seconds // 60} minutes "
                        f"of incident #{group.number} on the same service."
                    )
                else:
                    why = f"Grouped by fields: same {key.replace('|', ', ')} as #{group.number}."
                return Placement(join=group, reason=why)
    if storm_threshold is not None and new_incidents_last_minute >= storm_threshold:
        for group in candidates:
            if group.storm:
                return Placement(
                    join=group,
                    reason=(
                        f"Alert storm: more than {storm_threshold} new incidents a minute on this "
                        f"service, so further alerts join storm incident #{group.number}."
                    ),
                )
        return Placement(
            join=None,
            storm=True,
            reason=(
                f"Alert storm: more than {storm_threshold} new incidents a minute on this "
                "service; this storm incident collects the further alerts."
            ),
        )
    return Placement(join=None, reason="New incident: one alert, one incident (no grouping).")


STORM_NOTED_FIRST: Final = 20
STORM_NOTED_EVERY: Final = 100


def storm_join_is_noted(alert_count: int) -> bool:
    """Whether the timeline notes the alert that brought a storm to ``alert_count``.

    The first 20 joins are noted one by one, then every 100th with the running count:
    a storm of thousands stays readable; every alert is still listed on the incident.
    """
    return alert_count <= STORM_NOTED_FIRST or alert_count % STORM_NOTED_EVERY == 0


# --- lifecycle transitions ---------------------------------------------------------------

Status = Literal["triggered", "acknowledged", "resolved"]
STATUSES: Final = ("triggered", "acknowledged", "resolved")
SNOOZE_RANGE: Final = (1, 24 * 60)  # minutes


def check_transition(status: str, action: str, number: int) -> None:
    """Raise Conflict (stable code) when ``action`` makes no sense in ``status``."""
    if status == "resolved" and action in ("acknowledge", "resolve", "snooze", "reassign"):
        raise Conflict(
            "incident.already_resolved", f"Incident #{number} is already resolved.", "status"
        )
    if action == "snooze" and status != "acknowledged":
        raise Conflict(
            "incident.not_acknowledged",
            f"Acknowledge incident #{number} before snoozing it.",
            "status",
        )


def ack_deadline(acknowledged_at: datetime, ack_timeout_minutes: int | None) -> datetime | None:
    """When an unresolved acknowledged incident re-triggers (None: never)."""
    if ack_timeout_minutes is None:
        return None
    return acknowledged_at + timedelta(minutes=ack_timeout_minutes)


def auto_resolve_at(last_alert_at: datetime, auto_resolve_minutes: int | None) -> datetime | None:
    """When an incident with no new alerts resolves itself (None: never)."""
    if auto_resolve_minutes is None:
        return None
    return last_alert_at + timedelta(minutes=auto_resolve_minutes)


STORM_FIRST: Final = " (first: "


def title_for(summary: str, count: int, storm: bool) -> str:
    if storm:
        return f"Alert storm: {count} alert{'s' if count != 1 else ''}{STORM_FIRST}{summary})"[
            :1024
        ]
    return summary[:1024]


def storm_title(title: str, count: int) -> str:
    """A storm incident's title with a new alert count; its first alert's summary is kept.

    The summary is everything after the first " (first: " and before the one closing
    parenthesis the title adds (a summary may hold parentheses of its own).
    """
    _prefix, _sep, rest = title.partition(STORM_FIRST)
    return title_for(rest.removesuffix(")"), count, True)


__all__ = [
    "GROUPING_FIELDS",
    "GROUPING_MODES",
    "GROUP_WINDOW_RANGE",
    "PRIORITIES",
    "RULE_FIELDS",
    "RULE_OPS",
    "STORM_RANGE",
    "check_event_rules",
    "check_grouping",
]
