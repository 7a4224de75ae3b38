"""Composition root: builds the Container (settings, database, clock, channels, engine)."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from tocsin.channels.base import Channel, NotConfigured
from tocsin.channels.email import SmtpConfig, SmtpEmail
from tocsin.db import migrate
from tocsin.db.session import Database
from tocsin.engine.dispatcher import DispatchConfig, Dispatcher
from tocsin.engine.handoffs import Handoffs
from tocsin.engine.housekeeping import Housekeeping
from tocsin.engine.intake import Intake
from tocsin.engine.runner import Runner
from tocsin.engine.status import EngineHealth, engine_health
from tocsin.engine.timers import Timers
from tocsin.kernel import logging as tlog
from tocsin.kernel.clock import Clock, SystemClock
from tocsin.kernel.ids import new_secret
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
    runner: Runner = field(init=False)

    def __post_init__(self) -> None:
        self.runner = build_runner(self)

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

    def close(self) -> None:
        self.runner.stop()
        self.db.dispose()


def build_channels(settings: Settings) -> dict[str, Channel]:
    """Real transports where configured; NotConfigured (loud, permanent failure) elsewhere."""
    email: Channel
    if settings.smtp_host:
        email = SmtpEmail(
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
    else:
        email = NotConfigured("email", "set TOCSIN_SMTP_HOST (and TOCSIN_SMTP_PORT) to send email")
    return {"email": email}


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
    )
    return Runner(
        container.db,
        container.clock,
        # Order matters: events become incidents, timers and handoffs fire, then messages go out.
        [Intake(), Timers(), Handoffs(s.base_url), dispatcher, Housekeeping()],
        cycle_seconds=s.engine_cycle_seconds,
        lease_seconds=s.engine_lease_seconds,
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
    return Container(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        channels=channels if channels is not None else build_channels(settings),
        secret_key=load_secret_key(settings),
    )


def create_web_app(container: Container) -> FastAPI:
    """The ASGI application over ``container`` (uvicorn, tests)."""
    return create_app(container)
