"""ORM rows of the people slice."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tocsin.db.base import Base, id_column


class User(Base):
    """A person who signs in, is paged, or follows incidents."""

    __tablename__ = "users"

    id: Mapped[uuid.UUID] = id_column()
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    memberships: Mapped[list[TeamMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )


class Team(Base):
    """A group of people: an engineering team, support, legal, executives…"""

    __tablename__ = "teams"

    id: Mapped[uuid.UUID] = id_column()
    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    members: Mapped[list[TeamMember]] = relationship(
        back_populates="team", cascade="all, delete-orphan", lazy="selectin"
    )


class TeamMember(Base):
    """Membership of a person in a team; managers manage the team."""

    __tablename__ = "team_members"

    team_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    is_manager: Mapped[bool] = mapped_column(Boolean, default=False)

    team: Mapped[Team] = relationship(back_populates="members", lazy="selectin")
    user: Mapped[User] = relationship(back_populates="memberships", lazy="selectin")


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser; the cookie holds a secret whose SHA-256 is ``token_hash``."""

    __tablename__ = "web_sessions"

    id: Mapped[uuid.UUID] = id_column()
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class LoginFailure(Base):
    """A failed sign-in, kept for rate limiting."""

    __tablename__ = "login_failures"
    id: Mapped[uuid.UUID] = id_column()
    email: Mapped[str] = mapped_column(String(254), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class ContactMethod(Base):
    """A way to reach a person: email, SMS, voice, push, ntfy, Slack, Teams or a webhook.

    A method pages only once ``verified_at`` is set (the person typed back a code sent
    to it). Only the SHA-256 of the pending code is stored.
    """

    __tablename__ = "contact_methods"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(2048))
    label: Mapped[str] = mapped_column(String(100), default="")
    verified_at: Mapped[datetime | None]
    code_hash: Mapped[str | None] = mapped_column(String(64))
    code_expires_at: Mapped[datetime | None]
    code_attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class NotificationRule(Base):
    """Notify a person by one contact method ``delay_minutes`` after they are paged."""

    __tablename__ = "notification_rules"

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    urgency: Mapped[str] = mapped_column(String(8))  # high | low
    delay_minutes: Mapped[int]
    contact_method_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE")
    )
    position: Mapped[int] = mapped_column(default=0)


class TestPage(Base):
    """A test page a person sent to one of their methods, and when they acknowledged it."""

    __tablename__ = "test_pages"
    __test__ = False  # not a pytest test class

    id: Mapped[uuid.UUID] = id_column()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    contact_method_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contact_methods.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
