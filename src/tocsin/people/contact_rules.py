"""Pure rules for contact methods and personal notification rules.

Addresses are checked here (E.164 phone numbers, email addresses, webhook and push
URLs, Slack member ids), verification codes are compared here, and the recommended
default notification rules are defined here. No I/O: a webhook host name is checked
for the obvious (loopback names, literal private addresses); the webhook channel
checks the resolved address again when it connects.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from tocsin.kernel.errors import FieldError, ValidationFailed

KINDS: Final = ("email", "sms", "voice", "push", "ntfy", "slack", "teams", "webhook", "apprise")
KIND_LABELS: Final = {
    "email": "Email",
    "sms": "SMS",
    "voice": "Voice call",
    "push": "Web Push (this browser)",
    "ntfy": "ntfy push",
    "slack": "Slack direct message",
    "teams": "Microsoft Teams",
    "webhook": "Webhook",
    "apprise": "Apprise URL (Discord, Gotify, Matrix, Pushover, Telegram…)",
}
# Apprise opens its own connections (no address guard), so only admins add Apprise URLs.
ADMIN_ONLY_KINDS: Final = ("apprise",)
PHONE_KINDS: Final = ("sms", "voice")
URGENCIES: Final = ("high", "low")
MAX_RULE_DELAY_MINUTES: Final = 24 * 60
MAX_RULES_PER_URGENCY: Final = 20
CODE_LENGTH: Final = 6
CODE_TTL: Final = timedelta(minutes=15)
MAX_CODE_ATTEMPTS: Final = 5

# E.164: a plus, a country code that does not start with 0, at most 15 digits in all.
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{6,20}$")
_APPRISE = re.compile(r"^[a-z][a-z0-9+]{1,20}://\S+$")
_LOOPBACK_NAMES: Final = ("localhost", "localhost.localdomain", "ip6-localhost")


def normalise_phone(raw: str) -> str:
    """Strip spaces, dots, dashes and brackets people type; keep the leading plus."""
    return re.sub(r"[\s().\-]", "", raw.strip())


def check_phone(raw: str, *, field: str = "address") -> str:
    """An E.164 number such as +14155550123, or ValidationFailed naming ``field``."""
    phone = normalise_phone(raw)
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _E164.match(phone):
        raise ValidationFailed.one(
            field,
            "Give the number in international E.164 form: a plus, the country code and the "
            "number, 8 to 15 digits in all (e.g. +14155550123).",
        )
    return phone


def check_email(raw: str, *, field: str = "address") -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationFailed.one(field, f"Not a valid email address: {exc}") from None


def is_private_host(host: str) -> bool:
    """True for loopback names and literal loopback, private, link-local or reserved IPs."""
    name = host.strip("[]").lower().rstrip(".")
    if name in _LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    return bool(
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def check_url(raw: str, *, allow_private: bool, field: str = "address") -> str:
    """An http(s) URL with a host; loopback and private hosts only when an admin allows them."""
    url = raw.strip()
    if len(url) > 2000:
        raise ValidationFailed.one(field, "A URL is at most 2000 characters.")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationFailed.one(field, "Not a valid URL.") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationFailed.one(field, "Only http:// and https:// URLs are allowed.")
    if not host:
        raise ValidationFailed.one(field, "The URL needs a host name.")
    if parts.username or parts.password:
        raise ValidationFailed.one(field, "Put no user name or password in the URL.")
    if not allow_private and is_private_host(host):
        raise ValidationFailed.one(
            field,
            "Loopback and private network addresses are refused; an admin can allow them "
            "(TOCSIN_WEBHOOK_ALLOW_PRIVATE).",
        )
    return url


def check_push_subscription(raw: str, *, allow_private: bool, field: str = "address") -> str:
    """A Web Push subscription as the browser gives it: JSON with endpoint and keys."""
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValidationFailed.one(field, "A push subscription is a JSON object.") from None
    if not isinstance(data, dict):
        raise ValidationFailed.one(field, "A push subscription is a JSON object.")
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if not isinstance(endpoint, str):
        raise ValidationFailed.one(f"{field}.endpoint", "The subscription has no endpoint URL.")
    check_url(endpoint, allow_private=allow_private, field=f"{field}.endpoint")
    if (
        not isinstance(keys, dict)
        or not isinstance(keys.get("p256dh"), str)
        or not isinstance(keys.get("auth"), str)
    ):
        raise ValidationFailed.one(f"{field}.keys", "The subscription needs keys p256dh and auth.")
    return json.dumps(
        {"endpoint": endpoint, "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]}},
        sort_keys=True,
    )


def check_address(kind: str, raw: str, *, allow_private: bool, field: str = "address") -> str:
    """The normalised address of a contact method of ``kind``, or ValidationFailed."""
    if kind not in KINDS:
        raise ValidationFailed.one("kind", f"Choose one of: {', '.join(KINDS)}.")
    if not raw or not raw.strip():
        raise ValidationFailed.one(field, "An address is required.")
    if kind == "email":
        return check_email(raw, field=field)
    if kind in PHONE_KINDS:
        return check_phone(raw, field=field)
    if kind == "slack":
        member = raw.strip()
        if not _SLACK_ID.match(member):
            raise ValidationFailed.one(
                field, "Give your Slack member ID (Profile → ⋮ → Copy member ID), e.g. U024BE7LH."
            )
        return member
    if kind == "push":
        return check_push_subscription(raw, allow_private=allow_private, field=field)
    if kind == "apprise":
        return check_apprise_url(raw, allow_private=allow_private, field=field)
    return check_url(raw, allow_private=allow_private, field=field)


def check_apprise_url(raw: str, *, allow_private: bool, field: str = "address") -> str:
    """An Apprise URL (``scheme://…``); a literal private host only when allowed."""
    url = raw.strip()
    if len(url) > 2000 or not _APPRISE.match(url):
        raise ValidationFailed.one(
            field, "Give an Apprise URL such as discord://webhook_id/token (see Apprise's docs)."
        )
    if url.split("://", 1)[0] in ("file", "mailto", "mailtos", "json", "xml", "form"):
        raise ValidationFailed.one(
            field, "Use the email or webhook contact methods for mail and plain HTTP."
        )
    try:
        host = urlsplit(url).hostname
    except ValueError:
        raise ValidationFailed.one(field, "Not a valid URL.") from None
    if host and not allow_private and is_private_host(host):
        raise ValidationFailed.one(
            field,
            "Loopback and private network addresses are refused; an admin can allow them "
            "(TOCSIN_WEBHOOK_ALLOW_PRIVATE).",
        )
    return url


def check_label(raw: str) -> str:
    label = raw.strip()
    if len(label) > 100:
        raise ValidationFailed.one("label", "A label is at most 100 characters.")
    return label


def codes_match(expected_hash: str, given_hash: str) -> bool:
    return hmac.compare_digest(expected_hash, given_hash)


def mask(kind: str, address: str) -> str:
    """A display form that hides most of a phone number or URL (for logs and shared screens)."""
    if kind in PHONE_KINDS:
        return address[:3] + "•" * max(0, len(address) - 5) + address[-2:]
    if kind in ("webhook", "teams", "ntfy", "push", "apprise"):
        try:
            host = urlsplit(json.loads(address)["endpoint"] if kind == "push" else address).hostname
        except (ValueError, KeyError, TypeError):
            host = None
        return f"{host or '?'}/…"
    return address


@dataclass(frozen=True)
class RuleStep:
    """Notify by ``method`` (a contact method's id or kind) ``delay`` after being paged."""

    delay_minutes: int
    method: str


def recommended_steps(kinds: Sequence[str], *, escalation_minutes: int = 5) -> list[RuleStep]:
    """The recommended high-urgency rules for the methods a person has.

    Push and email (and chat, webhooks) at once, then SMS after a minute, then a voice
    call every minute until the escalation timeout (SPEC §1). Methods the person lacks
    are skipped.
    """
    steps: list[RuleStep] = []
    for kind in ("push", "ntfy", "email", "slack", "teams", "webhook", "apprise"):
        if kind in kinds:
            steps.append(RuleStep(0, kind))
    if "sms" in kinds:
        steps.append(RuleStep(1, "sms"))
    if "voice" in kinds:
        for minute in range(2, max(3, escalation_minutes)):
            steps.append(RuleStep(minute, "voice"))
    return steps


def recommended_low_steps(kinds: Sequence[str]) -> list[RuleStep]:
    """Low urgency never wakes anybody: email (or a quiet push) only."""
    for kind in ("email", "ntfy", "push", "slack", "teams", "webhook", "apprise"):
        if kind in kinds:
            return [RuleStep(0, kind)]
    return []


def check_rule_steps(steps: Sequence[tuple[int, str]], *, methods: Sequence[str]) -> None:
    """Every delay in 0..1440 minutes and every method one of the person's; field paths."""
    problems: list[FieldError] = []
    if len(steps) > MAX_RULES_PER_URGENCY:
        problems.append(FieldError("rules", f"At most {MAX_RULES_PER_URGENCY} rules."))
    for i, (delay, method) in enumerate(steps):
        if not 0 <= delay <= MAX_RULE_DELAY_MINUTES:
            problems.append(
                FieldError(
                    f"rules[{i}].delay_minutes",
                    f"A delay is 0 to {MAX_RULE_DELAY_MINUTES} minutes.",
                )
            )
        if method not in methods:
            problems.append(
                FieldError(f"rules[{i}].contact_method_id", "Not one of your contact methods.")
            )
    if problems:
        raise ValidationFailed("The notification rules are not valid.", problems)
