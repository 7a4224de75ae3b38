"""Inbound webhooks turned into events: Prometheus Alertmanager (v4) and generic JSON.

Pure: each function takes the decoded body (and, for the generic webhook, the
integration's field mapping) and returns :class:`~tocsin.incidents.events.Event`
values, or raises :class:`~tocsin.incidents.events.EventRejected`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from tocsin.kernel.errors import FieldError, ValidationFailed

from .events import (
    DEDUP_KEY_MAX,
    SEVERITIES,
    SUMMARY_MAX,
    Event,
    EventRejected,
    _timestamp,
)

ALERTMANAGER_MAX_ALERTS: Final = 1000
_AM_SEVERITY: Final = {
    "critical": "critical",
    "page": "critical",
    "high": "critical",
    "error": "error",
    "major": "error",
    "warning": "warning",
    "warn": "warning",
    "minor": "warning",
    "info": "info",
    "low": "info",
    "none": "info",
}


def _labels(value: Any, path: str, errors: list[str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        errors.append(f"'{path}' must be an object of strings")
        return {}
    return value


def alertmanager_events(body: Any) -> list[Event]:
    """Alertmanager's webhook payload (version 4): one event per alert in the group.

    The dedup key is the alert's fingerprint (stable for a label set), so each
    alert of a group is its own alert here and resolves on its own; the group key
    and labels stay in ``custom_details`` and ``group``.
    """
    if not isinstance(body, dict):
        raise EventRejected(["Webhook body is not a JSON object"])
    errors: list[str] = []
    version = body.get("version")
    if version != "4":
        errors.append("'version' must be \"4\" (Alertmanager webhook payload version 4)")
    alerts = body.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        errors.append("'alerts' is missing or empty")
        alerts = []
    elif len(alerts) > ALERTMANAGER_MAX_ALERTS:
        errors.append(f"'alerts' has more than {ALERTMANAGER_MAX_ALERTS} entries")
        alerts = []
    group_key = body.get("groupKey") if isinstance(body.get("groupKey"), str) else ""
    external = body.get("externalURL") if isinstance(body.get("externalURL"), str) else None
    common = _labels(body.get("commonLabels"), "commonLabels", errors)
    events: list[Event] = []
    for index, alert in enumerate(alerts):
        where = f"alerts[{index}]"
        if not isinstance(alert, dict):
            errors.append(f"'{where}' must be an object")
            continue
        status = alert.get("status")
        if status not in ("firing", "resolved"):
            errors.append(f"'{where}.status' must be firing or resolved")
            continue
        labels = _labels(alert.get("labels"), f"{where}.labels", errors)
        notes = _labels(alert.get("annotations"), f"{where}.annotations", errors)
        fingerprint = alert.get("fingerprint")
        if not isinstance(fingerprint, str) or not fingerprint:
            # Older senders omit it: derive one from the sorted label set, as Alertmanager does.
            canonical = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
            fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        name = labels.get("alertname", "alert")
        where_from = labels.get("instance") or labels.get("job") or labels.get("service") or ""
        summary = (
            notes.get("summary")
            or notes.get("title")
            or (f"{name} on {where_from}" if where_from else name)
        )
        links: list[dict[str, str]] = []
        runbook = notes.get("runbook_url") or notes.get("runbook")
        if runbook:
            links.append({"href": runbook, "text": "Runbook"})
        generator = alert.get("generatorURL")
        if isinstance(generator, str) and generator:
            links.append({"href": generator, "text": "Source query"})
        severity = _AM_SEVERITY.get(
            (labels.get("severity") or common.get("severity") or "").lower()
        )
        details: dict[str, Any] = {
            "description": notes.get("description", ""),
            "labels": labels,
            "annotations": notes,
            "group_key": group_key,
            "starts_at": alert.get("startsAt"),
        }
        if status == "resolved":
            details["ends_at"] = alert.get("endsAt")
        events.append(
            Event(
                action="trigger" if status == "firing" else "resolve",
                dedup_key=f"am:{fingerprint}"[:DEDUP_KEY_MAX],
                summary=summary[:SUMMARY_MAX],
                source=where_from or "alertmanager",
                severity=severity or "error",
                timestamp=_timestamp(alert.get("startsAt"), []),
                component=labels.get("instance"),
                group=labels.get("job"),
                class_=name,
                custom_details=details,
                links=links,
                client="Alertmanager",
                client_url=external,
            )
        )
    if errors:
        raise EventRejected(errors)
    return events


# --- generic JSON webhook ---------------------------------------------------------------

_PATH: Final = re.compile(r"^[A-Za-z_$][\w$-]*(\[\d+\])*(\.[A-Za-z_$][\w$-]*(\[\d+\])*)*$")
_STEP: Final = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
MAPPED_FIELDS: Final = ("summary", "source", "severity", "dedup_key", "action", "description")
REQUIRED_FIELDS: Final = ("summary",)


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """A checked field mapping: JSON paths into the sample body, plus value tables."""

    paths: dict[str, str]
    severity_map: dict[str, str]
    resolve_values: tuple[str, ...]
    runbook_path: str | None
    default_severity: str


def check_mapping(raw: Mapping[str, Any]) -> FieldMapping:
    """Validate a generic webhook mapping; field paths name the offending entry.

    Shape: ``{"summary": "alert.title", "source": "host", "severity": "level",
    "dedup_key": "id", "action": "state", "description": "alert.text",
    "runbook_url": "links[0]", "severity_map": {"P1": "critical"},
    "resolve_values": ["ok", "resolved"], "default_severity": "error"}``.
    """
    problems: list[FieldError] = []
    paths: dict[str, str] = {}
    for name in (*MAPPED_FIELDS, "runbook_url"):
        value = raw.get(name)
        if value is None or value == "":
            if name in REQUIRED_FIELDS:
                problems.append(
                    FieldError(f"mapping.{name}", "Give a JSON path, e.g. alert.title.")
                )
            continue
        if not isinstance(value, str) or len(value) > 200 or not _PATH.match(value):
            problems.append(
                FieldError(f"mapping.{name}", "Use a dotted path with [n] indexes, e.g. a.b[0].c.")
            )
            continue
        paths[name] = value
    severity_map: dict[str, str] = {}
    table = raw.get("severity_map") or {}
    if not isinstance(table, dict):
        problems.append(FieldError("mapping.severity_map", "Give an object of value: severity."))
    else:
        for key, value in table.items():
            if value not in SEVERITIES:
                problems.append(
                    FieldError(
                        f"mapping.severity_map.{key}",
                        "Map to one of critical, error, warning, info.",
                    )
                )
            else:
                severity_map[str(key).lower()] = value
    resolve = raw.get("resolve_values") or []
    if not isinstance(resolve, list) or not all(isinstance(v, str) for v in resolve):
        problems.append(FieldError("mapping.resolve_values", "Give a list of strings."))
        resolve = []
    default = raw.get("default_severity") or "error"
    if default not in SEVERITIES:
        problems.append(
            FieldError("mapping.default_severity", "Use one of critical, error, warning, info.")
        )
    unknown = (
        set(raw)
        - {*MAPPED_FIELDS, "runbook_url", "severity_map", "resolve_values"}
        - {"default_severity"}
    )
    for name in sorted(unknown):
        problems.append(FieldError(f"mapping.{name}", "Unknown mapping field."))
    if problems:
        raise ValidationFailed("The field mapping is not valid.", problems)
    return FieldMapping(
        paths=paths,
        severity_map=severity_map,
        resolve_values=tuple(v.lower() for v in resolve),
        runbook_path=paths.pop("runbook_url", None),
        default_severity=default,
    )


def lookup(body: Any, path: str) -> Any:
    """The value at a dotted path (``a.b[0].c``), or None when any step is missing."""
    current = body
    for name, index in _STEP.findall(path):
        if name:
            if not isinstance(current, dict) or name not in current:
                return None
            current = current[name]
        else:
            position = int(index)
            if not isinstance(current, list) or position >= len(current):
                return None
            current = current[position]
    return current


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return str(value)
    return None


def webhook_event(body: Any, mapping: FieldMapping) -> Event:
    """Apply a mapping to a generic webhook body.

    With no dedup path the key is a hash of the summary and source, so a repeating
    notification deduplicates instead of opening a new alert each time.
    """
    if not isinstance(body, dict | list):
        raise EventRejected(["Webhook body is not a JSON object"])
    found = {name: _as_text(lookup(body, path)) for name, path in mapping.paths.items()}
    errors: list[str] = []
    summary = (found.get("summary") or "").strip()
    if not summary:
        errors.append(f"'{mapping.paths['summary']}' (summary) is missing or blank in the body")
    source = (found.get("source") or "webhook")[:1024]
    raw_severity = (found.get("severity") or "").lower()
    severity = mapping.severity_map.get(raw_severity) or (
        raw_severity if raw_severity in SEVERITIES else mapping.default_severity
    )
    action_text = (found.get("action") or "").lower()
    resolving = bool(action_text) and action_text in mapping.resolve_values
    action: Literal["trigger", "resolve"] = "resolve" if resolving else "trigger"
    dedup = found.get("dedup_key")
    if dedup is None:
        dedup = "wh:" + hashlib.sha256(f"{summary}\x00{source}".encode()).hexdigest()[:32]
    if len(dedup) > DEDUP_KEY_MAX:
        errors.append(f"the dedup key is longer than {DEDUP_KEY_MAX} characters")
    if errors:
        raise EventRejected(errors)
    links: list[dict[str, str]] = []
    if mapping.runbook_path:
        runbook = _as_text(lookup(body, mapping.runbook_path))
        if runbook:
            links.append({"href": runbook, "text": "Runbook"})
    return Event(
        action=action,
        dedup_key=dedup,
        summary=summary[:SUMMARY_MAX],
        source=source,
        severity=severity,
        custom_details={"description": found.get("description") or "", "body": body},
        links=links,
        client="webhook",
    )
