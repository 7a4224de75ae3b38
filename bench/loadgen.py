"""A small HTTP/1.1 load generator for the Events API (loopback only, bounded in time).

Run as its own process so it does not share an interpreter with the server:
``python -m bench.loadgen --target 127.0.0.1:8080 --key K --mode unique --seconds 10``.
Keep-alive connections, one request in flight per connection (closed loop), or a
fixed total rate (open loop, ``--rate``) to measure latency below the peak. Prints
one JSON document: requests, errors by status, events/s, latency percentiles (ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from typing import Any

MODES = ("unique", "dup95", "alternate")


def _body(key: str, mode: str, conn: int, seq: int, rng: random.Random) -> bytes:
    if mode == "unique":
        dedup, action = f"u{conn}-{seq}", "trigger"
    elif mode == "dup95":
        # 95 % of events repeat one of 100 hot keys; 5 % are new keys.
        dedup = f"hot-{rng.randrange(100)}" if rng.random() < 0.95 else f"new{conn}-{seq}"
        action = "trigger"
    else:
        dedup, action = f"a{conn}-{seq // 2}", ("trigger" if seq % 2 == 0 else "resolve")
    event: dict[str, Any] = {"routing_key": key, "event_action": action, "dedup_key": dedup}
    if action == "trigger":
        event["payload"] = {
            "summary": f"Disk usage above 90% on db-{conn} (/var/lib/postgresql)",
            "source": f"db-{conn}.example.net",
            "severity": "error",
            "component": "postgres",
            "custom_details": {"free_bytes": "1073741824", "mount": "/var/lib/postgresql"},
        }
    return json.dumps(event, separators=(",", ":")).encode()


async def _request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, body: bytes
) -> int:
    writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
    await writer.drain()
    status_line = await reader.readuntil(b"\r\n")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    target: str,
    key: str,
    mode: str,
    conn: int,
    stop_at: float,
    interval: float | None,
    latencies: list[float],
    statuses: dict[int, int],
) -> None:
    host, port = target.rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST /v2/enqueue HTTP/1.1\r\nHost: {target}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    ).encode()
    rng = random.Random(conn)
    seq = 0
    next_at = time.perf_counter()
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            if interval is not None:
                if next_at > now:
                    await asyncio.sleep(next_at - now)
                # Open loop: latency counts from when the request was due (no coordinated
                # omission), so a slow server shows up in the percentiles.
                started = next_at
                next_at += interval
            else:
                started = now
            body = _body(key, mode, conn, seq, rng)
            seq += 1
            try:
                status = await _request(reader, writer, head, body)
            except (OSError, asyncio.IncompleteReadError):
                statuses[-1] = statuses.get(-1, 0) + 1
                return
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, int(fraction * len(sorted_values)))
    return sorted_values[index]


async def run(
    targets: list[str], key: str, mode: str, seconds: float, connections: int, rate: float | None
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    interval = None if rate is None else connections / rate
    begun = time.perf_counter()
    stop_at = begun + seconds
    await asyncio.gather(
        *(
            _connection(
                targets[n % len(targets)], key, mode, n, stop_at, interval, latencies, statuses
            )
            for n in range(connections)
        )
    )
    elapsed = time.perf_counter() - begun
    ordered = sorted(latencies)
    accepted = statuses.get(202, 0)
    return {
        "mode": mode,
        "connections": connections,
        "target_rate": rate,
        "seconds": round(elapsed, 3),
        "requests": len(latencies),
        "accepted": accepted,
        "errors": {str(k): v for k, v in statuses.items() if k != 202},
        "events_per_second": accepted / elapsed if elapsed else 0.0,
        "p50_ms": _percentile(ordered, 0.50) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
        "max_ms": (ordered[-1] * 1000) if ordered else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--target", action="append", required=True, help="host:port (repeat)")
    parser.add_argument("--key", required=True)
    parser.add_argument("--mode", choices=MODES, default="unique")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rate", type=float, default=None, help="total requests/s (open loop)")
    args = parser.parse_args()
    for target in args.target:
        if not target.startswith("127.0.0.1:"):
            raise SystemExit("loopback only: targets must be 127.0.0.1:PORT")
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # pragma: no cover - uvicorn[standard] brings uvloop
        pass
    result = asyncio.run(
        run(args.target, args.key, args.mode, args.seconds, args.connections, args.rate)
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
