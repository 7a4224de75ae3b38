"""ICS calendar feeds, authenticated by the feed token in the URL instead of a session.

A wrong, rotated or unknown token answers 404 with an empty body: the URL itself is
the secret, so nothing tells a guesser how close they came.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from tocsin.kernel.errors import NotFound
from tocsin.schedules import calendar
from tocsin.web.deps import AppServices

router = APIRouter(tags=["calendars"], include_in_schema=False)

ICS = "text/calendar; charset=utf-8"
# Feeds hold names and on-call times: no caching by proxies, no referrer leaks.
HEADERS = {"Cache-Control": "private, max-age=300", "Referrer-Policy": "no-referrer"}


@router.get("/calendars/users/{token}.ics")
def user_feed(token: str, services: AppServices) -> Response:
    try:
        with services.db.read() as tx:
            body = calendar.user_feed(tx, token=token, now=services.clock.now())
    except NotFound:
        return Response(status_code=404)
    return Response(body, media_type=ICS, headers=HEADERS)


@router.get("/calendars/schedules/{schedule_id}/{token}.ics")
def schedule_feed(schedule_id: str, token: str, services: AppServices) -> Response:
    try:
        ident = uuid.UUID(schedule_id)
        with services.db.read() as tx:
            body = calendar.schedule_feed(
                tx, schedule_id=ident, token=token, now=services.clock.now()
            )
    except (NotFound, ValueError):
        return Response(status_code=404)
    return Response(body, media_type=ICS, headers=HEADERS)
