"""Start real ``tocsin`` processes and wait for them, always bounded in time."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.e2e.cli import ROOT, clean_env


@contextmanager
def running(args: list[str], log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``python -m tocsin ARGS`` with output to ``log``; killed (and reaped) on exit."""
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tocsin", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=clean_env(**env),
            cwd=ROOT,
        )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=15)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float = 60,
    what: str = "condition",
    log: Path | None = None,
) -> None:
    """Poll ``check`` until true; fail with the process log after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"timed out waiting for {what}\n{tail}")


def http_ok(url: str, *, verify: bool = True) -> Callable[[], bool]:
    def check() -> bool:
        return httpx.get(url, timeout=2, verify=verify).status_code == 200

    return check
