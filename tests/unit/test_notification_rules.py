"""Retry backoff and the state after a failed or expired attempt (notifications/rules.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tocsin.notifications.rules import (
    AfterFailure,
    RetryPolicy,
    after_expired_claim,
    after_failure,
)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)

seconds = st.integers(min_value=1, max_value=24 * 3600)
attempts = st.integers(min_value=1, max_value=10_000)
policies = st.builds(
    RetryPolicy,
    base=seconds.map(lambda s: timedelta(seconds=s)),
    cap=seconds.map(lambda s: timedelta(seconds=s)),
)


def test_default_policy_doubles_from_30_seconds_up_to_15_minutes() -> None:
    policy = RetryPolicy()
    delays = [policy.delay(n).total_seconds() for n in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 900, 900]


@pytest.mark.parametrize("attempt", [0, -1])
def test_delay_refuses_attempts_below_one(attempt: int) -> None:
    with pytest.raises(ValueError, match="from 1"):
        RetryPolicy().delay(attempt)


@given(policy=policies, attempt=attempts)
def test_delay_is_monotonic(policy: RetryPolicy, attempt: int) -> None:
    assert policy.delay(attempt) <= policy.delay(attempt + 1)


@given(policy=policies, attempt=attempts)
def test_delay_is_capped_and_never_below_base_or_cap(policy: RetryPolicy, attempt: int) -> None:
    delay = policy.delay(attempt)
    assert delay <= policy.cap
    assert delay >= min(policy.base, policy.cap)


@given(policy=policies, attempt=st.integers(min_value=1, max_value=25))
def test_delay_is_exponential_below_the_cap(policy: RetryPolicy, attempt: int) -> None:
    expected = policy.base * 2 ** (attempt - 1)
    assert policy.delay(attempt) == min(expected, policy.cap)


def test_huge_attempt_numbers_do_not_overflow() -> None:
    policy = RetryPolicy(base=timedelta(seconds=30), cap=timedelta(days=3650))
    assert policy.delay(10**9) == policy.cap


@given(policy=policies, max_attempts=st.integers(min_value=2, max_value=50), data=st.data())
def test_temporary_failure_with_attempts_left_is_retried_after_the_backoff(
    policy: RetryPolicy, max_attempts: int, data: st.DataObject
) -> None:
    n = data.draw(st.integers(min_value=1, max_value=max_attempts - 1))
    nxt = after_failure(
        attempts=n, max_attempts=max_attempts, temporary=True, now=NOW, policy=policy
    )
    assert nxt == AfterFailure("retry", NOW + policy.delay(n))
    assert nxt.next_attempt_at is not None and nxt.next_attempt_at > NOW


@given(
    policy=policies, max_attempts=st.integers(min_value=1, max_value=50), extra=st.integers(0, 5)
)
def test_temporary_failure_of_the_last_attempt_is_final(
    policy: RetryPolicy, max_attempts: int, extra: int
) -> None:
    nxt = after_failure(
        attempts=max_attempts + extra,
        max_attempts=max_attempts,
        temporary=True,
        now=NOW,
        policy=policy,
    )
    assert nxt == AfterFailure("failed", None)


@given(policy=policies, n=attempts, max_attempts=attempts)
def test_permanent_failure_is_always_final(policy: RetryPolicy, n: int, max_attempts: int) -> None:
    nxt = after_failure(
        attempts=n, max_attempts=max_attempts, temporary=False, now=NOW, policy=policy
    )
    assert nxt == AfterFailure("failed", None)


@given(max_attempts=st.integers(min_value=2, max_value=50), data=st.data())
def test_expired_claim_with_attempts_left_is_retried_at_once(
    max_attempts: int, data: st.DataObject
) -> None:
    n = data.draw(st.integers(min_value=1, max_value=max_attempts - 1))
    assert after_expired_claim(attempts=n, max_attempts=max_attempts, now=NOW) == AfterFailure(
        "retry", NOW
    )


@given(max_attempts=st.integers(min_value=1, max_value=50), extra=st.integers(0, 5))
def test_expired_claim_of_the_last_attempt_is_final(max_attempts: int, extra: int) -> None:
    nxt = after_expired_claim(attempts=max_attempts + extra, max_attempts=max_attempts, now=NOW)
    assert nxt == AfterFailure("failed", None)


def test_retry_timeline_of_five_attempts_with_the_default_policy() -> None:
    """30 s, 60 s, 120 s, 240 s between attempts, then failed on the fifth."""
    policy = RetryPolicy()
    at = NOW
    gaps = []
    for n in range(1, 6):
        nxt = after_failure(attempts=n, max_attempts=5, temporary=True, now=at, policy=policy)
        if nxt.next_attempt_at is None:
            assert (n, nxt.status) == (5, "failed")
            break
        gaps.append((nxt.next_attempt_at - at).total_seconds())
        at = nxt.next_attempt_at
    assert gaps == [30, 60, 120, 240]


def test_long_base_with_many_attempts_returns_the_cap_instead_of_overflowing() -> None:
    """Regression: ``base * 2**30`` overflowed timedelta for a base of about a day."""
    policy = RetryPolicy(base=timedelta(days=1), cap=timedelta(days=2))
    assert policy.delay(31) == timedelta(days=2)
    assert policy.delay(1) == timedelta(days=1)
