"""Scenario harness: the real engine on a frozen clock, with channels that record instead of send.

A scenario moves time forward the way a running engine would see it: ``fast_forward`` jumps
from one due instant (a message's next attempt, a claim deadline) to the next and runs a
cycle there, so due work fires in order without sleeping or cycling thousands of times.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from tocsin import bootstrap
from tocsin.channels.base import Delivered, Envelope, Recording
from tocsin.engine.runner import CycleReport
from tocsin.escalation.tables import EscalationState
from tocsin.incidents.tables import InboundEvent, Incident
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications import actions, repo
from tocsin.notifications.tables import MessageAttempt, OutboundMessage
from tocsin.people.contact_rules import KINDS

# expire_claims moves a claim strictly after its deadline; a real engine notices one cycle later.
_AFTER = timedelta(microseconds=1)


class EngineCrashed(BaseException):
    """Raised from inside a send to model a process dying mid-send.

    A BaseException escapes the dispatcher's and the runner's ``except Exception``, so the
    claim stays committed and no result is ever recorded: exactly what ``kill -9`` leaves.
    """


class TimedRecording(Recording):
    """A Recording channel that also notes the (frozen) time of every send."""

    def __init__(self, name: str, clock: FrozenClock) -> None:
        super().__init__(name)
        self.clock = clock
        self.sent_at: list[datetime] = []
        self.crash_next = False

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        if self.crash_next:
            self.crash_next = False
            raise EngineCrashed(envelope.dedup_key)
        delivered = super().send(envelope, timeout=timeout)
        self.sent_at.append(self.clock.now())
        return delivered


class Scenario:
    """Drives one Container (FrozenClock, recording channels) through an engine timeline."""

    def __init__(self, container: bootstrap.Container, clock: FrozenClock) -> None:
        self.container = container
        self.clock = clock
        self.channels: dict[str, TimedRecording] = {}
        for name in {*container.channels, *KINDS}:
            channel = TimedRecording(name, clock)
            self.channels[name] = channel
            # The dispatcher holds this very dict: replacing entries swaps its transports.
            container.channels[name] = channel
        self.started_at = clock.now()
        self.reports: list[CycleReport] = []

    # -- arranging ------------------------------------------------------------------------

    def enqueue(
        self,
        dedup_key: str,
        *,
        channel: str = "email",
        recipient: str = "ada@example.com",
        max_attempts: int = 5,
        **kwargs: Any,
    ) -> OutboundMessage:
        with self.container.db.transaction() as tx:
            message = actions.enqueue(
                tx,
                dedup_key=dedup_key,
                channel=channel,
                recipient=recipient,
                subject=kwargs.pop("subject", f"subject of {dedup_key}"),
                body=kwargs.pop("body", f"body of {dedup_key}"),
                now=self.clock.now(),
                max_attempts=max_attempts,
                **kwargs,
            )
            tx.expunge(message)
            return message

    # -- running --------------------------------------------------------------------------

    def run_cycle(self) -> CycleReport:
        report = self.container.runner.run_cycle()
        self.reports.append(report)
        return report

    def restart_engine(self) -> None:
        """Replace the runner by a fresh instance (a new process after a crash or deploy)."""
        self.container.runner = bootstrap.build_runner(self.container)

    def next_due_at(self) -> datetime | None:
        """The earliest instant at which the engine has something to do, if any."""
        with self.container.db.read() as tx:
            due = tx.execute(
                select(func.min(OutboundMessage.next_attempt_at)).where(
                    OutboundMessage.status.in_(actions.DUE_STATUSES)
                )
            ).scalar_one()
            deadline = tx.execute(
                select(func.min(OutboundMessage.claim_expires_at)).where(
                    OutboundMessage.status == "sending"
                )
            ).scalar_one()
            step = tx.execute(
                select(func.min(EscalationState.next_step_at)).where(
                    EscalationState.status == "active"
                )
            ).scalar_one()
            timer = tx.execute(
                select(
                    func.min(
                        func.coalesce(
                            Incident.ack_deadline_at, Incident.snoozed_until, Incident.held_until
                        )
                    )
                ).where(Incident.status != "resolved")
            ).scalar_one()
            inbound = tx.execute(
                select(func.min(InboundEvent.received_at)).where(
                    InboundEvent.processed_at.is_(None)
                )
            ).scalar_one()
        candidates = [
            t
            for t in (due, deadline + _AFTER if deadline else None, step, timer, inbound)
            if t is not None
        ]
        return min(candidates) if candidates else None

    def fast_forward(self, *, minutes: float = 0, seconds: float = 0) -> list[CycleReport]:
        """Advance the clock by the given span, running a cycle at every due instant on the way.

        Ends with one cycle at the target instant. Returns the cycles it ran.
        """
        target = self.clock.now() + timedelta(minutes=minutes, seconds=seconds)
        ran: list[CycleReport] = []
        while True:
            due = self.next_due_at()
            if due is None or due > target:
                break
            if due > self.clock.now():
                self.clock.set(due)
            before = self._state()
            ran.append(self.run_cycle())
            if self._state() == before:
                # Due but untouched (e.g. another instance holds the lease): move on in time.
                break
        self.clock.set(max(target, self.clock.now()))
        ran.append(self.run_cycle())
        return ran

    def _state(self) -> tuple[Any, ...]:
        with self.container.db.read() as tx:
            return (
                tuple(
                    tx.execute(
                        select(OutboundMessage.id, OutboundMessage.version).order_by(
                            OutboundMessage.id
                        )
                    ).all()
                ),
                tuple(
                    tx.execute(
                        select(EscalationState.id, EscalationState.version).order_by(
                            EscalationState.id
                        )
                    ).all()
                ),
                tuple(
                    tx.execute(select(Incident.id, Incident.version).order_by(Incident.id)).all()
                ),
                tx.execute(
                    select(func.count()).where(InboundEvent.processed_at.is_(None))
                ).scalar_one(),
            )

    # -- asserting ------------------------------------------------------------------------

    def sent(self, channel: str = "email", *, recipient: str | None = None) -> list[Envelope]:
        return [
            e for e in self.channels[channel].sent if recipient is None or e.recipient == recipient
        ]

    def expect_sent(
        self, channel: str = "email", *, count: int, recipient: str | None = None
    ) -> list[Envelope]:
        """Assert exactly ``count`` messages left through ``channel`` (to ``recipient``)."""
        got = self.sent(channel, recipient=recipient)
        assert len(got) == count, (
            f"expected {count} sent on {channel}"
            + (f" to {recipient}" if recipient else "")
            + f", got {len(got)}: {[e.dedup_key for e in got]}"
        )
        return got

    def elapsed(self, at: datetime) -> float:
        """Seconds from the scenario start to ``at``."""
        return (at - self.started_at).total_seconds()

    def message(self, message_id: Any) -> OutboundMessage:
        with self.container.db.transaction() as tx:
            row = repo.get_message(tx, message_id)
            tx.expunge(row)
            return row

    def attempts(self, message_id: Any) -> list[MessageAttempt]:
        with self.container.db.transaction() as tx:
            rows = list(repo.list_attempts(tx, message_id))
            for row in rows:
                tx.expunge(row)
            return rows

    def statuses(self) -> Mapping[str, int]:
        with self.container.db.read() as tx:
            return repo.count_by_status(tx)
