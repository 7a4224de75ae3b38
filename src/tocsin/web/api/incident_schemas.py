"""Request and response bodies of the incident, alert and intake-settings routes.

As in ``schemas``: requests forbid unknown fields and bound every string; the actions
keep the business rules (severity scale, snooze range, who may acknowledge).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictInt

from tocsin.web.api.schemas import RequestBody, ShortText, storable

LongText = Annotated[str, Field(max_length=10_000), AfterValidator(storable)]
Title = Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(storable)]
Reference = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(storable)]
SeverityIn = Annotated[
    StrictInt | Annotated[str, Field(max_length=10), AfterValidator(storable)],
    Field(description='"SEV-1" to "SEV-5", or 1 to 5.'),
]
Status = Literal["triggered", "acknowledged", "resolved"]
Urgency = Literal["high", "low"]


class Named(BaseModel):
    id: uuid.UUID
    name: str


class Severity(BaseModel):
    level: int
    label: str = Field(description='"SEV-2"')


# Incidents ------------------------------------------------------------------------------


class IncidentCreate(RequestBody):
    service_id: uuid.UUID
    title: Title
    description: LongText = ""
    urgency: Urgency = "high"
    severity: SeverityIn | None = None
    assignee_id: uuid.UUID | None = None


class ResolveBody(RequestBody):
    note: LongText = ""


class ReassignBody(RequestBody):
    assignee_id: uuid.UUID


class SnoozeBody(RequestBody):
    minutes: StrictInt = Field(description="1 to 1440.")


class NoteBody(RequestBody):
    text: LongText


class SeverityBody(RequestBody):
    severity: SeverityIn | None = Field(description="null clears the severity.")


class UrgencyBody(RequestBody):
    urgency: Urgency


class PriorityBody(RequestBody):
    priority: Literal["high", "medium", "low"] | None


class MergeBody(RequestBody):
    child_ids: list[StrictInt | Reference] = Field(
        min_length=1,
        max_length=100,
        description='Incidents to merge under this one: numbers (1423, "#1423") or ids.',
    )


class CallByHand(BaseModel):
    name: str
    phones: list[str]


class EscalationOut(BaseModel):
    """Where the incident's escalation stands (``null`` on incidents with none)."""

    policy_name: str
    status: str = Field(description="active, stopped (acknowledged/resolved) or exhausted")
    level: int = Field(description="The next level to page, counted from 1")
    levels: int
    loop: int
    next_step_at: datetime | None
    paged: list[Named]
    unreachable_at: datetime | None
    unreachable: list[CallByHand] = Field(description="Nobody reached: call them by hand")


class IncidentOut(BaseModel):
    id: uuid.UUID
    number: int
    title: str
    description: str
    status: str
    urgency: str
    priority: str | None
    severity: Severity | None
    major: bool = Field(description="Derived: SEV-2 or worse.")
    service: Named | None
    assignee: Named | None
    alert_count: int
    storm: bool
    parent_number: int | None = Field(description="The primary this incident is merged into.")
    created_at: datetime
    updated_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    snoozed_until: datetime | None
    html_url: str
    escalation: EscalationOut | None = None


class IncidentPage(BaseModel):
    data: list[IncidentOut]
    next_cursor: str | None


class ActorOut(BaseModel):
    id: uuid.UUID | None
    name: str


class TimelineEventOut(BaseModel):
    id: uuid.UUID
    kind: str
    label: str
    at: datetime
    actor: ActorOut
    data: dict[str, Any]


class TimelinePage(BaseModel):
    data: list[TimelineEventOut]
    next_cursor: str | None


class SeverityChangeOut(BaseModel):
    severity: Severity | None
    previous: Severity | None
    major: bool
    at: datetime
    actor: ActorOut


# Alerts ---------------------------------------------------------------------------------


class QualityFlag(BaseModel):
    flag: str
    advice: str


class AlertOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    integration_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    incident_number: int | None
    dedup_key: str
    status: str
    priority: str
    suppressed: bool
    suppressed_reason: str | None
    summary: str
    source: str
    severity: str
    component: str | None
    group: str | None
    class_: str | None = Field(alias="class")
    custom_details: Any
    links: list[dict[str, str]]
    images: list[dict[str, str]]
    client: str | None
    client_url: str | None
    quality_flags: list[QualityFlag]
    join_reason: str = Field(description="Why this alert joined its incident.")
    event_count: int = Field(description="Events deduplicated into this alert.")
    created_at: datetime
    last_seen_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    model_config = ConfigDict(populate_by_name=True)


class AlertPage(BaseModel):
    data: list[AlertOut]
    next_cursor: str | None


class ChangeOut(BaseModel):
    id: uuid.UUID
    summary: str
    source: str
    custom_details: Any
    links: list[dict[str, str]]
    at: datetime


class IncidentContext(BaseModel):
    """What happened on the service in the day before the incident opened."""

    suppressed_alerts: list[AlertOut]
    changes: list[ChangeOut]


# Intake settings: webhook mappings, maintenance windows, heartbeats, quality ------------


class MappingBody(RequestBody):
    mapping: dict[str, Any] = Field(
        description='JSON paths into the payload, e.g. {"summary": "alert.title", '
        '"dedup_key": "id", "severity_map": {"P1": "critical"}}.'
    )


class MappingPreviewBody(MappingBody):
    sample: Any = Field(description="A payload as the sender would post it.")


class PreviewAlert(BaseModel):
    action: str
    summary: str
    source: str
    severity: str
    custom_details: Any
    links: list[dict[str, str]]


class MappingPreviewOut(BaseModel):
    ok: bool
    alert: PreviewAlert | None
    dedup_key: str | None
    errors: list[str]
    quality_flags: list[QualityFlag]


class MaintenanceCreate(RequestBody):
    start_at: datetime
    end_at: datetime
    reason: Annotated[str, Field(max_length=500), AfterValidator(storable)] = ""


class MaintenanceOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    start_at: datetime
    end_at: datetime
    reason: str
    active: bool
    created_by_id: uuid.UUID | None
    created_at: datetime


class HeartbeatCreate(RequestBody):
    name: ShortText
    interval_minutes: StrictInt = Field(description="1 to 10080.")


class HeartbeatOut(BaseModel):
    id: uuid.UUID
    service_id: uuid.UUID
    name: str
    interval_minutes: int
    status: str = Field(description="waiting (no ping yet), up or down.")
    last_ping_at: datetime | None
    next_due_at: datetime | None
    ping_url: str = Field(description="GET or POST it every interval.")
    created_at: datetime


class QualityWindow(BaseModel):
    flagged: int
    total: int


class QualityCount(QualityFlag):
    count: int


class QualityOut(BaseModel):
    last_7_days: QualityWindow
    last_30_days: QualityWindow
    breakdown: list[QualityCount] = Field(description="Per flag, over the last 30 days.")
