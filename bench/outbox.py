"""Outbox delivery throughput: the dispatcher draining N emails into a real SMTP server.

Baseline (the ceiling, measured in the same run): the same N messages sent by a
bare smtplib loop with the same channel code and no database. The honest figure
is the ratio of the two; absolute numbers depend on the machine.
Loopback only; bounded by N.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from aiosmtpd.controller import Controller

from tocsin import bootstrap
from tocsin.channels.base import Envelope
from tocsin.channels.email import SmtpConfig, SmtpEmail
from tocsin.kernel import logging as tlog
from tocsin.notifications import actions, repo
from tocsin.settings import Settings

RESULTS = Path(__file__).resolve().parent / "results"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


class _Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, _server: Any, _session: Any, _envelope: Any) -> str:
        self.count += 1
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def baseline(n: int, port: int) -> float:
    """Seconds for a bare loop to send n messages through the same SMTP channel."""
    channel = SmtpEmail(SmtpConfig(host="127.0.0.1", port=port))
    begun = time.perf_counter()
    for i in range(n):
        channel.send(
            Envelope(str(i), f"b{i}", "email", "ada@example.com", "bench", "body"), timeout=10
        )
    return time.perf_counter() - begun


def tocsin_run(n: int, port: int, database_url: str | None, data_dir: Path) -> dict[str, float]:
    """Enqueue n messages (one transaction each, as n actions would), then drain them."""
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        secret_key="bench-secret-key",  # type: ignore[arg-type]
    )
    c = bootstrap.build(settings, upgrade=True, configure_logging=False)
    try:
        begun = time.perf_counter()
        for _ in range(n):
            with c.db.transaction() as tx:
                actions.enqueue(
                    tx,
                    dedup_key=f"bench-{uuid.uuid4()}",
                    channel="email",
                    recipient="ada@example.com",
                    subject="bench",
                    body="body",
                    now=c.clock.now(),
                )
        enqueued = time.perf_counter() - begun
        begun = time.perf_counter()
        while True:
            c.runner.run_cycle()
            with c.db.read() as tx:
                counts = repo.count_by_status(tx)
            if counts.get("sent", 0) >= n:
                break
            if counts.get("failed"):
                raise RuntimeError(f"bench messages failed: {counts}")
        drained = time.perf_counter() - begun
        return {"enqueue_s": enqueued, "drain_s": drained}
    finally:
        c.close()


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _one_run(n: int, port: int, backend: str) -> dict[str, float]:
    """One measured run on a fresh database (a new PostgreSQL database, dropped afterwards)."""
    with tempfile.TemporaryDirectory() as tmp:
        if backend == "sqlite":
            return tocsin_run(n, port, None, Path(tmp))
        name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            return tocsin_run(n, port, f"postgresql://postgres@127.0.0.1:5432/{name}", Path(tmp))
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _row(case: str, n: int, seconds: float, vs: float | None) -> dict[str, Any]:
    return {
        "case": case,
        "messages": n,
        "seconds": seconds,
        "msgs_per_s": n / seconds,
        "vs_baseline": vs,
    }


def main(*, quick: bool = False) -> dict[str, Any]:
    n = 100 if quick else 500
    repeats = 1 if quick else 3
    tlog.configure(json=True, level="warning")
    port = _free_port()
    controller = Controller(_Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        base = statistics.median(baseline(n, port) for _ in range(repeats))
        rows = [_row("baseline: bare SMTP loop", n, base, 1.0)]
        backends = ["sqlite", "postgresql"] if _pg_available() else ["sqlite"]
        for backend in backends:
            runs = [_one_run(n, port, backend) for _ in range(repeats)]
            drain = statistics.median(r["drain_s"] for r in runs)
            enqueue = statistics.median(r["enqueue_s"] for r in runs)
            rows.append(_row(f"tocsin dispatcher ({backend})", n, drain, base / drain))
            rows.append(_row(f"enqueue, 1 tx each ({backend})", n, enqueue, None))
    finally:
        controller.stop()
    print(f"{'case':36} {'n':>5} {'median s':>9} {'msg/s':>9} {'÷ baseline':>10}")
    for r in rows:
        ratio = "" if r["vs_baseline"] is None else f"{r['vs_baseline']:.2f}"
        cells = f"{r['messages']:>5} {r['seconds']:>9.3f} {r['msgs_per_s']:>9.0f} {ratio:>10}"
        print(f"{r['case']:36} {cells}")
    result = {
        "benchmark": "outbox",
        "what": "dispatcher draining N queued emails into local aiosmtpd vs a bare smtplib loop",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "repeats": repeats,
        "rows": rows,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "outbox.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
