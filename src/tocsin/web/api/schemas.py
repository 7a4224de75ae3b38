"""Request and response bodies of the REST API (the OpenAPI schema is generated from these).

Requests forbid unknown fields and bound every string, so bad input is a 422 naming
the field before any action runs. Business rules (email format, known time zone,
password length) stay in the actions; these models only check shape.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt

Role = Literal["admin", "manager", "responder", "observer", "stakeholder"]
TokenScope = Literal["read", "write"]
MessageStatus = Literal["pending", "sending", "sent", "retry", "failed", "cancelled"]


def storable(value: str) -> str:
    """Refuse text no database can store: NUL characters and lone surrogates."""
    if "\x00" in value:
        raise ValueError("Text must not contain NUL characters.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode.") from None
    return value


Email = Annotated[str, Field(min_length=1, max_length=254), AfterValidator(storable)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable)]
TeamName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable)]
Description = Annotated[str, Field(max_length=2000), AfterValidator(storable)]
TokenName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable)]
TimeZone = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(storable)]
Password = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(storable)]
Search = Annotated[str, Field(max_length=200), AfterValidator(storable)]


class RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ResponseBody(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# People ---------------------------------------------------------------------------------


class UserCreate(RequestBody):
    email: Email
    name: Name
    role: Role
    time_zone: TimeZone = "UTC"
    password: Password | None = None


class UserUpdate(RequestBody):
    email: Email | None = None
    name: Name | None = None
    role: Role | None = None
    time_zone: TimeZone | None = None
    is_active: bool | None = None


class MeUpdate(RequestBody):
    name: Name | None = None
    time_zone: TimeZone | None = None


class PasswordChange(RequestBody):
    current_password: Password
    new_password: Password


class UserOut(ResponseBody):
    id: uuid.UUID
    email: str
    name: str
    role: str
    time_zone: str
    is_active: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    data: list[UserOut]
    next_cursor: str | None


# Teams ----------------------------------------------------------------------------------


class MemberIn(RequestBody):
    user_id: uuid.UUID
    is_manager: bool = False


class TeamCreate(RequestBody):
    name: TeamName
    description: Description = ""
    members: list[MemberIn] | None = Field(default=None, max_length=1000)


class TeamUpdate(RequestBody):
    name: TeamName | None = None
    description: Description | None = None
    members: list[MemberIn] | None = Field(default=None, max_length=1000)


class MemberOut(ResponseBody):
    user_id: uuid.UUID
    is_manager: bool


class TeamOut(ResponseBody):
    id: uuid.UUID
    name: str
    description: str
    members: list[MemberOut]
    created_at: datetime
    updated_at: datetime


class TeamPage(BaseModel):
    data: list[TeamOut]
    next_cursor: str | None


# Tokens ---------------------------------------------------------------------------------


class TokenCreate(RequestBody):
    name: TokenName
    scope: TokenScope


class TokenOut(ResponseBody):
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    prefix: str
    scope: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The token itself; shown only in this response, never again.")


class TokenList(BaseModel):
    data: list[TokenOut]


# Messages and audit ---------------------------------------------------------------------


class MessageQueued(BaseModel):
    id: uuid.UUID
    status: str


class MessageOut(ResponseBody):
    id: uuid.UUID
    kind: str = Field(default="message", description="page, verify, test, message…")
    incident_number: int | None = None
    latency_seconds: float | None = Field(
        default=None, description="From queued to sent (sent messages only)"
    )
    channel: str
    recipient: str
    user_id: uuid.UUID | None
    subject: str
    status: str
    attempts: int
    max_attempts: int | None
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    sent_at: datetime | None


class AttemptOut(ResponseBody):
    number: int
    engine_instance: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None


class MessageDetail(MessageOut):
    body: str
    attempt_log: list[AttemptOut]


class MessagePage(BaseModel):
    data: list[MessageOut]
    next_cursor: str | None


class AuditEventOut(ResponseBody):
    id: uuid.UUID
    at: datetime
    actor_id: uuid.UUID | None
    actor_name: str
    via: str
    kind: str
    subject_type: str
    subject_id: uuid.UUID | None
    data: dict[str, Any]


class AuditPage(BaseModel):
    data: list[AuditEventOut]
    next_cursor: str | None


# Services ------------------------------------------------------------------------------

UrgencyRule = Literal["high", "low", "severity", "support_hours"]
OutsideHours = Literal["low", "hold"]
IntegrationKind = Literal["events_v2", "alertmanager", "generic_webhook", "heartbeat"]
ServiceName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(storable)]
ShortText = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(storable)]
Url = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(storable)]
Clock = Annotated[str, Field(min_length=4, max_length=5), AfterValidator(storable)]


class SupportWindow(RequestBody):
    days: list[Annotated[int, Field(ge=0, le=6)]] = Field(min_length=1, max_length=7)
    start: Clock
    end: Clock


class SupportHours(RequestBody):
    time_zone: TimeZone
    windows: list[SupportWindow] = Field(min_length=1, max_length=50)


class RunbookLink(RequestBody):
    title: ShortText
    url: Url


class Grouping(RequestBody):
    """How alerts join incidents: ``none`` (one each), ``time`` (window) or ``fields``."""

    mode: Literal["none", "time", "fields"] = "none"
    window_minutes: StrictInt | None = Field(default=None, description="Default 10.")
    fields: list[Literal["source", "component", "group", "class", "severity"]] | None = Field(
        default=None, max_length=5
    )


class EventRule(RequestBody):
    """The first rule whose condition holds suppresses the event or sets its priority/severity."""

    field: Literal["summary", "source", "severity", "component", "group", "class", "client"]
    op: Literal["equals", "contains", "matches"]
    value: Annotated[str, Field(min_length=1, max_length=500), AfterValidator(storable)]
    suppress: StrictBool = False
    priority: Literal["high", "medium", "low", "notification"] | None = None
    severity: Literal["critical", "error", "warning", "info"] | None = None


class ServiceCreate(RequestBody):
    name: ServiceName
    description: Description = ""
    owner_team_id: uuid.UUID | None = None
    urgency_rule: UrgencyRule = "high"
    support_hours: SupportHours | None = None
    outside_hours: OutsideHours = "low"
    ack_timeout_minutes: int | None = Field(default=None, ge=1, le=1440)
    auto_resolve_minutes: int | None = Field(default=None, ge=1, le=10080)
    runbook_links: list[RunbookLink] = Field(default_factory=list, max_length=20)
    grouping: Grouping | None = None
    storm_threshold: StrictInt | None = 20
    event_rules: list[EventRule] = Field(default_factory=list, max_length=50)
    escalation_policy_id: uuid.UUID | None = None


class ServiceUpdate(RequestBody):
    """Fields left out keep their value; ``null`` clears a nullable field."""

    name: ServiceName | None = None
    description: Description | None = None
    owner_team_id: uuid.UUID | None = None
    urgency_rule: UrgencyRule | None = None
    support_hours: SupportHours | None = None
    outside_hours: OutsideHours | None = None
    ack_timeout_minutes: int | None = Field(default=None, ge=1, le=1440)
    auto_resolve_minutes: int | None = Field(default=None, ge=1, le=10080)
    runbook_links: list[RunbookLink] | None = Field(default=None, max_length=20)
    grouping: Grouping | None = None
    storm_threshold: StrictInt | None = None
    event_rules: list[EventRule] | None = Field(default=None, max_length=50)
    escalation_policy_id: uuid.UUID | None = None


class IntegrationCreate(RequestBody):
    kind: IntegrationKind
    name: ShortText


class IntegrationOut(ResponseBody):
    id: uuid.UUID
    kind: str
    name: str
    routing_key: str
    url: str | None = Field(
        default=None, description="Where senders post events (none for heartbeat integrations)."
    )
    mapping: dict[str, Any] | None = None
    created_at: datetime


class ServiceOut(ResponseBody):
    id: uuid.UUID
    name: str
    description: str
    owner_team_id: uuid.UUID | None
    urgency_rule: str
    support_hours: dict[str, Any] | None
    outside_hours: str
    ack_timeout_minutes: int | None
    auto_resolve_minutes: int | None
    runbook_links: list[dict[str, str]]
    grouping: dict[str, Any]
    storm_threshold: int | None
    event_rules: list[dict[str, Any]]
    escalation_policy_id: uuid.UUID | None = None
    integrations: list[IntegrationOut]
    created_at: datetime
    updated_at: datetime


class ServicePage(BaseModel):
    data: list[ServiceOut]
    next_cursor: str | None
