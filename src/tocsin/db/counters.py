"""Per-deployment counters, e.g. the short incident number (#1423)."""

from __future__ import annotations

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from tocsin.db.base import Base


class Counter(Base):
    """A named monotonically increasing number."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


def next_number(tx: Session, name: str) -> int:
    """Allocate the next number of ``name``; unique across processes (row or writer lock)."""
    result = tx.execute(
        update(Counter)
        .where(Counter.name == name)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    ).scalar_one_or_none()
    if result is not None:
        return int(result)
    tx.add(Counter(name=name, value=1))
    tx.flush()
    return 1


def current_number(tx: Session, name: str) -> int:
    value = tx.execute(select(Counter.value).where(Counter.name == name)).scalar_one_or_none()
    return int(value or 0)
