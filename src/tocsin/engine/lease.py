"""Module leases: at most one engine instance runs a module at a time, at one code version.

The rule, applied by one conditional UPDATE (exactly one row changed = the lease is mine):
- an instance takes or renews the lease when it already holds it, or nobody does,
  or the holder's lease has expired;
- and only if its module version is not older than the row's. A newer version
  takes over once the older holder's lease lapses and records its version, after
  which older processes never take the lease again (rolling upgrades never run
  two behaviours side by side).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tocsin.db.session import rowcount
from tocsin.engine.tables import EngineLease


def acquire(
    tx: Session, *, module: str, version: int, holder: str, now: datetime, ttl: timedelta
) -> bool:
    """Take or renew the lease of ``module`` for ``holder``; True if held until ``now + ttl``."""
    if tx.get(EngineLease, module) is None:
        try:
            with tx.begin_nested():
                tx.add(EngineLease(module=module, version=version, holder=None, updated_at=now))
                tx.flush()
        except IntegrityError:
            pass  # another instance created it first; the UPDATE below decides
    changed = rowcount(
        tx.execute(
            update(EngineLease)
            .where(
                EngineLease.module == module,
                EngineLease.version <= version,
                or_(
                    EngineLease.holder == holder,
                    EngineLease.holder.is_(None),
                    EngineLease.lease_expires_at < now,
                ),
            )
            .values(holder=holder, version=version, lease_expires_at=now + ttl, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    )
    return bool(changed == 1)


def release(tx: Session, *, module: str, holder: str, now: datetime) -> None:
    """Give up the lease at shutdown so another instance takes over at once; safe to call twice."""
    tx.execute(
        update(EngineLease)
        .where(EngineLease.module == module, EngineLease.holder == holder)
        .values(holder=None, lease_expires_at=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
