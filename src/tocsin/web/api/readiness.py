"""Readiness: who in a rotation cannot be reached, levels that reach nobody, services without
a policy (the same report as ``tocsin readiness`` and the /readiness page)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from tocsin.insight import readiness
from tocsin.people.rules import authorize
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(tags=["escalation policies"])


@router.get("/readiness", summary="What would keep a page from reaching somebody, right now")
def get_readiness(principal: CurrentPrincipal, services: AppServices) -> dict[str, Any]:
    authorize(principal.actor, "policies.read")
    with services.db.read() as tx:
        return readiness.report(tx, now=services.clock.now()).to_json()
