"""The one frozen Settings object, read from ``TOCSIN_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from tocsin.db.session import sqlite_url


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "tocsin"


class Settings(BaseSettings):
    """Every setting Tocsin reads. Built once by the CLI or a test, then passed down."""

    model_config = SettingsConfigDict(env_prefix="TOCSIN_", frozen=True, extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="SQLite file, keys, cached roster."
    )
    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means embedded SQLite."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8080", description="Public URL used in links we send."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs links; generated into the data directory if unset."
    )
    log_format: Literal["json", "console"] = "console"
    log_level: str = "info"

    # web
    session_hours: int = Field(default=12, ge=1, le=24 * 90)
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set behind HTTPS)."
    )
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)

    sqlite_synchronous: Literal["NORMAL", "FULL"] = Field(
        default="NORMAL",
        description=(
            "SQLite durability: NORMAL (WAL) survives a process crash but may lose the last "
            "commits on power loss; FULL also survives power loss, at some write speed."
        ),
    )

    # event intake (Events API v2, webhooks)
    intake_rate_per_minute: int = Field(
        default=6000,
        ge=0,
        description="Events a minute per routing key and web process before 429 (0: no limit).",
    )
    intake_max_batch: int = Field(
        default=500, ge=1, le=10000, description="Accepted events written per group commit."
    )

    # engine
    engine_cycle_seconds: float = Field(default=5.0, gt=0, le=60)
    engine_lease_seconds: float = Field(default=30.0, gt=0)
    engine_batch_size: int = Field(default=50, ge=1, le=1000)
    engine_ready_seconds: float = Field(
        default=60.0,
        gt=0,
        description="/readyz fails when no engine cycle completed for this long.",
    )
    dispatch_parallel: int = Field(default=8, ge=1, le=64, description="Messages sent at once.")
    send_timeout_seconds: float = Field(default=15.0, gt=0)
    claim_seconds: float = Field(
        default=60.0, gt=0, description="Claim deadline of a message being sent."
    )
    max_attempts: int = Field(default=5, ge=1, le=50)
    retry_base_seconds: float = Field(default=30.0, gt=0)
    retry_max_seconds: float = Field(default=900.0, gt=0)

    # watchdog (paging health) and the cached roster
    watchdog_overdue_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Alarm when an escalation step is overdue by more than this many seconds.",
    )
    watchdog_stuck_seconds: float = Field(
        default=120.0,
        gt=0,
        description="Alarm when the oldest due outbound message waits longer than this.",
    )
    watchdog_repeat_minutes: float = Field(
        default=15.0,
        gt=0,
        description="Page the admins again this often while an alarm stays raised.",
    )
    watchdog_emails: str = Field(
        default="",
        description="Comma list of extra addresses the watchdog emails when an alarm is raised.",
    )
    watchdog_heartbeat_url: str | None = Field(
        default=None,
        description="Dead man's switch: an http(s) URL the engine GETs while paging is healthy.",
    )
    watchdog_heartbeat_seconds: float = Field(
        default=30.0, gt=0, description="At most one heartbeat GET per this many seconds."
    )
    roster_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Rewrite data_dir/roster.json (who is on call, phones) at most this often.",
    )

    # paging
    sms_throttle_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="At most one SMS a this many seconds to one number; pages within are bundled.",
    )
    voice_throttle_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="At most one call per this many seconds to one number.",
    )
    link_hours: int = Field(
        default=24, ge=1, le=24 * 7, description="How long one-click links in pages work."
    )

    # email (SMTP)
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "Tocsin <tocsin@localhost>"

    # SMS and voice (Twilio)
    twilio_account_sid: str | None = Field(
        default=None, description="Twilio account SID (AC...); enables the sms and voice channels."
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio auth token; also authenticates Twilio's webhooks."
    )
    twilio_from_number: str | None = Field(
        default=None, description="Twilio phone number in E.164 (+15551234567) to send from."
    )
    twilio_api_base: str = Field(
        default="https://api.twilio.com", description="Twilio REST API base URL."
    )

    # chat and push
    slack_bot_token: SecretStr | None = Field(
        default=None, description="Slack bot token (xoxb-...) with chat:write; enables slack."
    )
    slack_api_base: str = Field(
        default="https://slack.com/api", description="Slack Web API base URL."
    )
    ntfy_token: SecretStr | None = Field(
        default=None, description="ntfy access token sent as a bearer token (optional)."
    )
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description="Web Push VAPID private key (base64url); generated into data_dir/vapid.json "
        "if unset.",
    )
    vapid_subject: str = Field(
        default="mailto:tocsin@localhost",
        description="VAPID contact (mailto: or https: URL) push services may use to reach you.",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let outbound webhooks reach loopback and private addresses "
        "(also Teams, ntfy and push).",
    )

    def resolved_database_url(self) -> str:
        return self.database_url or sqlite_url(self.data_dir)
