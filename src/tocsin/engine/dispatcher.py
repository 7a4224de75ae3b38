"""The dispatcher module: claims due outbound messages and sends them outside any transaction."""

from __future__ import annotations

import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from tocsin.channels.base import Channel, Delivered, DeliveryError, Envelope
from tocsin.engine.module import CycleContext
from tocsin.incidents import paging
from tocsin.kernel.logging import get_logger
from tocsin.notifications import actions
from tocsin.notifications.actions import Claim
from tocsin.notifications.links import LinkMaker, expand
from tocsin.notifications.rules import RetryPolicy

log = get_logger("tocsin.engine.dispatcher")


@dataclass(frozen=True)
class DispatchConfig:
    send_timeout: float = 15.0
    claim_for: timedelta = timedelta(seconds=60)
    batch_size: int = 50
    max_attempts: int = 5
    max_batches: int = 10
    # Stop draining after this long so the next cycle's escalator is not kept waiting;
    # the runner starts that cycle at once when messages are still due.
    drain_seconds: float = 1.0
    # Messages sent at once. Claims are taken only for free senders, so a claim never
    # waits in a queue while its deadline runs out (that would let a second engine
    # claim and send the same message).
    parallel: int = 8
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    skip_locked: bool = False


class Dispatcher:
    """Delivers the outbox: at least once, never lost, one send per claim."""

    name = "dispatcher"
    version = 1

    def __init__(
        self,
        channels: Mapping[str, Channel],
        config: DispatchConfig,
        links: LinkMaker | None = None,
    ) -> None:
        if config.claim_for.total_seconds() <= config.send_timeout:
            raise ValueError(
                "the claim must outlast the send timeout, or two engines could send at once"
            )
        if config.parallel < 1:
            raise ValueError("parallel must be at least 1")
        self.channels = channels
        self.config = config
        self.links = links or LinkMaker("http://127.0.0.1:8080", b"unsigned")

    def run(self, ctx: CycleContext) -> int:
        with ctx.db.transaction() as tx:
            expired = actions.expire_claims(
                tx,
                now=ctx.clock.now(),
                limit=self.config.batch_size,
                default_max_attempts=self.config.max_attempts,
            )
        if expired:
            log.warning("message.claims_expired", count=expired)
        with ThreadPoolExecutor(self.config.parallel, thread_name_prefix="tocsin-send") as pool:
            return self._drain(ctx, pool)

    def _drain(self, ctx: CycleContext, pool: ThreadPoolExecutor) -> int:
        """Claim and send waves of up to ``parallel`` messages until none is due (or the budget)."""
        done = 0
        budget = self.config.batch_size * self.config.max_batches
        deadline = time.monotonic() + self.config.drain_seconds
        while done < budget and time.monotonic() < deadline:
            want = min(self.config.parallel, budget - done)
            with ctx.db.transaction() as tx:
                claims = actions.claim_due(
                    tx,
                    now=ctx.clock.now(),
                    holder=ctx.instance_id,
                    claim_for=self.config.claim_for,
                    limit=want,
                    default_max_attempts=self.config.max_attempts,
                    skip_locked=self.config.skip_locked,
                )
                taken = len(claims)
                claims = paging.drop_stale(tx, claims, now=ctx.clock.now())
            if len(claims) == 1:
                results = [self._send(ctx, claims[0])]
            else:
                # list() waits for every send and re-raises the first error, if any.
                results = list(pool.map(lambda claim: self._send(ctx, claim), claims))
            if claims:
                # One transaction records the whole wave: a commit per message was the
                # dispatcher's main cost once sending itself got cheap.
                with ctx.db.transaction() as tx:
                    self._record_wave(tx, claims, results, now=ctx.clock.now())
            done += taken
            if taken < want:
                break
        return done

    def _send(self, ctx: CycleContext, claim: Claim) -> Delivered | DeliveryError:
        """Send one claimed message outside any transaction; never raises for a failure."""
        channel = self.channels.get(claim.channel)
        # Signed links are made at send time: the key stays here, and 24 hours start now.
        body, urls = expand(self.links, claim.body, claim.context, now=ctx.clock.now())
        envelope = Envelope(
            message_id=str(claim.message_id),
            dedup_key=claim.dedup_key,
            channel=claim.channel,
            recipient=claim.recipient,
            subject=claim.subject,
            body=body,
            context={**claim.context, **urls},
        )
        try:
            if channel is None:
                raise DeliveryError(f"no channel named {claim.channel!r}", temporary=False)
            result: Delivered | DeliveryError = channel.send(
                envelope, timeout=self.config.send_timeout
            )
        except DeliveryError as exc:
            result = exc
        except Exception as exc:  # a channel bug is a temporary failure, not a lost message
            log.exception(
                "message.channel_crashed", channel=claim.channel, message=str(claim.message_id)
            )
            result = DeliveryError(f"{type(exc).__name__}: {exc}", temporary=True)
        return result

    def _record_wave(
        self,
        tx: Session,
        claims: list[Claim],
        results: list[Delivered | DeliveryError],
        *,
        now: datetime,
    ) -> None:
        """Successes in two statements for the wave; each failure on its own."""
        sent = [
            (claim, result.provider_ref)
            for claim, result in zip(claims, results, strict=True)
            if isinstance(result, Delivered)
        ]
        fresh = actions.record_sent_many(tx, sent=sent, now=now)
        for claim, _ in sent:
            log.info(
                "message.sent",
                channel=claim.channel,
                message=str(claim.message_id),
                stale=claim.message_id not in fresh,
            )
            if claim.message_id in fresh:
                paging.on_delivery(tx, claim=claim, outcome="sent", error=None, now=now)
        for claim, result in zip(claims, results, strict=True):
            if isinstance(result, DeliveryError):
                self._record(tx, claim, result, now=now)

    def _record(self, tx: Session, claim: Claim, result: DeliveryError, *, now: datetime) -> None:
        """Record one failed send (compare-and-set) and tell the incident's timeline."""
        state = actions.record_failure(
            tx,
            claim=claim,
            error=str(result),
            temporary=result.temporary,
            policy=self.config.retry,
            now=now,
        )
        log.warning(
            "message.attempt_failed",
            channel=claim.channel,
            message=str(claim.message_id),
            attempt=claim.attempt,
            next=state,
            error=str(result),
        )
        if state is not None:
            paging.on_delivery(tx, claim=claim, outcome=state, error=str(result), now=now)
