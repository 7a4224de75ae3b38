"""REST API under /api/v1: one module per resource, combined here."""

from fastapi import APIRouter

from tocsin.web.api import (
    alerts,
    audit,
    contacts,
    escalation_policies,
    incident_actions,
    incidents,
    intake_settings,
    me,
    messages,
    paging_actions,
    people,
    readiness,
    schedule_changes,
    schedules,
    services,
    teams,
    tokens,
)

router = APIRouter(prefix="/api/v1")
router.include_router(me.router)
router.include_router(people.router)
router.include_router(teams.router)
router.include_router(tokens.router)
router.include_router(messages.router)
router.include_router(audit.router)
router.include_router(services.router)
router.include_router(intake_settings.router)
router.include_router(incidents.router)
router.include_router(incident_actions.router)
router.include_router(paging_actions.router)
router.include_router(escalation_policies.router)
router.include_router(readiness.router)
router.include_router(contacts.router)
router.include_router(alerts.router)
router.include_router(schedules.router)
router.include_router(schedule_changes.router)
