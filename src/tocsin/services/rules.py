"""Pure rules of the services slice: support hours, urgency, names, limits and runbook links."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from tocsin.kernel.errors import FieldError, ValidationFailed
from tocsin.people.rules import known_time_zones

URGENCY_RULES: Final = ("high", "low", "severity", "support_hours")
OUTSIDE_HOURS: Final = ("low", "hold")
INTEGRATION_KINDS: Final = ("events_v2", "alertmanager", "generic_webhook", "heartbeat")
SEVERITIES: Final = ("critical", "error", "warning", "info")
NAME_MAX: Final = 100
DESCRIPTION_MAX: Final = 2000
ACK_TIMEOUT_RANGE: Final = (1, 1440)  # minutes: up to a day
AUTO_RESOLVE_RANGE: Final = (1, 10080)  # minutes: up to a week
RUNBOOK_TITLE_MAX: Final = 200
RUNBOOK_URL_MAX: Final = 2000
MINUTES_PER_DAY: Final = 24 * 60

Urgency = Literal["high", "low", "held"]

_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def check_name(name: str, field: str = "name") -> str:
    value = name.strip()
    if not value:
        raise ValidationFailed.one(field, "Give the service a name.")
    if len(value) > NAME_MAX:
        raise ValidationFailed.one(field, f"Use at most {NAME_MAX} characters.")
    return value


def check_description(description: str, field: str = "description") -> str:
    value = description.strip()
    if len(value) > DESCRIPTION_MAX:
        raise ValidationFailed.one(field, f"Use at most {DESCRIPTION_MAX} characters.")
    return value


def check_choice(value: str, choices: Sequence[str], field: str) -> str:
    if value not in choices:
        raise ValidationFailed.one(field, f"Use one of: {', '.join(choices)}.")
    return value


def check_minutes(value: int | None, bounds: tuple[int, int], field: str) -> int | None:
    """None means "never"; otherwise a whole number of minutes inside ``bounds``."""
    if value is None:
        return None
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed.one(field, f"Use a whole number of minutes from {low} to {high}.")
    return value


def parse_hhmm(value: object) -> int | None:
    """Minutes after local midnight for ``"HH:MM"``, or None if malformed.

    ``"24:00"`` is accepted and means the end of the day (1440), so a window can run
    to midnight; any other hour 24 time (``"24:30"``) is malformed.
    """
    if not isinstance(value, str):
        return None
    match = _HHMM.match(value)
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if hours == 24 and minutes != 0:
        return None
    return hours * 60 + minutes


def check_support_hours(hours: object, field: str = "support_hours") -> dict[str, Any]:
    """Validate and normalise support hours; raise ValidationFailed naming every bad field.

    Shape: ``{"time_zone": IANA name, "windows": [{"days": [0..6], "start": "HH:MM",
    "end": "HH:MM"}]}`` with Monday = 0. Each window is a wall-clock range in that
    zone on each listed day, ``start`` inclusive, ``end`` exclusive, ``start < end``.
    ``"24:00"`` may end a window (until midnight) but not start one. A window never
    crosses midnight: split a night shift into two windows (22:00-24:00 and
    00:00-06:00 on the next days). At least one window is required. Days are
    returned sorted and without duplicates.
    """
    if not isinstance(hours, Mapping):
        raise ValidationFailed.one(field, "Give a time zone and a list of windows.")
    errors: list[FieldError] = []
    zone = hours.get("time_zone")
    if not isinstance(zone, str) or zone not in known_time_zones():
        errors.append(
            FieldError(
                f"{field}.time_zone",
                f"Unknown time zone {zone!r}; use an IANA name such as Europe/London.",
            )
        )
    windows = hours.get("windows")
    normal: list[dict[str, Any]] = []
    if not isinstance(windows, list) or not windows:
        errors.append(FieldError(f"{field}.windows", "Give at least one window."))
        windows = []
    for index, window in enumerate(windows):
        path = f"{field}.windows[{index}]"
        if not isinstance(window, Mapping):
            errors.append(FieldError(path, "Give days, start and end."))
            continue
        days = window.get("days")
        if (
            not isinstance(days, list)
            or not days
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days)
        ):
            errors.append(
                FieldError(f"{path}.days", "Give days as numbers 0 (Monday) to 6 (Sunday).")
            )
        start, end = parse_hhmm(window.get("start")), parse_hhmm(window.get("end"))
        if start is None or start >= MINUTES_PER_DAY:
            errors.append(
                FieldError(f"{path}.start", "Give a start time as HH:MM (00:00 to 23:59).")
            )
        if end is None:
            errors.append(FieldError(f"{path}.end", "Give an end time as HH:MM (00:01 to 24:00)."))
        elif start is not None and start < MINUTES_PER_DAY and end <= start:
            errors.append(
                FieldError(
                    f"{path}.end",
                    "End must be after start; split windows that cross midnight in two.",
                )
            )
        if isinstance(days, list):
            normal.append(
                {"days": sorted(set(days)), "start": window.get("start"), "end": window.get("end")}
            )
    if errors:
        raise ValidationFailed("Support hours are not valid.", errors)
    return {"time_zone": zone, "windows": normal}


def in_support_hours(hours: Mapping[str, Any], instant: datetime) -> bool:
    """Whether the aware ``instant`` falls inside ``hours`` (already validated).

    Windows are wall-clock times in the service's zone, evaluated with ``zoneinfo``:
    09:00-17:00 Europe/London is 08:00-16:00 UTC in summer and 09:00-17:00 UTC in
    winter. The weekday is the local one. On a spring-forward day local times in the
    gap never happen, so a window edge inside the gap is effectively moved to the
    end of the gap; on a fall-back day the repeated local hour counts each time it
    occurs. ``start`` is inclusive and ``end`` exclusive, to the second.
    """
    if instant.tzinfo is None:
        raise ValueError("naive datetime passed to in_support_hours")
    local = instant.astimezone(zoneinfo.ZoneInfo(hours["time_zone"]))
    seconds = local.hour * 3600 + local.minute * 60 + local.second + local.microsecond / 1e6
    for window in hours["windows"]:
        if local.weekday() not in window["days"]:
            continue
        start, end = parse_hhmm(window["start"]), parse_hhmm(window["end"])
        if start is None or end is None:  # pragma: no cover - validated on write
            continue
        if start * 60 <= seconds < end * 60:
            return True
    return False


def next_support_start(hours: Mapping[str, Any], instant: datetime) -> datetime | None:
    """The first instant after ``instant`` inside ``hours`` (None if no window in 8 days).

    Used to release alerts held outside support hours. A window start that falls in a
    spring-forward gap is read with the offset before the change (02:30 becomes 03:30).
    """
    zone = zoneinfo.ZoneInfo(hours["time_zone"])
    local = instant.astimezone(zone)
    best: datetime | None = None
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        for window in hours["windows"]:
            if day.weekday() not in window["days"]:
                continue
            start = parse_hhmm(window["start"])
            if start is None:  # pragma: no cover - validated on write
                continue
            wall = datetime(day.year, day.month, day.day, start // 60, start % 60, tzinfo=zone)
            candidate = wall.astimezone(UTC)
            if candidate > instant and (best is None or candidate < best):
                best = candidate
        if best is not None:
            return best
    return best


def urgency_for(rule: str, severity: str, in_hours: bool, outside_hours: str = "low") -> Urgency:
    """How urgently an event on a service pages (SPEC §1 "Alert priorities").

    - ``high``: always a high-urgency page, whatever the severity or hour.
    - ``low``: always a low-urgency notification.
    - ``severity``: PagerDuty's event severity decides: ``critical`` and ``error``
      are high, ``warning`` and ``info`` are low.
    - ``support_hours``: high inside the service's support hours; outside them
      ``outside_hours`` decides: ``low`` notifies at low urgency now, ``hold`` returns
      ``held`` (the alert is recorded and pages at high urgency when the hours begin).
    Raises ValueError for an unknown rule, severity or outside-hours choice: those are
    validated where they enter Tocsin, so reaching here with one is a bug.
    """
    if severity not in SEVERITIES:
        raise ValueError(f"unknown severity {severity!r}")
    if rule == "high":
        return "high"
    if rule == "low":
        return "low"
    if rule == "severity":
        return "high" if severity in ("critical", "error") else "low"
    if rule == "support_hours":
        if in_hours:
            return "high"
        if outside_hours == "low":
            return "low"
        if outside_hours == "hold":
            return "held"
        raise ValueError(f"unknown outside-hours choice {outside_hours!r}")
    raise ValueError(f"unknown urgency rule {rule!r}")


def check_runbook_links(links: object, field: str = "runbook_links") -> list[dict[str, str]]:
    """Validate ``[{"title", "url"}]``: a non-empty title and an absolute http(s) URL each.

    Other schemes (``javascript:``, ``file:``) are refused because the UI renders these
    as links people click during an incident.
    """
    if not isinstance(links, list):
        raise ValidationFailed.one(field, "Give a list of links with a title and a URL.")
    errors: list[FieldError] = []
    normal: list[dict[str, str]] = []
    for index, link in enumerate(links):
        path = f"{field}[{index}]"
        if not isinstance(link, Mapping):
            errors.append(FieldError(path, "Give a title and a URL."))
            continue
        title, url = link.get("title"), link.get("url")
        if not isinstance(title, str) or not title.strip() or len(title) > RUNBOOK_TITLE_MAX:
            errors.append(
                FieldError(f"{path}.title", f"Give a title of 1 to {RUNBOOK_TITLE_MAX} characters.")
            )
        if not isinstance(url, str) or not _is_web_url(url.strip()):
            errors.append(
                FieldError(f"{path}.url", "Give an http:// or https:// URL, e.g. https://wiki/x.")
            )
        if isinstance(title, str) and isinstance(url, str):
            normal.append({"title": title.strip(), "url": url.strip()})
    if errors:
        raise ValidationFailed("Runbook links are not valid.", errors)
    return normal


def _is_web_url(url: str) -> bool:
    if not url or len(url) > RUNBOOK_URL_MAX or any(c.isspace() for c in url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(host)


# --- alert handling per service: event rules, grouping, storm protection -----------------

PRIORITIES: Final = ("high", "medium", "low", "notification")
RULE_FIELDS: Final = ("summary", "source", "severity", "component", "group", "class", "client")
RULE_OPS: Final = ("equals", "contains", "matches")
RULES_MAX: Final = 50


def check_event_rules(raw: object, field: str = "event_rules") -> list[dict[str, Any]]:
    """Validate ``[{"field", "op", "value", "suppress"?, "priority"?, "severity"?}]``."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValidationFailed.one(field, "Give a list of rules.")
    if len(raw) > RULES_MAX:
        raise ValidationFailed.one(field, f"At most {RULES_MAX} rules.")
    problems: list[FieldError] = []
    kept: list[dict[str, Any]] = []
    for index, rule in enumerate(raw):
        where = f"{field}[{index}]"
        if not isinstance(rule, dict):
            problems.append(FieldError(where, "Each rule is an object."))
            continue
        if rule.get("field") not in RULE_FIELDS:
            problems.append(FieldError(f"{where}.field", f"Use one of {', '.join(RULE_FIELDS)}."))
        if rule.get("op") not in RULE_OPS:
            problems.append(FieldError(f"{where}.op", "Use equals, contains or matches."))
        value = rule.get("value")
        if not isinstance(value, str) or not value or len(value) > 500:
            problems.append(FieldError(f"{where}.value", "Give 1 to 500 characters."))
        elif rule.get("op") == "matches":
            try:
                re.compile(value)
            except re.error as exc:
                problems.append(FieldError(f"{where}.value", f"Not a regular expression: {exc}."))
        priority = rule.get("priority")
        if priority is not None and priority not in PRIORITIES:
            problems.append(
                FieldError(f"{where}.priority", "Use high, medium, low or notification.")
            )
        severity = rule.get("severity")
        if severity is not None and severity not in SEVERITIES:
            problems.append(
                FieldError(f"{where}.severity", "Use critical, error, warning or info.")
            )
        suppress = rule.get("suppress", False)
        if not isinstance(suppress, bool):
            problems.append(FieldError(f"{where}.suppress", "Give true or false."))
        if not suppress and priority is None and severity is None:
            problems.append(
                FieldError(where, "A rule must suppress or set a priority or severity.")
            )
        kept.append(
            {
                "field": rule.get("field"),
                "op": rule.get("op"),
                "value": value,
                "suppress": suppress,
                "priority": priority,
                "severity": severity,
            }
        )
    if problems:
        raise ValidationFailed("The event rules are not valid.", problems)
    return kept


GROUPING_MODES: Final = ("none", "time", "fields")
GROUPING_FIELDS: Final = ("source", "component", "group", "class", "severity")
GROUP_WINDOW_RANGE: Final = (1, 24 * 60)
STORM_RANGE: Final = (1, 10_000)


def check_grouping(raw: object, field: str = "grouping") -> dict[str, Any]:
    """``{"mode": none|time|fields, "window_minutes": n, "fields": [...]}``."""
    if raw is None:
        return {"mode": "none"}
    if not isinstance(raw, dict):
        raise ValidationFailed.one(field, "Give an object with a mode.")
    mode = raw.get("mode", "none")
    if mode not in GROUPING_MODES:
        raise ValidationFailed.one(f"{field}.mode", "Use none, time or fields.")
    if mode == "none":
        return {"mode": "none"}
    window = raw.get("window_minutes", 10)
    low, high = GROUP_WINDOW_RANGE
    if isinstance(window, bool) or not isinstance(window, int) or not low <= window <= high:
        raise ValidationFailed.one(
            f"{field}.window_minutes", f"Give a whole number of minutes from {low} to {high}."
        )
    result: dict[str, Any] = {"mode": mode, "window_minutes": window}
    if mode == "fields":
        fields = raw.get("fields")
        if (
            not isinstance(fields, list)
            or not fields
            or any(name not in GROUPING_FIELDS for name in fields)
        ):
            raise ValidationFailed.one(
                f"{field}.fields", f"Choose one or more of {', '.join(GROUPING_FIELDS)}."
            )
        result["fields"] = sorted(set(fields))
    return result


def check_storm_threshold(value: object, field: str = "storm_threshold") -> int | None:
    """New incidents a minute beyond which alerts join one storm incident (None: off)."""
    if value is None:
        return None
    low, high = STORM_RANGE
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValidationFailed.one(field, f"Give a whole number from {low} to {high}, or none.")
    return value
