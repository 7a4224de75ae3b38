"""Errors with stable codes that every adapter maps once (HTTP, CLI, chat)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldError:
    """One field that failed one rule."""

    field: str
    message: str


@dataclass
class TocsinError(Exception):
    """Base of every domain error: ``code`` is stable, ``message`` is for a person."""

    code: str
    message: str
    fields: Sequence[FieldError] = field(default_factory=tuple)

    def __str__(self) -> str:
        return self.message


class ValidationFailed(TocsinError):
    """Input broke a rule; ``fields`` say which and why."""

    def __init__(
        self, message: str, fields: Sequence[FieldError] = (), code: str = "invalid"
    ) -> None:
        super().__init__(code=code, message=message, fields=tuple(fields))

    @classmethod
    def one(cls, field_name: str, message: str, code: str = "invalid") -> ValidationFailed:
        return cls(message, [FieldError(field_name, message)], code=code)


class NotFound(TocsinError):
    """The thing asked for does not exist (or is hidden from the asker)."""

    def __init__(self, what: str, ident: object) -> None:
        super().__init__(code=f"{what}.not_found", message=f"No {what} {ident}.")


class Conflict(TocsinError):
    """The change collides with existing state (duplicate, stale version)."""

    def __init__(self, code: str, message: str, field_name: str | None = None) -> None:
        fields = (FieldError(field_name, message),) if field_name else ()
        super().__init__(code=code, message=message, fields=fields)


class Unauthenticated(TocsinError):
    """No valid credentials."""

    def __init__(self, message: str = "Sign in or send a valid API token.") -> None:
        super().__init__(code="auth.required", message=message)


class PermissionDenied(TocsinError):
    """Valid credentials, but the role or scope does not allow this."""

    def __init__(self, message: str, code: str = "auth.forbidden") -> None:
        super().__init__(code=code, message=message)


class RateLimited(TocsinError):
    """Too many attempts; ``retry_after`` seconds until the next may succeed."""

    def __init__(self, message: str, retry_after: int, code: str = "rate_limited") -> None:
        super().__init__(code=code, message=message)
        self.retry_after = retry_after
