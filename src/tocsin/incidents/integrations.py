"""Integration settings that need the event parsers: generic webhook mappings and their preview."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.kernel.actor import Actor
from tocsin.kernel.errors import ValidationFailed
from tocsin.people.rules import authorize
from tocsin.services import repo as service_repo
from tocsin.services.tables import Integration

from . import rules
from .events import Event, EventRejected
from .mapping import check_mapping, webhook_event


@dataclass(frozen=True, slots=True)
class MappingPreview:
    """What a sample payload becomes: the event (or the errors) and its quality flags."""

    event: Event | None
    errors: tuple[str, ...]
    quality_flags: tuple[str, ...]


def preview_mapping(mapping: Mapping[str, Any], sample: Any) -> MappingPreview:
    """Try a mapping on a sample payload without saving anything.

    An invalid mapping raises ValidationFailed (field paths ``mapping.*``); a sample the
    mapping cannot read gives ``errors`` as the intake would answer them.
    """
    checked = check_mapping(mapping)
    try:
        event = webhook_event(sample, checked)
    except EventRejected as exc:
        return MappingPreview(event=None, errors=tuple(exc.errors), quality_flags=())
    return MappingPreview(event=event, errors=(), quality_flags=rules.quality_flags(event))


def set_webhook_mapping(
    tx: Session,
    *,
    integration_id: uuid.UUID,
    mapping: Mapping[str, Any],
    actor: Actor,
    now: datetime,
) -> Integration:
    """Save a field mapping on a generic webhook integration (validated first)."""
    authorize(actor, "services.write")
    integration = service_repo.get_integration(tx, integration_id)
    if integration.kind != "generic_webhook":
        raise ValidationFailed.one(
            "integration_id", "Only generic webhook integrations have a field mapping."
        )
    check_mapping(mapping)
    integration.mapping = dict(mapping)
    audit.record(
        tx,
        actor=actor,
        kind="integration.mapping_set",
        subject_type="service",
        subject_id=integration.service_id,
        at=now,
        data={"integration_id": str(integration.id), "fields": sorted(mapping)},
    )
    return integration
