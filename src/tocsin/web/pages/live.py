"""Server-Sent Events: tells open pages at once that incident state changed.

The stream carries a change marker (the newest timeline event id: every incident
change appends one, and UUIDv7 ids grow with time), checked once a second through
the primary key index. Pages then fetch the fragments they show. The stream ends
after a few minutes; browsers reconnect by themselves (``retry``), and a page
compares the marker it gets on reconnecting with the last one it saw.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Protocol

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from tocsin.incidents import repo as incident_repo
from tocsin.people.rules import authorize
from tocsin.web.deps import AppServices, Services
from tocsin.web.pages.forms import Viewer

router = APIRouter()

CHECK_SECONDS = 1.0
KEEPALIVE_SECONDS = 15.0
STREAM_SECONDS = 300.0
RETRY_MS = 3000


class Disconnectable(Protocol):
    async def is_disconnected(self) -> bool: ...


def change_marker(services: Services) -> str:
    with services.db.read() as tx:
        return incident_repo.change_marker(tx)


async def events(
    request: Disconnectable,
    services: Services,
    *,
    check_seconds: float = CHECK_SECONDS,
    stream_seconds: float = STREAM_SECONDS,
) -> AsyncIterator[str]:
    """The event stream: the marker at once, then each time it changes, keep-alives between."""
    yield f"retry: {RETRY_MS}\n\n"
    begun = time.monotonic()
    last: str | None = None
    quiet = 0.0
    while time.monotonic() - begun < stream_seconds:
        if await request.is_disconnected():
            return
        marker = await run_in_threadpool(change_marker, services)
        if marker != last:
            yield f"event: change\ndata: {marker}\n\n"
            last, quiet = marker, 0.0
        elif quiet >= KEEPALIVE_SECONDS:
            yield ": keep-alive\n\n"
            quiet = 0.0
        await asyncio.sleep(check_seconds)
        quiet += check_seconds


@router.get("/live/changes", include_in_schema=False)
async def changes(request: Request, viewer: Viewer, services: AppServices) -> StreamingResponse:
    authorize(viewer.actor, "incidents.read")
    return StreamingResponse(
        events(request, services),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
