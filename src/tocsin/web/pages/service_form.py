"""What the service form submits and what it means for the action, both ways.

Form inputs are named after the action's field paths (``support_hours.windows[0].end``,
``event_rules[1].value``) so a validation error lands next to the input that caused it;
unused list slots are skipped and errors mapped back to the slot the person typed in.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

from tocsin.kernel.errors import Conflict, FieldError, ValidationFailed
from tocsin.services.tables import Service
from tocsin.web.pages.forms import text, texts

FORM_SLOTS = 3  # support-hours windows, runbook links and event rules offered by the form
RULE_KEYS = ("field", "op", "value", "suppress", "priority", "severity")

_INDEX = re.compile(r"^(support_hours\.windows|runbook_links|event_rules)\[(\d+)\]")


@dataclass
class ServiceForm:
    """What the form submitted, as typed, and what it means for the action."""

    values: dict[str, Any]
    arguments: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    window_slots: list[int] = field(default_factory=list)
    link_slots: list[int] = field(default_factory=list)
    rule_slots: list[int] = field(default_factory=list)


def _slot_count(form: FormData, prefix: str, existing: int = 0) -> int:
    indexes = [
        int(m.group(1)) for k in form if (m := re.match(rf"^{re.escape(prefix)}\[(\d+)\]", k))
    ]
    return max([FORM_SLOTS, existing, *(i + 1 for i in indexes if i < 50)])


def _minutes(raw: str, path: str, errors: list[FieldError]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(FieldError(path, "Give a whole number of minutes, or leave it blank."))
        return None


def read_service_form(form: FormData) -> ServiceForm:
    """Typed values (kept for a re-render) and the action's arguments from the submitted form."""
    values: dict[str, Any] = {
        k: text(form, k)
        for k in (
            "name",
            "description",
            "owner_team_id",
            "escalation_policy_id",
            "urgency_rule",
            "outside_hours",
            "ack_timeout_minutes",
            "auto_resolve_minutes",
            "support_hours.time_zone",
            "grouping.mode",
            "grouping.window_minutes",
            "storm_threshold",
        )
    }
    parsed = ServiceForm(values=values)
    errors = parsed.errors
    owner: uuid.UUID | None = None
    if values["owner_team_id"]:
        try:
            owner = uuid.UUID(values["owner_team_id"])
        except ValueError:
            errors.append(FieldError("owner_team_id", "Pick a team from the list."))
    policy: uuid.UUID | None = None
    if values["escalation_policy_id"]:
        try:
            policy = uuid.UUID(values["escalation_policy_id"])
        except ValueError:
            errors.append(FieldError("escalation_policy_id", "Pick a policy from the list."))
    windows: list[dict[str, Any]] = []
    for slot in range(_slot_count(form, "support_hours.windows")):
        path = f"support_hours.windows[{slot}]"
        days = texts(form, f"{path}.days")
        start, end = text(form, f"{path}.start"), text(form, f"{path}.end")
        values[f"{path}.days"] = days
        values[f"{path}.start"], values[f"{path}.end"] = start, end
        if not days and not start and not end:
            continue  # an unused slot
        parsed.window_slots.append(slot)
        windows.append({"days": [int(d) for d in days if d.isdigit()], "start": start, "end": end})
    time_zone = values["support_hours.time_zone"].strip()
    rule = values["urgency_rule"]
    hours: dict[str, Any] | None = None
    # Hours are kept whenever a window was given; only their rule requires them.
    if windows or (rule == "support_hours" and time_zone):
        hours = {"time_zone": time_zone, "windows": windows}
    links: list[dict[str, str]] = []
    for slot in range(_slot_count(form, "runbook_links")):
        path = f"runbook_links[{slot}]"
        title, url = text(form, f"{path}.title"), text(form, f"{path}.url")
        values[f"{path}.title"], values[f"{path}.url"] = title, url
        if not title.strip() and not url.strip():
            continue
        parsed.link_slots.append(slot)
        links.append({"title": title, "url": url})
    grouping, storm, event_rules = _alert_handling(form, values, parsed)
    parsed.arguments = {
        "name": values["name"],
        "description": values["description"],
        "owner_team_id": owner,
        "escalation_policy_id": policy,
        "urgency_rule": rule,
        "support_hours": hours,
        "outside_hours": values["outside_hours"] or "low",
        "ack_timeout_minutes": _minutes(
            values["ack_timeout_minutes"], "ack_timeout_minutes", errors
        ),
        "auto_resolve_minutes": _minutes(
            values["auto_resolve_minutes"], "auto_resolve_minutes", errors
        ),
        "runbook_links": links,
        "grouping": grouping,
        "storm_threshold": storm,
        "event_rules": event_rules,
    }
    return parsed


def _alert_handling(
    form: FormData, values: dict[str, Any], parsed: ServiceForm
) -> tuple[dict[str, Any], int | None, list[dict[str, Any]]]:
    """Grouping, storm threshold and event rules from the form (typed values kept)."""
    errors = parsed.errors
    mode = values["grouping.mode"] or "none"
    grouping: dict[str, Any] = {"mode": mode}
    fields = texts(form, "grouping.fields")
    values["grouping.fields"] = fields
    if mode != "none":
        grouping["window_minutes"] = (
            _whole(values["grouping.window_minutes"], "grouping.window_minutes", errors) or 10
        )
    if mode == "fields":
        grouping["fields"] = fields
    storm = _whole(values["storm_threshold"], "storm_threshold", errors)
    rules: list[dict[str, Any]] = []
    for slot in range(_slot_count(form, "event_rules")):
        path = f"event_rules[{slot}]"
        row = {k: text(form, f"{path}.{k}") for k in RULE_KEYS}
        for k, v in row.items():
            values[f"{path}.{k}"] = v
        if not (row["value"].strip() or row["suppress"] or row["priority"] or row["severity"]):
            continue  # an unused slot
        parsed.rule_slots.append(slot)
        rules.append(
            {
                "field": row["field"],
                "op": row["op"],
                "value": row["value"],
                "suppress": bool(row["suppress"]),
                "priority": row["priority"] or None,
                "severity": row["severity"] or None,
            }
        )
    return grouping, storm, rules


def _whole(raw: str, path: str, errors: list[FieldError]) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        errors.append(FieldError(path, "Give a whole number, or leave it blank."))
        return None


def service_values(service: Service) -> dict[str, Any]:
    """The edit form's values for a stored service."""
    values: dict[str, Any] = {
        "name": service.name,
        "description": service.description,
        "owner_team_id": str(service.owner_team_id) if service.owner_team_id else "",
        "escalation_policy_id": str(service.escalation_policy_id)
        if service.escalation_policy_id
        else "",
        "urgency_rule": service.urgency_rule,
        "outside_hours": service.outside_hours,
        "ack_timeout_minutes": str(service.ack_timeout_minutes or ""),
        "auto_resolve_minutes": str(service.auto_resolve_minutes or ""),
        "support_hours.time_zone": (service.support_hours or {}).get("time_zone", ""),
    }
    for i, window in enumerate((service.support_hours or {}).get("windows", [])):
        path = f"support_hours.windows[{i}]"
        values[f"{path}.days"] = [str(d) for d in window.get("days", [])]
        values[f"{path}.start"], values[f"{path}.end"] = window.get("start"), window.get("end")
    for i, link in enumerate(service.runbook_links or []):
        values[f"runbook_links[{i}].title"] = link.get("title", "")
        values[f"runbook_links[{i}].url"] = link.get("url", "")
    grouping = service.grouping or {"mode": "none"}
    values["grouping.mode"] = grouping.get("mode", "none")
    values["grouping.window_minutes"] = str(grouping.get("window_minutes") or "")
    values["grouping.fields"] = list(grouping.get("fields") or [])
    values["storm_threshold"] = (
        "" if service.storm_threshold is None else str(service.storm_threshold)
    )
    for i, rule in enumerate(service.event_rules or []):
        path = f"event_rules[{i}]"
        for key in RULE_KEYS:
            value = rule.get(key)
            values[f"{path}.{key}"] = ("on" if value else "") if key == "suppress" else value or ""
    return values


def form_errors(parsed: ServiceForm, exc: ValidationFailed | Conflict) -> dict[str, str]:
    """Messages keyed by the input's field path, with list indexes mapped back to form slots."""
    slots = {
        "support_hours.windows": parsed.window_slots,
        "runbook_links": parsed.link_slots,
        "event_rules": parsed.rule_slots,
    }
    out: dict[str, str] = {}
    for f in exc.fields:
        path = f.field
        match = _INDEX.match(path)
        if match:
            kept = slots[match.group(1)]
            index = int(match.group(2))
            slot = kept[index] if index < len(kept) else index
            path = f"{match.group(1)}[{slot}]{path[match.end() :]}"
        out.setdefault(path, f.message)
    return out
