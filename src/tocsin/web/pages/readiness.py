"""The readiness page: what would keep a page from reaching somebody, to fix before 3 a.m."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tocsin.insight import readiness
from tocsin.people import rules as people_rules
from tocsin.web.deps import AppServices
from tocsin.web.pages.forms import Viewer
from tocsin.web.pages.render import render

router = APIRouter()


@router.get("/readiness")
def readiness_page(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "policies.read")
    with services.db.read() as tx:
        report = readiness.report(tx, now=services.clock.now())
    return render(
        request,
        "readiness.html",
        viewer,
        {
            "section": "policies",
            "report": report,
            "people": report.of_kind("person"),
            "policies": report.of_kind("policy"),
            "services_missing": report.of_kind("service"),
        },
    )
