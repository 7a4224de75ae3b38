"""Pure rules of the people slice: roles and permissions, time zones, sign-in limits."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Final

from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import PermissionDenied, ValidationFailed

ROLES: Final = ("admin", "manager", "responder", "observer", "stakeholder")
SCOPES: Final = ("read", "write")
PASSWORD_MIN_LENGTH: Final = 10
PASSWORD_MAX_LENGTH: Final = 1024

# What each role may do. Writes also need a write-scoped credential (see ``authorize``).
PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    "admin": frozenset(
        {
            "people.read",
            "people.write",
            "teams.read",
            "teams.write",
            "services.read",
            "services.write",
            "schedules.read",
            "schedules.write",
            "policies.read",
            "policies.write",
            "incidents.read",
            "incidents.trigger",
            "incidents.write",
            "tokens.own",
            "contacts.own",
            "audit.read",
            "watchdog.receive",
        }
    ),
    "manager": frozenset(
        {
            "people.read",
            "teams.read",
            "teams.write",
            "services.read",
            "services.write",
            "schedules.read",
            "schedules.write",
            "policies.read",
            "policies.write",
            "incidents.read",
            "incidents.trigger",
            "incidents.write",
            "tokens.own",
            "contacts.own",
            "audit.read",
        }
    ),
    # Anyone may trigger an incident ("when unsure, trigger"); only responders work them.
    "responder": frozenset(
        {
            "people.read",
            "teams.read",
            "services.read",
            "schedules.read",
            "schedules.write",
            "policies.read",
            "incidents.read",
            "incidents.trigger",
            "incidents.write",
            "tokens.own",
            "contacts.own",
        }
    ),
    "observer": frozenset(
        {
            "people.read",
            "teams.read",
            "services.read",
            "schedules.read",
            "policies.read",
            "incidents.read",
            "incidents.trigger",
            "tokens.own",
            "contacts.own",
        }
    ),
    # Stakeholders see who is on call (the directory) but change nothing.
    "stakeholder": frozenset(
        {
            "teams.read",
            "schedules.read",
            "incidents.read",
            "incidents.trigger",
            "tokens.own",
            "contacts.own",
        }
    ),
}

ROLE_DESCRIPTIONS: Final = {
    "admin": "configures Tocsin and manages people",
    "manager": "manages teams and reads reports",
    "responder": "is paged and works incidents",
    "observer": "reads everything, changes nothing",
    "stakeholder": "follows incident updates",
}

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_write(permission: str) -> bool:
    return permission.endswith((".write", ".own"))


def allows(role: str, permission: str) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def authorize(actor: Actor, permission: str) -> None:
    """Raise PermissionDenied unless ``actor`` may do ``permission``."""
    if not allows(actor.role, permission):
        raise PermissionDenied(
            f"Your role ({actor.role}) does not allow this ({permission}).", code="auth.role"
        )
    if is_write(permission) and actor.scope != "write":
        raise PermissionDenied(
            "This API token is read-only; use a write-scoped token.", code="auth.scope"
        )


def may_edit_profile(actor: Actor, user_id: object) -> bool:
    """People edit their own name, time zone and password; admins edit anyone."""
    return allows(actor.role, "people.write") or actor.user_id == user_id


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def check_time_zone(name: str, field: str = "time_zone") -> str:
    if name not in known_time_zones():
        raise ValidationFailed.one(
            field, f"Unknown time zone {name!r}; use an IANA name such as Europe/London."
        )
    return name


def check_role(role: str, field: str = "role") -> str:
    if role not in ROLES:
        raise ValidationFailed.one(field, f"Role must be one of: {', '.join(ROLES)}.")
    return role


def normalise_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value) or len(value) > 254:
        raise ValidationFailed.one("email", "Enter an email address such as ada@example.com.")
    return value


def check_password(password: str, field: str = "password") -> str:
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed.one(field, f"Use at least {PASSWORD_MIN_LENGTH} characters.")
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed.one(field, f"Use at most {PASSWORD_MAX_LENGTH} characters.")
    return password


def login_retry_after(
    failures: Sequence[datetime], *, now: datetime, max_failures: int, window: timedelta
) -> int | None:
    """Seconds until another sign-in may be tried, or None if it may be tried now.

    After ``max_failures`` failures inside ``window`` the account is locked until the
    oldest of those failures leaves the window.
    """
    recent = sorted(at for at in failures if now - at < window)
    if len(recent) < max_failures:
        return None
    unlock_at = recent[-max_failures] + window
    return max(1, int((unlock_at - now).total_seconds() + 0.999))


def session_expired(expires_at: datetime, now: datetime) -> bool:
    return now >= expires_at
