"""Paging latency and throughput: event → page, escalation lateness, dispatcher messages/s.

One command (``python -m bench paging [--quick]`` or ``python -m bench.paging``), loopback
only, bounded in time, on SQLite (a temporary directory) and PostgreSQL (a fresh database,
dropped afterwards). Pages go to a real local HTTP receiver (tests/e2e/paging_sink.py)
that verifies each webhook's signature and notes its arrival time.

(a) Event → first page: a real ``tocsin serve`` (embedded engine, woken by intake commits)
    gets probe events for a service whose one-level policy pages a person by webhook,
    one every ~150 ms, while bench/loadgen.py sends background events (10 and 200 ev/s)
    to a service without a policy. Latency = sink arrival - the moment the 202 came back.
(b) Escalation lateness: N open escalations due uniformly over a span (10,000 over 10 min;
    --quick: 1,000 over 1 min), one ``tocsin engine``. Lateness = the page row's
    ``created_at`` - the step's due time.
(c) Dispatcher throughput: M queued webhook messages (5,000; --quick 1,000) drained by
    one ``tocsin engine`` with TOCSIN_DISPATCH_PARALLEL 4, 8 (the default) and 16;
    messages/s between the first and the last arrival at the sink.
"""

from __future__ import annotations

import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import psycopg
from sqlalchemy import Table, bindparam, func, select, update
from tests.e2e.paging_sink import SYSTEM, PagingSink, open_incidents, webhook_responders

from bench.ingest import PG_ADMIN, ROOT, _database, _free_port, _processes, _wait_http
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.escalation.tables import EscalationState
from tocsin.kernel import logging as tlog
from tocsin.kernel.clock import SystemClock
from tocsin.notifications import actions
from tocsin.notifications.tables import OutboundMessage
from tocsin.services import actions as services

RESULTS = ROOT / "bench" / "results"
SECRET = "bench-paging-secret-0123456789"
TARGET_LATENCY_P99_S = 1.0
TARGET_LATENESS_P99_S = 1.0
TARGET_MSGS_PER_S = 500.0
PROBE = re.compile(r"probe (\d+)/(\d+) end")


def _env(url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_DATABASE_URL=url,
        TOCSIN_DATA_DIR=str(data_dir),
        TOCSIN_SECRET_KEY=SECRET,
        TOCSIN_WEBHOOK_ALLOW_PRIVATE="true",
        TOCSIN_INTAKE_RATE_PER_MINUTE="0",
        TOCSIN_LOG_LEVEL="warning",
        TOCSIN_LOG_FORMAT="json",
    )
    env.update(extra)
    return env


def _engine(data_dir: Path) -> list[str]:
    return [sys.executable, "-m", "tocsin", "--data-dir", str(data_dir), "engine"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _stats(seconds: list[float]) -> dict[str, Any]:
    if not seconds:
        return {"n": 0, "p50_s": None, "p99_s": None, "max_s": None}
    return {
        "n": len(seconds),
        "p50_s": round(_pct(seconds, 0.5), 4),
        "p99_s": round(_pct(seconds, 0.99), 4),
        "max_s": round(max(seconds), 4),
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _fresh(url: str) -> Database:
    db = Database(url)
    migrate.upgrade(db)
    return db


# -- (a) event accepted → first page at the sink ----------------------------------------------


def latency(url: str, workdir: Path, probes: int, rates: tuple[int, ...]) -> list[dict[str, Any]]:
    db = _fresh(url)
    rows: list[dict[str, Any]] = []
    try:
        with PagingSink(SECRET.encode()) as sink:
            now = SystemClock().now()
            [probe] = webhook_responders(db, [sink.url("probe")], now=now, prefix="Probe")
            with db.transaction() as tx:
                made = services.create_service(tx, name="Background", actor=SYSTEM, now=now)
                made.storm_threshold = None  # every background event opens an incident
                background = made.integrations[0].routing_key
            data_dir = workdir / "data-a"
            port = _free_port()
            serve = [
                sys.executable,
                "-m",
                "tocsin",
                "--data-dir",
                str(data_dir),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            env = _env(url, data_dir)
            with _processes([serve], env, workdir / "serve.log"):
                _wait_http(f"http://127.0.0.1:{port}/healthz")
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                    for rate in rates:
                        rows.append(
                            _probe_run(
                                client, sink, probe.routing_key, background, rate, probes, port
                            )
                        )
    finally:
        db.dispose()
    return rows


def _probe_run(
    client: httpx.Client,
    sink: PagingSink,
    probe_key: str,
    background_key: str,
    rate: int,
    probes: int,
    port: int,
) -> dict[str, Any]:
    interval = 0.15
    seconds = probes * interval + 8
    command = [sys.executable, "-m", "bench.loadgen", "--key", background_key, "--mode", "unique"]
    command += ["--seconds", str(seconds), "--connections", "8", "--rate", str(rate)]
    command += ["--target", f"127.0.0.1:{port}"]
    gen = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    accepted: dict[int, float] = {}
    try:
        time.sleep(3)  # let the background load settle
        rng = random.Random(rate)
        for n in range(probes):
            body = {
                "routing_key": probe_key,
                "event_action": "trigger",
                "dedup_key": f"probe-{rate}-{n}",
                "payload": {
                    "summary": f"probe {rate}/{n} end",
                    "source": "bench",
                    "severity": "critical",
                },
            }
            answer = client.post("/v2/enqueue", json=body)
            if answer.status_code == 202:
                accepted[n] = time.time()
            time.sleep(rng.uniform(0.5, 1.5) * interval)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_arrivals(sink, rate)) < len(accepted):
            time.sleep(0.2)
    finally:
        out, _ = gen.communicate(timeout=seconds + 120)
    arrived = _arrivals(sink, rate)
    lat = [arrived[n] - t for n, t in accepted.items() if n in arrived]
    load = json.loads(out) if out.strip() else {}
    return {
        "background_rate": rate,
        "background_achieved": round(load.get("events_per_second", 0.0), 1),
        "probes": probes,
        "accepted": len(accepted),
        "paged": len(lat),
        **_stats(lat),
    }


def _arrivals(sink: PagingSink, rate: int) -> dict[int, float]:
    first: dict[int, float] = {}
    for d in sink.snapshot():
        match = PROBE.search(d.subject)
        if match and int(match.group(1)) == rate:
            n = int(match.group(2))
            first[n] = min(first.get(n, d.received_at), d.received_at)
    return first


# -- (b) escalation lateness --------------------------------------------------------------------


def lateness(url: str, workdir: Path, count: int, spread: float, cycle: float) -> dict[str, Any]:
    db = _fresh(url)
    try:
        with PagingSink(SECRET.encode()) as sink:
            now = SystemClock().now()
            responders = webhook_responders(db, [sink.url(f"p{n}") for n in range(4)], now=now)
            begun = time.monotonic()
            opened = open_incidents(db, responders, count, now=now, batch=500)
            setup_s = time.monotonic() - begun
            rng = random.Random(count)
            base = SystemClock().now() + timedelta(seconds=8)
            due = {iid: base + timedelta(seconds=rng.uniform(0, spread)) for iid, _ in opened}
            table = cast(Table, EscalationState.__table__)
            with db.transaction() as tx:
                tx.connection().execute(
                    update(table)
                    .where(table.c.incident_id == bindparam("b_incident"))
                    .values(next_step_at=bindparam("b_due")),
                    [{"b_incident": i, "b_due": d} for i, d in due.items()],
                )
            data_dir = workdir / "data-b"
            env = _env(url, data_dir, TOCSIN_ENGINE_CYCLE_SECONDS=str(cycle))
            with _processes([_engine(data_dir)], env, workdir / "engine-b.log"):
                deadline = time.monotonic() + spread + 90
                while time.monotonic() < deadline:
                    time.sleep(2)
                    with db.read() as tx:
                        active = tx.execute(
                            select(func.count()).where(EscalationState.status == "active")
                        ).scalar_one()
                    if active == 0:
                        break
            with db.read() as tx:
                created = dict(
                    tx.execute(
                        select(OutboundMessage.incident_id, func.min(OutboundMessage.created_at))
                        .where(OutboundMessage.kind == "page")
                        .group_by(OutboundMessage.incident_id)
                    ).all()
                )
            late = [
                (_aware(created[iid]) - _aware(d)).total_seconds()
                for iid, d in due.items()
                if iid in created
            ]
            return {
                "escalations": count,
                "spread_s": spread,
                "cycle_s": cycle,
                "setup_s": round(setup_s, 1),
                "stepped": len(late),
                "pages_at_sink": sink.count(),
                "min_s": round(min(late), 4) if late else None,
                **_stats(late),
            }
    finally:
        db.dispose()


# -- (c) dispatcher throughput ------------------------------------------------------------------


def throughput(url: str, workdir: Path, count: int, parallel: int) -> dict[str, Any]:
    db = _fresh(url)
    try:
        with PagingSink(SECRET.encode()) as sink:
            now = SystemClock().now()
            tag = uuid.uuid4().hex[:8]
            for start in range(0, count, 500):
                with db.transaction() as tx:
                    for n in range(start, min(count, start + 500)):
                        actions.enqueue(
                            tx,
                            dedup_key=f"bench:{tag}:{n}",
                            channel="webhook",
                            recipient=sink.url("tput"),
                            subject=f"bench message {n}",
                            body="Something is on fire.",
                            now=now,
                            context={"kind": "message"},
                        )
            data_dir = workdir / f"data-c{parallel}"
            env = _env(
                url,
                data_dir,
                TOCSIN_DISPATCH_PARALLEL=str(parallel),
                TOCSIN_ENGINE_CYCLE_SECONDS="5",
            )
            begun = time.monotonic()
            with _processes([_engine(data_dir)], env, workdir / f"engine-c{parallel}.log"):
                deadline = begun + 600
                while sink.count() < count and time.monotonic() < deadline:
                    time.sleep(0.2)
            arrivals = sorted(d.received_at for d in sink.snapshot())
            span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else float("nan")
            return {
                "messages": count,
                "parallel": parallel,
                "arrived": len(arrivals),
                "unique": len(sink.by_dedup_key()),
                "seconds": round(span, 2),
                "msgs_per_s": round(len(arrivals) / span, 1) if span == span and span else 0.0,
            }
    finally:
        db.dispose()


# -- the run ------------------------------------------------------------------------------------


def _pg_available() -> bool:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3):
            return True
    except psycopg.Error:
        return False


def _loadavg() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def run(quick: bool, parts: tuple[str, ...] = ("a", "b", "c")) -> dict[str, Any]:
    probes = 50 if quick else 200
    count, spread = (1000, 60.0) if quick else (10_000, 600.0)
    messages = 1000 if quick else 5000
    # The default cycle: the runner sleeps only until the next due step (engine/runner.py).
    cycle_b = 5.0
    rows: list[dict[str, Any]] = []
    backends = ["sqlite", "postgresql"] if _pg_available() else ["sqlite"]
    for kind in backends:
        with tempfile.TemporaryDirectory(prefix="tocsin-bench-paging-") as tmp:
            workdir = Path(tmp)
            for part in parts:
                with _database(kind, _mk(workdir, part)) as url:
                    if part == "a":
                        results = latency(url, workdir, probes, (10, 200))
                    elif part == "b":
                        results = [lateness(url, workdir, count, spread, cycle_b)]
                    else:
                        results = [throughput(url, workdir, messages, p) for p in (4, 8, 16)]
                    for result in results:
                        rows.append({"part": part, "database": kind, **result})
                        print(json.dumps(rows[-1]), flush=True)
    return {"rows": rows, "quick": quick, "cycle_b": cycle_b}


def _mk(workdir: Path, part: str) -> Path:
    path = workdir / part
    path.mkdir(parents=True, exist_ok=True)
    return path


def _judge(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        if row["part"] == "a":
            row["target"] = f"p99 <= {TARGET_LATENCY_P99_S} s"
            row["met"] = row["p99_s"] is not None and row["p99_s"] <= TARGET_LATENCY_P99_S
        elif row["part"] == "b":
            row["target"] = f"p99 <= {TARGET_LATENESS_P99_S} s"
            row["met"] = row["p99_s"] is not None and row["p99_s"] <= TARGET_LATENESS_P99_S
        else:
            row["target"] = f">= {TARGET_MSGS_PER_S:.0f} msg/s (PostgreSQL)"
            row["met"] = (
                row["msgs_per_s"] >= TARGET_MSGS_PER_S if row["database"] == "postgresql" else None
            )


def _print(rows: list[dict[str, Any]], quick: bool) -> None:
    print(f"paging bench{' (--quick: smaller and shorter, see JSON)' if quick else ''}")
    header = f"{'case':58} {'db':10} {'p50':>8} {'p99':>8} {'max':>8} {'msg/s':>7}  met"
    print(header)
    print("-" * len(header))
    for r in rows:
        if r["part"] == "a":
            case = f"(a) event→page, bg {r['background_rate']} ev/s ({r['paged']}/{r['probes']})"
        elif r["part"] == "b":
            case = f"(b) lateness, {r['escalations']} over {r['spread_s']:.0f} s ({r['stepped']})"
        else:
            case = f"(c) dispatcher, {r['messages']} webhooks, parallel {r['parallel']}"
        p50, p99, top = (r.get(k) or 0.0 for k in ("p50_s", "p99_s", "max_s"))
        cells = (
            f"{p50:8.3f} {p99:8.3f} {top:8.3f} {'':>7}"
            if r["part"] != "c"
            else f"{'':>8} {'':>8} {'':>8} {r['msgs_per_s']:7.0f}"
        )
        met = {True: "yes", False: "NO", None: "-"}[r["met"]]
        print(f"{case[:58]:58} {r['database']:10} {cells}  {met}")


def main(*, quick: bool = False) -> dict[str, Any]:
    """``--parts=c`` (or ``a,b``) re-runs some parts and keeps the others' last results."""
    tlog.configure(json=True, level="warning")
    load_before = _loadavg()
    begun = time.monotonic()
    chosen = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--parts=")), "a,b,c")
    parts = tuple(p for p in ("a", "b", "c") if p in chosen.split(","))
    report = run(quick, parts)
    if parts != ("a", "b", "c") and (RESULTS / "paging.json").exists():
        earlier = json.loads((RESULTS / "paging.json").read_text())["rows"]
        report["rows"] = [r for r in earlier if r["part"] not in parts] + report["rows"]
        report["rows"].sort(key=lambda r: (r["database"] != "sqlite", r["part"]))
    _judge(report["rows"])
    document = {
        "benchmark": "paging",
        "what": __doc__.strip().splitlines()[0] if __doc__ else "paging",
        "method": {
            "a": "tocsin serve (embedded engine, default TOCSIN_ENGINE_CYCLE_SECONDS=5, woken by "
            "intake commits); probes every ~150 ms to a service paging one webhook person; "
            "background bench/loadgen.py open loop, unique keys, to a service without policy; "
            "latency = sink arrival - 202 received",
            "b": f"one tocsin engine, TOCSIN_ENGINE_CYCLE_SECONDS={report['cycle_b']}; due times "
            "set uniformly at random over the span; lateness = outbound_messages.created_at - due",
            "c": "one tocsin engine, default TOCSIN_ENGINE_CYCLE_SECONDS=5, batch 50 x 10 per "
            "cycle; plain webhook messages (no incident); rate between first and last arrival",
            "sink": "tests/e2e/paging_sink.py: ThreadingHTTPServer on 127.0.0.1, verifies "
            "X-Tocsin-Signature, answers 200 at once",
            "quick": report["quick"],
        },
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_before": load_before,
            "loadavg_after": _loadavg(),
            "note": "a 2-core VM; compare the load averages before and after",
        },
        "seconds": round(time.monotonic() - begun, 1),
        "parts_run_now": list(parts),
        "rows": report["rows"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "paging.json").write_text(json.dumps(document, indent=2) + "\n")
    _print(report["rows"], quick)
    return document


if __name__ == "__main__":
    main(quick="--quick" in sys.argv[1:])
