"""REST API under /api/v1: one module per resource, combined here."""

from fastapi import APIRouter, Depends, Request

from tocsin.web.api import audit, me, messages, people, services, teams, tokens
from tocsin.web.deps import authenticate, check_csrf


def csrf_for_cookies(request: Request) -> None:
    """A cookie-authenticated unsafe request must send X-CSRF-Token, whatever its content type.

    ``require_principal`` lets form posts through for the pages (they carry the token in
    a field); the API has no form endpoints, so a cross-site form post is refused here.
    """
    principal = authenticate(request)
    if principal is not None:
        check_csrf(request, principal, None)


router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_for_cookies)])
router.include_router(me.router)
router.include_router(people.router)
router.include_router(teams.router)
router.include_router(tokens.router)
router.include_router(messages.router)
router.include_router(audit.router)
router.include_router(services.router)
