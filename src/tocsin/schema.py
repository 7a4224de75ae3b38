"""Every table's module, imported so the metadata is complete (migration checks, tests)."""

from tocsin.db import audit, counters
from tocsin.db.base import Base
from tocsin.engine import tables as engine_tables
from tocsin.escalation import tables as escalation_tables
from tocsin.incidents import tables as incident_tables
from tocsin.notifications import tables as notification_tables
from tocsin.people import tables as people_tables
from tocsin.schedules import tables as schedule_tables
from tocsin.services import tables as service_tables

metadata = Base.metadata

__all__ = [
    "audit",
    "counters",
    "engine_tables",
    "escalation_tables",
    "incident_tables",
    "metadata",
    "notification_tables",
    "people_tables",
    "schedule_tables",
    "service_tables",
]
