"""Event intake throughput and latency: the Events API v2 under concurrent clients.

One command (``python -m bench ingest`` or ``python -m bench.ingest``), loopback only,
bounded in time. For SQLite and PostgreSQL, with one and with two ``tocsin serve
--no-engine`` processes, a separate load-generator process (bench/loadgen.py) drives
``POST /v2/enqueue`` for a fixed time in three shapes: every event a new alert; 95 %
duplicates over 100 keys; alternating trigger/resolve. A 202 means the event is
committed (group commit; WAL with synchronous=NORMAL on SQLite). Reported: events/s,
p50/p99 latency, errors, peak RSS of the web processes; then p50/p99 at half the
peak rate (open loop); then how fast ``tocsin engine`` turns the accepted backlog
into alerts and incidents. The ceiling is measured in the same run: a bare ASGI app
under the same uvicorn that only answers 202. ``--soak MINUTES`` adds a long run at
half the peak rate on PostgreSQL and samples the web process's memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import func, select

from tocsin.db.session import Database
from tocsin.incidents.tables import InboundEvent

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
MODES = ("unique", "dup95", "alternate")
CONNECTIONS = 32
TARGETS = {
    ("postgresql", "unique"): 3000.0,
    ("postgresql", "dup95"): 5000.0,
    ("sqlite", "unique"): 2000.0,
}
P99_TARGET_MS = 50.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOCSIN_")}
    env.update(
        TOCSIN_DATABASE_URL=url,
        TOCSIN_DATA_DIR=str(data_dir),
        TOCSIN_INTAKE_RATE_PER_MINUTE="0",  # measure the intake, not the limiter
        TOCSIN_LOG_LEVEL="warning",
        TOCSIN_SECRET_KEY="bench-secret-key-0123456789",
    )
    return env


def _tocsin(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "tocsin", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=ROOT,
    )
    return done.stdout


@contextmanager
def _database(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    name = f"tocsin_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _wait_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@contextmanager
def _processes(commands: list[list[str]], env: dict[str, str], log: Path) -> Iterator[list[int]]:
    procs = []
    with log.open("ab") as out:
        for command in commands:
            procs.append(
                subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
            )
    try:
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _load(
    ports: list[int], key: str, mode: str, seconds: float, rate: float | None = None
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.loadgen", "--key", key, "--mode", mode]
    command += ["--seconds", str(seconds), "--connections", str(CONNECTIONS)]
    for port in ports:
        command += ["--target", f"127.0.0.1:{port}"]
    if rate is not None:
        command += ["--rate", str(rate)]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=seconds + 120, check=True, cwd=ROOT
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def _serve_commands(ports: list[int], data_dir: Path) -> list[list[str]]:
    return [
        [
            sys.executable,
            "-m",
            "tocsin",
            "--data-dir",
            str(data_dir),
            "serve",
            "--no-engine",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ]
        for port in ports
    ]


def _pending(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as tx:
            return int(
                tx.execute(
                    select(func.count())
                    .select_from(InboundEvent)
                    .where(InboundEvent.processed_at.is_(None))
                ).scalar_one()
            )
    finally:
        db.dispose()


def _drain(url: str, env: dict[str, str], data_dir: Path, log: Path, limit: float) -> dict:
    """How fast one ``tocsin engine`` turns accepted events into alerts/incidents."""
    before = _pending(url)
    command = [sys.executable, "-m", "tocsin", "--data-dir", str(data_dir), "engine"]
    begun = time.monotonic()
    with _processes([command], env, log):
        while time.monotonic() - begun < limit:
            time.sleep(1.0)
            left = _pending(url)
            if left == 0:
                break
    elapsed = time.monotonic() - begun
    after = _pending(url)
    done = before - after
    return {
        "backlog": before,
        "processed": done,
        "seconds": round(elapsed, 1),
        "events_per_second": done / elapsed if elapsed else 0.0,
        "left": after,
    }


def _ceiling(seconds: float, log: Path) -> dict[str, Any]:
    port = _free_port()
    command = [sys.executable, str(ROOT / "bench" / "ceiling.py"), str(port)]
    with _processes([command], dict(os.environ), log):
        _wait_http(f"http://127.0.0.1:{port}/")
        return _load([port], "ceiling", "unique", seconds)


def _row(case: str, db: str, procs: int, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    row = {
        "case": case,
        "database": db,
        "web_processes": procs,
        "mode": result["mode"],
        "events_per_second": round(result["events_per_second"], 1),
        "p50_ms": round(result["p50_ms"], 2),
        "p99_ms": round(result["p99_ms"], 2),
        "max_ms": round(result["max_ms"], 2),
        "requests": result["requests"],
        "errors": result["errors"],
    }
    row.update(extra)
    return row


def run(seconds: float, soak_minutes: float) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    drains: list[dict[str, Any]] = []
    soak: dict[str, Any] | None = None
    one_process_peak = 0.0
    with tempfile.TemporaryDirectory(prefix="tocsin-bench-") as tmp:
        workdir = Path(tmp)
        log = workdir / "processes.log"
        ceiling = _ceiling(seconds, log)
        rows.append(_row("ceiling: bare ASGI app answering 202", "-", 1, ceiling))
        for db_kind in ("sqlite", "postgresql"):
            with _database(db_kind, workdir) as url:
                data_dir = workdir / f"data-{db_kind}"
                env = _env(url, data_dir)
                _tocsin(env, "db", "upgrade")
                key = json.loads(_tocsin(env, "service", "create", "Bench", "--format", "json"))[
                    "routing_key"
                ]
                for procs in (1, 2):
                    ports = [_free_port() for _ in range(procs)]
                    with _processes(_serve_commands(ports, data_dir), env, log) as pids:
                        for port in ports:
                            _wait_http(f"http://127.0.0.1:{port}/healthz")
                        peak: dict[str, float] = {}
                        for mode in MODES:
                            result = _load(ports, key, mode, seconds)
                            target = TARGETS.get((db_kind, mode)) if procs == 1 else None
                            peak[mode] = result["events_per_second"]
                            rows.append(
                                _row(
                                    f"{db_kind}, {procs} web process{'es' if procs > 1 else ''}",
                                    db_kind,
                                    procs,
                                    result,
                                    target=target,
                                )
                            )
                        if procs == 1:
                            one_process_peak = peak["unique"]
                            half = peak["unique"] / 2
                            result = _load(ports, key, "unique", seconds, rate=half)
                            rows.append(
                                _row(
                                    f"{db_kind}, 1 web process, half the peak rate (open loop)",
                                    db_kind,
                                    1,
                                    result,
                                    target_p99_ms=P99_TARGET_MS,
                                    offered_rate=round(half, 1),
                                )
                            )
                        rss = [_peak_rss_mb(pid) for pid in pids]
                    for row in rows:
                        if row["database"] == db_kind and row["web_processes"] == procs:
                            row["peak_rss_mb"] = round(max(rss), 1)
                drain = _drain(url, env, data_dir, log, limit=max(30.0, seconds * 3))
                drain["database"] = db_kind
                drains.append(drain)
                if soak_minutes > 0 and db_kind == "postgresql":
                    soak = _soak(url, env, data_dir, log, key, soak_minutes, one_process_peak / 2)
    return {"rows": rows, "processing": drains, "soak": soak}


def _soak(
    url: str,
    env: dict[str, str],
    data_dir: Path,
    log: Path,
    key: str,
    minutes: float,
    rate: float,
) -> dict[str, Any]:
    """A long run at half the peak rate with the engine on: is the web process's memory flat?"""
    port = _free_port()
    engine = [sys.executable, "-m", "tocsin", "--data-dir", str(data_dir), "engine"]
    with _processes([*_serve_commands([port], data_dir), engine], env, log) as pids:
        _wait_http(f"http://127.0.0.1:{port}/healthz")
        command = [sys.executable, "-m", "bench.loadgen", "--key", key, "--mode", "dup95"]
        command += ["--seconds", str(minutes * 60), "--connections", str(CONNECTIONS)]
        command += ["--target", f"127.0.0.1:{port}", "--rate", str(rate)]
        gen = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        samples: list[tuple[float, float, float]] = []
        begun = time.monotonic()
        while gen.poll() is None:
            time.sleep(10)
            samples.append((round(time.monotonic() - begun), _rss_mb(pids[0]), _rss_mb(pids[1])))
        out, _ = gen.communicate(timeout=60)
    result = json.loads(out)
    web = [s[1] for s in samples]
    first_minute = [s[1] for s in samples if s[0] <= 60] or web[:1]
    return {
        "minutes": minutes,
        "offered_rate": round(rate, 1),
        "result": result,
        "web_rss_mb_first_minute_max": max(first_minute),
        "web_rss_mb_last": web[-1] if web else None,
        "web_rss_mb_max": max(web) if web else None,
        "engine_rss_mb_last": samples[-1][2] if samples else None,
        "samples": samples,
        "pending_after": _pending(url),
    }


def _print(report: dict[str, Any]) -> None:
    header = f"{'case':62} {'mode':9} {'ev/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'RSS MB':>7}  errors"
    print(header)
    print("-" * len(header))
    for row in report["rows"]:
        print(
            f"{row['case'][:62]:62} {row['mode']:9} {row['events_per_second']:8.0f} "
            f"{row['p50_ms']:7.1f} {row['p99_ms']:7.1f} {row.get('peak_rss_mb', float('nan')):7.0f}"
            f"  {row['errors'] or '-'}"
        )
    for drain in report["processing"]:
        print(
            f"engine processing on {drain['database']}: {drain['processed']} of "
            f"{drain['backlog']} accepted events in {drain['seconds']} s "
            f"= {drain['events_per_second']:.0f} events/s ({drain['left']} left)"
        )
    if report.get("soak"):
        soak = report["soak"]
        print(
            f"soak {soak['minutes']} min at {soak['offered_rate']} ev/s: web RSS first minute "
            f"{soak['web_rss_mb_first_minute_max']:.0f} MB, last {soak['web_rss_mb_last']:.0f} MB,"
            f" max {soak['web_rss_mb_max']:.0f} MB; p99 {soak['result']['p99_ms']:.1f} ms"
        )


def main(quick: bool = False, soak_minutes: float = 0.0) -> dict[str, Any]:
    seconds = 3.0 if quick else 10.0
    report = run(seconds, soak_minutes)
    ceiling = report["rows"][0]["events_per_second"]
    for row in report["rows"][1:]:
        row["vs_ceiling"] = round(row["events_per_second"] / ceiling, 3) if ceiling else None
        if row.get("target") is not None:
            row["met"] = row["events_per_second"] >= row["target"]
        if row.get("target_p99_ms") is not None:
            row["met"] = row["p99_ms"] <= row["target_p99_ms"]
    document = {
        "benchmark": "ingest",
        "what": __doc__.strip().splitlines()[0] if __doc__ else "ingest",
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "seconds_per_case": seconds,
        "connections": CONNECTIONS,
        "sqlite_durability": "WAL, synchronous=NORMAL (TOCSIN_SQLITE_SYNCHRONOUS=FULL available)",
        "load_generator": "bench/loadgen.py: asyncio + uvloop, keep-alive, 1 request in flight "
        "per connection (closed loop) unless an open-loop rate is given",
        **report,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ingest.json").write_text(json.dumps(document, indent=2) + "\n")
    _print(report)
    medians = [r["events_per_second"] for r in report["rows"][1:]]
    print(f"median across cases: {statistics.median(medians):.0f} events/s; ceiling {ceiling:.0f}")
    return document


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--soak", type=float, default=0.0, help="minutes of soak on PostgreSQL")
    args = parser.parse_args()
    main(quick=args.quick, soak_minutes=args.soak)
