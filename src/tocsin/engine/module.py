"""The contract of an engine module and the context a cycle hands it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from tocsin.db.session import Database
from tocsin.kernel.clock import Clock


@dataclass(frozen=True)
class CycleContext:
    """What a module may use during one cycle."""

    db: Database
    clock: Clock
    instance_id: str


class Module(Protocol):
    """One idempotent unit of background work, run once per cycle under its lease.

    ``run`` works in small batches, one short transaction per batch, and returns how
    much it did. It must be safe to run concurrently with itself on another instance
    (leases make that rare, compare-and-set makes it harmless).
    """

    name: str
    version: int

    def run(self, ctx: CycleContext) -> int: ...
