"""Composition root: builds the Container (settings, database, clock, channels, engine)."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from tocsin.channels.apprise_channel import AppriseChannel
from tocsin.channels.base import Channel, NotConfigured
from tocsin.channels.email import SmtpConfig, SmtpEmail
from tocsin.channels.ntfy import Ntfy
from tocsin.channels.slack import SlackDm
from tocsin.channels.teams import TeamsWorkflow
from tocsin.channels.twilio import TwilioConfig, TwilioSms, TwilioVoice
from tocsin.channels.webhook import SignedWebhook
from tocsin.channels.webpush import WebPush, generate_vapid_keys, vapid_public_key
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.engine.dispatcher import DispatchConfig, Dispatcher
from tocsin.engine.escalator import Escalator
from tocsin.engine.handoffs import Handoffs
from tocsin.engine.housekeeping import Housekeeping
from tocsin.engine.intake import Intake
from tocsin.engine.roster import Roster
from tocsin.engine.runner import Runner
from tocsin.engine.status import EngineHealth, engine_health, next_due
from tocsin.engine.timers import Timers
from tocsin.engine.watchdog import PagingHealth, Watchdog, WatchdogConfig, measure
from tocsin.incidents.paging import PagingConfig
from tocsin.kernel import logging as tlog
from tocsin.kernel.clock import Clock, SystemClock
from tocsin.kernel.ids import new_secret
from tocsin.notifications.links import LinkMaker
from tocsin.notifications.personal import Throttles
from tocsin.notifications.rules import RetryPolicy
from tocsin.settings import Settings
from tocsin.web.app import create_app


@dataclass
class Container:
    """Everything an adapter needs, built once per process."""

    settings: Settings
    db: Database
    clock: Clock
    channels: dict[str, Channel]
    secret_key: bytes
    vapid_public_key: str = ""  # the browser's applicationServerKey for Web Push
    runner: Runner = field(init=False)

    def __post_init__(self) -> None:
        self.runner = build_runner(self)

    @property
    def paging(self) -> PagingConfig:
        """Throttles and defaults every adapter uses when it pages someone."""
        return paging_config(self.settings)

    def wake(self) -> None:
        """Tell the in-process engine (if running) that work was committed."""
        self.runner.wake()

    def engine_health(self) -> EngineHealth:
        with self.db.read() as tx:
            return engine_health(
                tx,
                now=self.clock.now(),
                ready_within=timedelta(seconds=self.settings.engine_ready_seconds),
            )

    def paging_health(self) -> PagingHealth:
        """Paging's backlog and the watchdog's alarms, read now (for /metrics)."""
        with self.db.read() as tx:
            return measure(
                tx,
                now=self.clock.now(),
                overdue_after=timedelta(seconds=self.settings.watchdog_overdue_seconds),
                stuck_after=timedelta(seconds=self.settings.watchdog_stuck_seconds),
            )

    def close(self) -> None:
        self.runner.stop()
        self.db.dispose()


def build_channels(settings: Settings, webhook_secret: bytes) -> dict[str, Channel]:
    """Real transports where configured; NotConfigured (loud, permanent failure) elsewhere.

    ``webhook_secret`` signs outbound webhooks (the container's secret key).
    """
    sms, voice = _twilio_channels(settings)
    channels: list[Channel] = [
        _email_channel(settings),
        sms,
        voice,
        _push_channel(settings),
        Ntfy(
            token=settings.ntfy_token.get_secret_value() if settings.ntfy_token else None,
            allow_private=settings.webhook_allow_private,
        ),
        _slack_channel(settings),
        TeamsWorkflow(allow_private=settings.webhook_allow_private),
        SignedWebhook(webhook_secret, allow_private=settings.webhook_allow_private),
        AppriseChannel("apprise"),
    ]
    return {channel.name: channel for channel in channels}


def _email_channel(settings: Settings) -> Channel:
    if settings.smtp_host:
        return SmtpEmail(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                user=settings.smtp_user,
                password=settings.smtp_password.get_secret_value()
                if settings.smtp_password
                else None,
                starttls=settings.smtp_starttls,
                sender=settings.smtp_from,
            )
        )
    return NotConfigured("email", "set TOCSIN_SMTP_HOST (and TOCSIN_SMTP_PORT) to send email")


def _twilio_channels(settings: Settings) -> tuple[Channel, Channel]:
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from_number:
        config = TwilioConfig(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token.get_secret_value(),
            from_number=settings.twilio_from_number,
            api_base=settings.twilio_api_base,
        )
        return TwilioSms(config), TwilioVoice(config)
    hint = "set TOCSIN_TWILIO_ACCOUNT_SID, TOCSIN_TWILIO_AUTH_TOKEN and TOCSIN_TWILIO_FROM_NUMBER"
    return NotConfigured("sms", hint), NotConfigured("voice", hint)


def _slack_channel(settings: Settings) -> Channel:
    if settings.slack_bot_token:
        return SlackDm(settings.slack_bot_token.get_secret_value(), settings.slack_api_base)
    return NotConfigured("slack", "set TOCSIN_SLACK_BOT_TOKEN (a bot token with chat:write)")


def _push_channel(settings: Settings) -> Channel:
    private_key, _ = load_vapid_keys(settings)
    return WebPush(
        private_key, settings.vapid_subject, allow_private=settings.webhook_allow_private
    )


def load_vapid_keys(settings: Settings) -> tuple[str, str]:
    """The VAPID key pair (private, public): from settings, else data_dir/vapid.json.

    The file is made (mode 0600) on first run. Keep it: browsers subscribed with its
    public key, and a new key silently orphans every existing push subscription.
    """
    if settings.vapid_private_key is not None:
        private = settings.vapid_private_key.get_secret_value()
        return private, vapid_public_key(private)
    path = Path(settings.data_dir) / "vapid.json"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        private, public = generate_vapid_keys()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        except FileExistsError:
            pass  # another process won the race; use its keys
        else:
            with os.fdopen(fd, "w") as handle:
                json.dump({"private_key": private, "public_key": public}, handle)
    stored = json.loads(path.read_text())
    return str(stored["private_key"]), str(stored["public_key"])


def paging_config(settings: Settings) -> PagingConfig:
    """Per-method throttles from settings (the same for the engine, web and CLI)."""
    return PagingConfig(
        throttles=Throttles(
            {
                "sms": timedelta(seconds=settings.sms_throttle_seconds),
                "voice": timedelta(seconds=settings.voice_throttle_seconds),
            }
        )
    )


def watchdog_config(settings: Settings) -> WatchdogConfig:
    return WatchdogConfig(
        overdue_after=timedelta(seconds=settings.watchdog_overdue_seconds),
        stuck_after=timedelta(seconds=settings.watchdog_stuck_seconds),
        repeat_every=timedelta(minutes=settings.watchdog_repeat_minutes),
        emails=tuple(e.strip() for e in settings.watchdog_emails.split(",") if e.strip()),
        heartbeat_url=settings.watchdog_heartbeat_url or None,
        heartbeat_every=timedelta(seconds=settings.watchdog_heartbeat_seconds),
        send_timeout=settings.send_timeout_seconds,
    )


def build_runner(container: Container) -> Runner:
    s = container.settings
    dispatcher = Dispatcher(
        container.channels,
        DispatchConfig(
            send_timeout=s.send_timeout_seconds,
            claim_for=timedelta(seconds=s.claim_seconds),
            batch_size=s.engine_batch_size,
            max_attempts=s.max_attempts,
            parallel=s.dispatch_parallel,
            retry=RetryPolicy(
                base=timedelta(seconds=s.retry_base_seconds),
                cap=timedelta(seconds=s.retry_max_seconds),
            ),
            skip_locked=container.db.is_postgres,
        ),
        links=LinkMaker(s.base_url, container.secret_key, timedelta(hours=s.link_hours)),
    )
    return Runner(
        container.db,
        container.clock,
        # Order matters: events become incidents, timers and handoffs fire, then messages go out.
        [
            Intake(),
            Timers(),
            Escalator(paging_config(s), skip_locked=container.db.is_postgres),
            Handoffs(s.base_url),
            dispatcher,
            Housekeeping(),
            Roster(s.data_dir, every=timedelta(seconds=s.roster_seconds)),
            # Last: it judges what the modules above left undone, and pages by a second path.
            Watchdog(container.channels, watchdog_config(s)),
        ],
        cycle_seconds=s.engine_cycle_seconds,
        lease_seconds=s.engine_lease_seconds,
        next_due=next_due,
    )


def load_secret_key(settings: Settings) -> bytes:
    """The signing key: from settings, else a key file in the data directory made on first run.

    Several web processes must share one key: set TOCSIN_SECRET_KEY when running more than one.
    """
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = Path(settings.data_dir) / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(new_secret(48))
    return path.read_text().strip().encode()


def build(
    settings: Settings,
    *,
    clock: Clock | None = None,
    channels: dict[str, Channel] | None = None,
    upgrade: bool = False,
    configure_logging: bool = True,
) -> Container:
    """Build the container; ``upgrade`` runs migrations first (the embedded default)."""
    if configure_logging:
        tlog.configure(json=settings.log_format == "json", level=settings.log_level)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    db = Database(settings.resolved_database_url(), sqlite_synchronous=settings.sqlite_synchronous)
    if upgrade:
        migrate.upgrade(db)
    secret_key = load_secret_key(settings)
    return Container(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        channels=channels if channels is not None else build_channels(settings, secret_key),
        secret_key=secret_key,
        vapid_public_key=load_vapid_keys(settings)[1],
    )


def create_web_app(container: Container) -> FastAPI:
    """The ASGI application over ``container`` (uvicorn, tests)."""
    return create_app(container)
