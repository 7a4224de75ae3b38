"""The Server-Sent Events stream that tells open pages incident state changed."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from tests.integration.api_support import api_client
from tests.integration.intake_support import CLI, make_service
from tocsin.bootstrap import Container
from tocsin.incidents import actions
from tocsin.web.pages.live import events


class _Request:
    """Stands in for a connected browser: disconnects after ``polls`` checks."""

    def __init__(self, polls: int) -> None:
        self.polls = polls

    async def is_disconnected(self) -> bool:
        self.polls -= 1
        return self.polls < 0


def _collect(container: Container, polls: int, between=None) -> list[str]:
    async def run() -> list[str]:
        out = []
        async for chunk in events(_Request(polls), container, check_seconds=0.01):
            out.append(chunk)
            if between is not None and chunk.startswith("event: change"):
                between()
        return out

    # A thread of its own: Playwright's sync API (browser tests in the same session) keeps an
    # event loop running in the main thread, where asyncio.run() refuses to start another.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(run())).result()


def test_the_stream_sends_a_new_marker_when_an_incident_changes(container: Container) -> None:
    service, _key = make_service(container)
    with container.db.transaction() as tx:
        incident = actions.trigger_incident(
            tx,
            title="Checkout is down",
            service_id=service.id,
            actor=CLI,
            now=container.clock.now(),
        )
    changed = []

    def add_note_once() -> None:
        if not changed:
            changed.append(True)
            with container.db.transaction() as tx:
                actions.add_note(
                    tx,
                    incident_id=incident.id,
                    text="Looking",
                    actor=CLI,
                    now=container.clock.now(),
                )

    chunks = _collect(container, polls=5, between=add_note_once)
    assert chunks[0].startswith("retry: ")
    markers = [c.split("data: ")[1].strip() for c in chunks if c.startswith("event: change")]
    assert len(markers) == 2 and markers[0] != markers[1]


def test_the_stream_needs_a_signed_in_viewer(container: Container) -> None:
    with api_client(container) as client:
        response = client.get(
            "/live/changes", headers={"accept": "text/event-stream"}, follow_redirects=False
        )
    assert response.status_code in (303, 401)
