"""Server-rendered pages (Jinja2), combined here; each concern lives in its own module."""

from fastapi import APIRouter

from tocsin.web.pages import (
    auth,
    contact_pages,
    dashboard,
    incident_actions,
    incident_detail,
    incidents,
    live,
    messages,
    people,
    policies,
    profile,
    readiness,
    schedule_forms,
    schedules,
    service_detail,
    service_upkeep,
    services,
    teams,
)

router = APIRouter(include_in_schema=False)
for _module in (
    auth,
    dashboard,
    incidents,  # before incident_detail: /incidents/new is not an incident
    incident_detail,
    incident_actions,
    live,
    people,
    services,  # before service_detail: /services/new is not a service id
    service_detail,
    service_upkeep,
    teams,
    profile,
    contact_pages,
    policies,
    readiness,
    messages,
    schedules,
    schedule_forms,
):
    router.include_router(_module.router)
