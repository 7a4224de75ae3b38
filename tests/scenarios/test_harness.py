"""Engine timelines on a frozen clock: retry backoff, and a crash in the middle of a send."""

from __future__ import annotations

import pytest

from tests.scenarios.harness import EngineCrashed, Scenario
from tocsin.channels.base import DeliveryError


def test_fast_forward_fires_nothing_before_it_is_due(scenario: Scenario) -> None:
    scenario.enqueue("later", not_before=scenario.clock.now().replace(hour=10))
    scenario.fast_forward(minutes=59, seconds=59)
    scenario.expect_sent(count=0)
    scenario.fast_forward(seconds=1)
    (envelope,) = scenario.expect_sent(count=1, recipient="ada@example.com")
    assert envelope.dedup_key == "later"
    assert scenario.elapsed(scenario.channels["email"].sent_at[0]) == 3600


def test_retry_backoff_timeline_until_failed(scenario: Scenario) -> None:
    """Attempts at 0, +30 s, +60 s, +120 s, +240 s after each other; then failed, never again."""
    email = scenario.channels["email"]
    email.fail_next.extend(DeliveryError("451 later", temporary=True) for _ in range(5))
    message = scenario.enqueue("flaky", max_attempts=5)
    scenario.run_cycle()
    scenario.fast_forward(minutes=30)
    attempts = scenario.attempts(message.id)
    assert [scenario.elapsed(a.started_at) for a in attempts] == [0, 30, 90, 210, 450]
    assert [a.outcome for a in attempts] == ["temporary_failure"] * 5
    row = scenario.message(message.id)
    assert (row.status, row.attempts) == ("failed", 5)
    assert email.fail_next == []
    scenario.expect_sent(count=0)
    scenario.fast_forward(minutes=60)
    assert len(scenario.attempts(message.id)) == 5


def test_retry_then_success_sends_exactly_once(scenario: Scenario) -> None:
    email = scenario.channels["email"]
    email.fail_next.extend(DeliveryError("451 later", temporary=True) for _ in range(2))
    message = scenario.enqueue("second-time-lucky", max_attempts=5)
    scenario.fast_forward(minutes=10)
    scenario.expect_sent(count=1)
    assert scenario.elapsed(email.sent_at[0]) == 90
    assert scenario.message(message.id).status == "sent"


def test_crash_mid_send_resends_once_after_the_claim_deadline(scenario: Scenario) -> None:
    email = scenario.channels["email"]
    claim_seconds = scenario.container.settings.claim_seconds
    message = scenario.enqueue("page:42")
    email.crash_next = True
    with pytest.raises(EngineCrashed):
        scenario.run_cycle()  # claimed, then the process "dies" before any result
    row = scenario.message(message.id)
    assert (row.status, row.attempts) == ("sending", 1)

    scenario.restart_engine()
    scenario.fast_forward(seconds=claim_seconds - 1)
    scenario.expect_sent(count=0)  # the claim still protects the (maybe sent) message
    assert scenario.message(message.id).status == "sending"

    scenario.fast_forward(seconds=2)
    (envelope,) = scenario.expect_sent(count=1)
    assert envelope.dedup_key == "page:42"
    assert scenario.elapsed(email.sent_at[0]) == pytest.approx(claim_seconds, abs=0.001)
    assert [a.outcome for a in scenario.attempts(message.id)] == ["claim_expired", "sent"]
    assert scenario.message(message.id).status == "sent"
    scenario.fast_forward(minutes=30)
    scenario.expect_sent(count=1)  # once more, and only once
