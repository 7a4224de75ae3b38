"""Queries of the people slice: ``get_*`` raises NotFound, ``find_*`` returns None."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound
from tocsin.people.tables import ApiToken, LoginFailure, Team, User, WebSession


def find_user(tx: Session, user_id: uuid.UUID) -> User | None:
    return tx.get(User, user_id)


def get_user(tx: Session, user_id: uuid.UUID) -> User:
    user = tx.get(User, user_id)
    if user is None:
        raise NotFound("user", user_id)
    return user


def find_user_by_email(tx: Session, email: str) -> User | None:
    return tx.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()


def get_user_by_email(tx: Session, email: str) -> User:
    user = find_user_by_email(tx, email)
    if user is None:
        raise NotFound("user", email)
    return user


def list_users(
    tx: Session,
    *,
    after: str | None = None,
    limit: int = 100,
    role: str | None = None,
    query: str | None = None,
) -> Sequence[User]:
    """Users ordered by email; ``after`` is the last email of the previous page (cursor)."""
    stmt = select(User).order_by(User.email).limit(limit)
    if after:
        stmt = stmt.where(User.email > after)
    if role:
        stmt = stmt.where(User.role == role)
    if query:
        like = f"%{query.lower()}%"
        stmt = stmt.where(func.lower(User.name).like(like) | User.email.like(like))
    return tx.execute(stmt).scalars().all()


def count_users(tx: Session) -> int:
    return int(tx.execute(select(func.count()).select_from(User)).scalar_one())


def get_team(tx: Session, team_id: uuid.UUID) -> Team:
    team = tx.get(Team, team_id)
    if team is None:
        raise NotFound("team", team_id)
    return team


def find_team_by_name(tx: Session, name: str) -> Team | None:
    return tx.execute(
        select(Team).where(func.lower(Team.name) == name.strip().lower())
    ).scalar_one_or_none()


def get_team_by_name(tx: Session, name: str) -> Team:
    team = find_team_by_name(tx, name)
    if team is None:
        raise NotFound("team", name)
    return team


def list_teams(tx: Session, *, after: str | None = None, limit: int = 100) -> Sequence[Team]:
    stmt = select(Team).order_by(Team.name).limit(limit)
    if after:
        stmt = stmt.where(Team.name > after)
    return tx.execute(stmt).scalars().all()


def count_teams(tx: Session) -> int:
    return int(tx.execute(select(func.count()).select_from(Team)).scalar_one())


def find_token_by_hash(tx: Session, token_hash: str) -> ApiToken | None:
    return tx.execute(
        select(ApiToken).where(ApiToken.token_hash == token_hash)
    ).scalar_one_or_none()


def list_tokens(tx: Session, user_id: uuid.UUID) -> Sequence[ApiToken]:
    stmt = select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.created_at.desc())
    return tx.execute(stmt).scalars().all()


def find_session_by_hash(tx: Session, token_hash: str) -> WebSession | None:
    return tx.execute(
        select(WebSession).where(WebSession.token_hash == token_hash)
    ).scalar_one_or_none()


def list_login_failures(tx: Session, email: str, since: datetime) -> Sequence[datetime]:
    stmt = select(LoginFailure.at).where(LoginFailure.email == email, LoginFailure.at >= since)
    return tx.execute(stmt).scalars().all()
