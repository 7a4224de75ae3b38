"""The engine runner: a cycle every few seconds, or at once when woken after a commit."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tocsin.db.session import Database
from tocsin.engine import lease, status
from tocsin.engine.module import CycleContext, Module
from tocsin.kernel.clock import Clock
from tocsin.kernel.ids import new_secret
from tocsin.kernel.logging import get_logger

log = get_logger("tocsin.engine")

# Never spin: even with work due at once, leave the database a breath between cycles.
MIN_PAUSE_SECONDS = 0.02
IDLE_DUE_PAUSE_SECONDS = 1.0


@dataclass
class CycleReport:
    """What one cycle did: work per module, modules skipped for want of a lease, failures."""

    started_at: datetime
    duration_ms: float = 0.0
    work: dict[str, int] = field(default_factory=dict)
    not_leased: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def new_instance_id() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{new_secret(6)}"


class Runner:
    """Runs modules in a fixed order, each under its lease. Disposable: kill it at any time."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        modules: Sequence[Module],
        *,
        cycle_seconds: float = 5.0,
        lease_seconds: float = 30.0,
        instance_id: str | None = None,
        next_due: Callable[[Database, datetime], datetime | None] | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.modules = list(modules)
        self.cycle_seconds = cycle_seconds
        self.lease_ttl = timedelta(seconds=lease_seconds)
        # The earliest instant work falls due (an escalation step, a message retry): the loop
        # sleeps until then rather than a whole cycle, so a step is late by milliseconds.
        self.next_due = next_due
        self.instance_id = instance_id or new_instance_id()
        self.started_at = clock.now()
        self.last_report: CycleReport | None = None
        self.cycles = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_cycle(self) -> CycleReport:
        """Run every module once (those whose lease we get) and record a heartbeat."""
        begun = time.monotonic()
        report = CycleReport(started_at=self.clock.now())
        ctx = CycleContext(db=self.db, clock=self.clock, instance_id=self.instance_id)
        for module in self.modules:
            try:
                with self.db.transaction() as tx:
                    mine = lease.acquire(
                        tx,
                        module=module.name,
                        version=module.version,
                        holder=self.instance_id,
                        now=self.clock.now(),
                        ttl=self.lease_ttl,
                    )
                if not mine:
                    report.not_leased.append(module.name)
                    continue
                report.work[module.name] = module.run(ctx)
            except Exception as exc:  # a failing module must not stop the others or the loop
                report.failed[module.name] = f"{type(exc).__name__}: {exc}"
                log.exception("engine.module_failed", module=module.name)
        report.duration_ms = (time.monotonic() - begun) * 1000
        try:
            with self.db.transaction() as tx:
                status.record_cycle(
                    tx,
                    instance_id=self.instance_id,
                    hostname=socket.gethostname(),
                    pid=os.getpid(),
                    started_at=self.started_at,
                    now=self.clock.now(),
                    duration_ms=report.duration_ms,
                )
        except Exception:
            log.exception("engine.heartbeat_failed")
        self.cycles += 1
        self.last_report = report
        if any(report.work.values()) or report.failed:
            log.info(
                "engine.cycle_completed",
                work=report.work,
                failed=list(report.failed),
                ms=round(report.duration_ms, 1),
            )
        return report

    def wake(self) -> None:
        """Run the next cycle now instead of waiting (called after a commit that queued work)."""
        self._wake.set()

    def run_forever(self) -> None:
        """Cycle until ``stop()``; returns after releasing this instance's leases."""
        log.info(
            "engine.started", instance=self.instance_id, modules=[m.name for m in self.modules]
        )
        while not self._stop.is_set():
            self._wake.clear()
            self.run_cycle()
            self._wake.wait(self._pause())
        self._release()
        log.info("engine.stopped", instance=self.instance_id)

    def _pause(self) -> float:
        """Seconds until the next cycle: the cycle period, or less when work falls due sooner."""
        if self.next_due is None:
            return self.cycle_seconds
        try:
            due = self.next_due(self.db, self.clock.now())
        except Exception:
            log.exception("engine.next_due_failed")
            return self.cycle_seconds
        if due is None:
            return self.cycle_seconds
        wait = (due - self.clock.now()).total_seconds()
        idle = self.last_report is not None and not any(self.last_report.work.values())
        if wait <= 0 and idle:
            # Due, yet this cycle did nothing: another engine holds the lease, or the work
            # fails. Poll calmly instead of spinning.
            return min(self.cycle_seconds, IDLE_DUE_PAUSE_SECONDS)
        return min(self.cycle_seconds, max(wait, MIN_PAUSE_SECONDS))

    def start(self) -> None:
        """Run in a background thread (``tocsin serve``)."""
        self._thread = threading.Thread(target=self.run_forever, name="tocsin-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _release(self) -> None:
        try:
            with self.db.transaction() as tx:
                for module in self.modules:
                    lease.release(
                        tx, module=module.name, holder=self.instance_id, now=self.clock.now()
                    )
                status.forget(tx, instance_id=self.instance_id)
        except Exception:
            log.exception("engine.release_failed")
