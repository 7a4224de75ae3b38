"""REST API under /api/v1: one module per resource, combined here."""

from fastapi import APIRouter

from tocsin.web.api import audit, me, messages, people, services, teams, tokens

router = APIRouter(prefix="/api/v1")
router.include_router(me.router)
router.include_router(people.router)
router.include_router(teams.router)
router.include_router(tokens.router)
router.include_router(messages.router)
router.include_router(audit.router)
router.include_router(services.router)
