"""Events as they arrive: the PagerDuty Events API v2 contract, checked without I/O.

``parse_alert_event`` and ``parse_change_event`` take the decoded JSON body and
return a normalised :class:`Event` or raise :class:`EventRejected` with one
readable string per problem, worded like PagerDuty's own ``errors`` list. The
facts this module matches are in ``shared/reference/pagerduty-events-v2.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

ROUTING_KEY_LENGTH: Final = 32
DEDUP_KEY_MAX: Final = 255
SUMMARY_MAX: Final = 1024
TEXT_MAX: Final = 1024  # source, component, group, class, client
URL_MAX: Final = 2048
LIST_MAX: Final = 50  # images and links kept per event
BODY_MAX_BYTES: Final = 512 * 1024

ACTIONS: Final = ("trigger", "acknowledge", "resolve")
SEVERITIES: Final = ("critical", "error", "warning", "info")
Action = Literal["trigger", "acknowledge", "resolve", "change"]

_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")


class EventRejected(Exception):
    """The event breaks the contract; ``errors`` is PagerDuty's list of readable problems."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Event:
    """One normalised event, whatever the wire format it came in."""

    action: Action
    dedup_key: str | None
    summary: str = ""
    source: str = ""
    severity: str = "critical"
    timestamp: datetime | None = None
    component: str | None = None
    group: str | None = None
    class_: str | None = None
    custom_details: Any = None
    images: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    client: str | None = None
    client_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form (JSON column); ``from_json`` reads it back."""
        return {
            "action": self.action,
            "dedup_key": self.dedup_key,
            "summary": self.summary,
            "source": self.source,
            "severity": self.severity,
            "timestamp": None if self.timestamp is None else self.timestamp.isoformat(),
            "component": self.component,
            "group": self.group,
            "class": self.class_,
            "custom_details": self.custom_details,
            "images": self.images,
            "links": self.links,
            "client": self.client,
            "client_url": self.client_url,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Event:
        stamp = data.get("timestamp")
        return cls(
            action=data["action"],
            dedup_key=data.get("dedup_key"),
            summary=data.get("summary") or "",
            source=data.get("source") or "",
            severity=data.get("severity") or "critical",
            timestamp=None if stamp is None else datetime.fromisoformat(stamp),
            component=data.get("component"),
            group=data.get("group"),
            class_=data.get("class"),
            custom_details=data.get("custom_details"),
            images=list(data.get("images") or []),
            links=list(data.get("links") or []),
            client=data.get("client"),
            client_url=data.get("client_url"),
        )


def check_routing_key(body: Any) -> str:
    """The routing key of a body, or EventRejected. Checked first: it names the integration."""
    if not isinstance(body, dict):
        raise EventRejected(["Event object is not a JSON object"])
    key = body.get("routing_key")
    if key is None or key == "":
        raise EventRejected(["'routing_key' is missing or blank"])
    if not isinstance(key, str):
        raise EventRejected(["'routing_key' must be a string"])
    if len(key) != ROUTING_KEY_LENGTH:
        raise EventRejected(["Length of 'routing_key' is incorrect (should be 32 characters)"])
    if not _ROUTING_KEY.match(key):
        raise EventRejected(["'routing_key' is invalid"])
    return key


def _text(
    data: dict[str, Any], name: str, path: str, errors: list[str], *, limit: int = TEXT_MAX
) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append(f"'{path}' must be a string")
        return None
    if len(value) > limit:
        errors.append(f"'{path}' is too long (maximum is {limit} characters)")
        return None
    return value


def _timestamp(value: Any, errors: list[str]) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        errors.append("'payload.timestamp' must be an ISO 8601 string")
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        errors.append("'payload.timestamp' is not a valid ISO 8601 timestamp")
        return None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        parsed = parsed.replace(tzinfo=UTC)  # PagerDuty reads a zone-less stamp as UTC
    return parsed.astimezone(UTC)


def _objects(
    body: dict[str, Any], name: str, keys: tuple[str, ...], required: str, errors: list[str]
) -> list[dict[str, str]]:
    """``images`` / ``links``: lists of small objects; bad entries are errors, extras dropped."""
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        errors.append(f"'{name}' must be a list")
        return []
    kept: list[dict[str, str]] = []
    for index, item in enumerate(value[:LIST_MAX]):
        if not isinstance(item, dict):
            errors.append(f"'{name}[{index}]' must be an object")
            continue
        entry: dict[str, str] = {}
        for key in keys:
            part = item.get(key)
            if part is None:
                continue
            if not isinstance(part, str) or len(part) > URL_MAX:
                errors.append(f"'{name}[{index}].{key}' must be a string of at most {URL_MAX}")
                continue
            entry[key] = part
        if required not in entry:
            errors.append(f"'{name}[{index}].{required}' is missing or blank")
            continue
        kept.append(entry)
    return kept


def parse_alert_event(body: Any, *, generated_key: str) -> Event:
    """Check an alert event (``/v2/enqueue``) and normalise it.

    ``generated_key`` becomes the dedup key of a trigger that has none (the caller
    returns it to the client, as PagerDuty does). Collects every problem it can
    before raising, so one answer lists them all.
    """
    check_routing_key(body)
    errors: list[str] = []
    action = body.get("event_action")
    if action is None or action == "":
        errors.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        errors.append("'event_action' is invalid (must be trigger, acknowledge or resolve)")
    dedup = body.get("dedup_key")
    if dedup is not None and not isinstance(dedup, str):
        errors.append("'dedup_key' must be a string")
        dedup = None
    elif isinstance(dedup, str) and len(dedup) > DEDUP_KEY_MAX:
        errors.append(f"'dedup_key' is too long (maximum is {DEDUP_KEY_MAX} characters)")
    elif dedup == "":
        dedup = None
    if action in ("acknowledge", "resolve") and dedup is None:
        errors.append("'dedup_key' is missing or blank")
    payload = body.get("payload")
    summary = source = ""
    severity = "critical"
    stamp = None
    component = group = class_ = None
    details: Any = None
    if payload is None:
        if action == "trigger":
            errors.append("'payload' is missing or blank")
    elif not isinstance(payload, dict):
        errors.append("'payload' must be an object")
    else:
        summary_value = payload.get("summary")
        if action == "trigger" and (
            not isinstance(summary_value, str) or not summary_value.strip()
        ):
            errors.append("'payload.summary' is missing or blank")
        elif isinstance(summary_value, str) and len(summary_value) > SUMMARY_MAX:
            errors.append(f"'payload.summary' is too long (maximum is {SUMMARY_MAX} characters)")
        elif isinstance(summary_value, str):
            summary = summary_value
        elif summary_value is not None:
            errors.append("'payload.summary' must be a string")
        source_value = payload.get("source")
        if action == "trigger" and (not isinstance(source_value, str) or not source_value.strip()):
            errors.append("'payload.source' is missing or blank")
        else:
            source = _text(payload, "source", "payload.source", errors) or ""
        severity_value = payload.get("severity")
        if severity_value is None or severity_value == "":
            if action == "trigger":
                errors.append("'payload.severity' is missing or blank")
        elif severity_value not in SEVERITIES:
            errors.append(
                "'payload.severity' is invalid (must be critical, error, warning or info)"
            )
        else:
            severity = severity_value
        stamp = _timestamp(payload.get("timestamp"), errors)
        component = _text(payload, "component", "payload.component", errors)
        group = _text(payload, "group", "payload.group", errors)
        class_ = _text(payload, "class", "payload.class", errors)
        details = payload.get("custom_details")
    images = _objects(body, "images", ("src", "href", "alt"), "src", errors)
    links = _objects(body, "links", ("href", "text"), "href", errors)
    client = _text(body, "client", "client", errors)
    client_url = _text(body, "client_url", "client_url", errors, limit=URL_MAX)
    if errors:
        raise EventRejected(errors)
    if action == "trigger" and dedup is None:
        dedup = generated_key
    return Event(
        action=action,
        dedup_key=dedup,
        summary=summary,
        source=source,
        severity=severity,
        timestamp=stamp,
        component=component,
        group=group,
        class_=class_,
        custom_details=details,
        images=images,
        links=links,
        client=client,
        client_url=client_url,
    )


def parse_change_event(body: Any) -> Event:
    """Check a change event (``/v2/change/enqueue``): context beside incidents, never a page."""
    check_routing_key(body)
    errors: list[str] = []
    payload = body.get("payload")
    summary = source = ""
    stamp = None
    details: Any = None
    if not isinstance(payload, dict):
        errors.append(
            "'payload' is missing or blank" if payload is None else "'payload' must be an object"
        )
    else:
        value = payload.get("summary")
        if not isinstance(value, str) or not value.strip():
            errors.append("'payload.summary' is missing or blank")
        elif len(value) > SUMMARY_MAX:
            errors.append(f"'payload.summary' is too long (maximum is {SUMMARY_MAX} characters)")
        else:
            summary = value
        source = _text(payload, "source", "payload.source", errors) or ""
        stamp = _timestamp(payload.get("timestamp"), errors)
        details = payload.get("custom_details")
    links = _objects(body, "links", ("href", "text"), "href", errors)
    if errors:
        raise EventRejected(errors)
    return Event(
        action="change",
        dedup_key=None,
        summary=summary,
        source=source,
        severity="info",
        timestamp=stamp,
        custom_details=details,
        links=links,
    )
