"""Pure rules of the outbox: retry backoff and what follows a failed attempt."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**(attempt-1)``, capped at ``cap``."""

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(minutes=15)

    def delay(self, attempt: int) -> timedelta:
        if attempt < 1:
            raise ValueError("attempts are counted from 1")
        # Double in whole microseconds (exact, unbounded ints) and compare with the cap
        # before building a timedelta: ``base * 2**n`` overflows timedelta for a long base.
        # The exponent bound only keeps huge attempt numbers cheap; 2**128 us passes any cap.
        delay_us = (self.base // _MICROSECOND) << min(attempt - 1, 128)
        if delay_us >= self.cap // _MICROSECOND:
            return self.cap
        return timedelta(microseconds=delay_us)


@dataclass(frozen=True)
class AfterFailure:
    """The next state of a message whose attempt failed."""

    status: str  # "retry" or "failed"
    next_attempt_at: datetime | None


def after_failure(
    *, attempts: int, max_attempts: int, temporary: bool, now: datetime, policy: RetryPolicy
) -> AfterFailure:
    """A temporary failure with attempts left is retried after the backoff; else final."""
    if temporary and attempts < max_attempts:
        return AfterFailure("retry", now + policy.delay(attempts))
    return AfterFailure("failed", None)


def after_expired_claim(*, attempts: int, max_attempts: int, now: datetime) -> AfterFailure:
    """A claim that ran out (the sender died mid-send) is retried at once while attempts remain.

    The message may have left before the crash; sending it again is the price of
    never losing a page (at least once, deduplicated downstream by the dedup key).
    """
    if attempts < max_attempts:
        return AfterFailure("retry", now)
    return AfterFailure("failed", None)
