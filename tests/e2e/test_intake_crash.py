"""Kill -9 the web server while clients send events: every event answered 202 is stored.

Real processes on real sockets (loopback): `tocsin serve --no-engine` on SQLite and
PostgreSQL, several client threads posting Events API v2 triggers, SIGKILL mid-stream,
a restart, and then an audit of the database against the dedup keys that got a 202.
Bounded in count (at most MAX_EVENTS) and time (DEADLINE_SECONDS per wait).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tests.e2e.cli import ROOT, clean_env
from tests.e2e.processes import wait_until
from tocsin.db.session import Database
from tocsin.incidents.intake import process_pending
from tocsin.incidents.tables import Alert, InboundEvent
from tocsin.kernel.actor import Actor
from tocsin.kernel.clock import SystemClock
from tocsin.services import actions as service_actions

pytestmark = pytest.mark.slow

CLIENTS = 4
MAX_EVENTS = 3000
KILL_AFTER_ACCEPTED = 150
DEADLINE_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str, port: int, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    with (workdir / f"{name}.log").open("wb") as log:  # the child keeps its own descriptor
        return _popen(url, port, workdir, log)


def _popen(url: str, port: int, workdir: Path, log: object) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tocsin",
            "--data-dir",
            str(workdir / "data"),
            "serve",
            "--no-engine",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=clean_env(TOCSIN_DATABASE_URL=url, TOCSIN_LOG_FORMAT="json"),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


class Senders:
    """Client threads posting unique triggers; they note each dedup key answered 202."""

    def __init__(self, base: str, key: str) -> None:
        self.base = base
        self.key = key
        self.accepted: set[str] = set()
        self.sent = 0
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._run, args=(n,)) for n in range(CLIENTS)]

    def _run(self, number: int) -> None:
        with httpx.Client(base_url=self.base, timeout=5) as client:
            sequence = 0
            while not self.stop.is_set():
                with self.lock:
                    if self.sent >= MAX_EVENTS:
                        return
                    self.sent += 1
                sequence += 1
                dedup = f"c{number}-{sequence}"
                body = {
                    "routing_key": self.key,
                    "event_action": "trigger",
                    "dedup_key": dedup,
                    "payload": {
                        "summary": f"crash test {dedup}",
                        "source": "t",
                        "severity": "info",
                    },
                }
                try:
                    answer = client.post("/v2/enqueue", json=body)
                except httpx.HTTPError:
                    time.sleep(0.05)  # the server is down: keep trying until told to stop
                    continue
                if answer.status_code == 202:
                    with self.lock:
                        self.accepted.add(dedup)

    def __enter__(self) -> Senders:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=DEADLINE_SECONDS)


def test_kill_9_mid_stream_loses_no_accepted_event(own_database_url: str, tmp_path: Path) -> None:
    database_url = own_database_url
    db = Database(database_url)
    try:
        with db.transaction() as tx:
            service = service_actions.create_service(
                tx, name="Crash", actor=Actor.system(via="cli"), now=SystemClock().now()
            )
            key = service.integrations[0].routing_key
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        first = _serve(database_url, port, tmp_path, "first")
        second = None
        try:
            wait_until(
                lambda: httpx.get(f"{base}/healthz", timeout=2).status_code == 200,
                timeout=DEADLINE_SECONDS,
                what="first server",
                log=tmp_path / "first.log",
            )
            with Senders(base, key) as senders:
                wait_until(
                    lambda: len(senders.accepted) >= KILL_AFTER_ACCEPTED,
                    timeout=DEADLINE_SECONDS,
                    what="accepted events",
                )
                os.kill(first.pid, signal.SIGKILL)
                first.wait(timeout=DEADLINE_SECONDS)
                at_kill = len(senders.accepted)
                second = _serve(database_url, port, tmp_path, "second")
                wait_until(
                    lambda: len(senders.accepted) >= at_kill + 50,
                    timeout=DEADLINE_SECONDS,
                    what="events after restart",
                    log=tmp_path / "second.log",
                )
            accepted = set(senders.accepted)
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=DEADLINE_SECONDS)
        with db.read() as tx:
            stored = [body["dedup_key"] for body in tx.execute(select(InboundEvent.body)).scalars()]
        assert accepted, "no event was accepted"
        missing = accepted - set(stored)
        assert not missing, f"{len(missing)} accepted events were lost: {sorted(missing)[:5]}"
        # And every stored event becomes exactly one alert when the engine processes it.
        while True:
            with db.transaction() as tx:
                if process_pending(tx, now=SystemClock().now(), limit=500) == 0:
                    break
        with db.read() as tx:
            alert_keys = list(tx.execute(select(Alert.dedup_key)).scalars())
        assert len(alert_keys) == len(set(alert_keys)) == len(set(stored))
        assert accepted <= set(alert_keys)
    finally:
        db.dispose()
