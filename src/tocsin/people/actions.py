"""Use cases of the people slice. Actions never commit; the adapter owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from tocsin.db import audit
from tocsin.db.session import rowcount
from tocsin.kernel.actor import Actor, Scope
from tocsin.kernel.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    Unauthenticated,
    ValidationFailed,
)
from tocsin.kernel.ids import hash_secret, new_secret
from tocsin.people import repo, rules
from tocsin.people.passwords import hash_password, needs_rehash, verify_password
from tocsin.people.tables import ApiToken, LoginFailure, Team, TeamMember, User, WebSession

TOKEN_PREFIX = "tcn_"  # noqa: S105 - a public prefix, not a secret
WRONG_LOGIN = "Email or password is wrong."


def create_user(
    tx: Session,
    *,
    email: str,
    name: str,
    role: str,
    time_zone: str = "UTC",
    password: str | None = None,
    actor: Actor,
    now: datetime,
) -> User:
    """Create a person. Raises Conflict ``user.email_taken`` when the email is in use."""
    rules.authorize(actor, "people.write")
    email = rules.normalise_email(email)
    rules.check_role(role)
    rules.check_time_zone(time_zone)
    name = _check_name(name)
    if repo.find_user_by_email(tx, email) is not None:
        raise Conflict("user.email_taken", f"{email} already belongs to someone.", "email")
    user = User(
        email=email,
        name=name,
        role=role,
        time_zone=time_zone,
        password_hash=hash_password(rules.check_password(password)) if password else None,
        is_active=True,
        created_at=now,
        updated_at=now,
    )
    tx.add(user)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="user.created",
        subject_type="user",
        subject_id=user.id,
        at=now,
        data={"email": email, "role": role},
    )
    return user


def update_user(
    tx: Session,
    *,
    user_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    email: str | None = None,
    time_zone: str | None = None,
    role: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a person: people edit their own name, email and time zone; admins anything."""
    user = repo.get_user(tx, user_id)
    if not rules.may_edit_profile(actor, user_id):
        raise PermissionDenied("You may only edit your own profile.", code="auth.role")
    rules.authorize(actor, "tokens.own")  # any write needs a write-scoped credential
    changed: list[str] = []
    if (role is not None and role != user.role) or (
        is_active is not None and is_active != user.is_active
    ):
        rules.authorize(actor, "people.write")
    if name is not None and name != user.name:
        user.name = _check_name(name)
        changed.append("name")
    if email is not None:
        email = rules.normalise_email(email)
        if email != user.email:
            other = repo.find_user_by_email(tx, email)
            if other is not None:
                raise Conflict("user.email_taken", f"{email} already belongs to someone.", "email")
            user.email = email
            changed.append("email")
    if time_zone is not None and time_zone != user.time_zone:
        user.time_zone = rules.check_time_zone(time_zone)
        changed.append("time_zone")
    if role is not None and role != user.role:
        user.role = rules.check_role(role)
        changed.append("role")
    if is_active is not None and is_active != user.is_active:
        if not is_active and actor.user_id == user.id:
            raise ValidationFailed.one("is_active", "You cannot deactivate yourself.")
        user.is_active = is_active
        changed.append("is_active")
        if not is_active:
            tx.execute(delete(WebSession).where(WebSession.user_id == user.id))
    if changed:
        user.updated_at = now
        audit.record(
            tx,
            actor=actor,
            kind="user.updated",
            subject_type="user",
            subject_id=user.id,
            at=now,
            data={"changed": changed},
        )
    return user


def set_password(
    tx: Session, *, user_id: uuid.UUID, password: str, actor: Actor, now: datetime
) -> None:
    """Set a person's password: admins for anyone, everyone else only their own."""
    user = repo.get_user(tx, user_id)
    if not rules.may_edit_profile(actor, user_id):
        raise PermissionDenied("You may only change your own password.", code="auth.role")
    rules.authorize(actor, "tokens.own")  # a write: needs a write-scoped credential
    user.password_hash = hash_password(rules.check_password(password))
    user.updated_at = now
    audit.record(
        tx, actor=actor, kind="user.password_set", subject_type="user", subject_id=user.id, at=now
    )


def change_own_password(
    tx: Session,
    *,
    actor: Actor,
    current_password: str,
    new_password: str,
    now: datetime,
    max_failures: int,
    window: timedelta,
) -> None:
    """Change the actor's own password after checking the current one.

    A wrong current password counts as a failed sign-in (same lock-out as ``authenticate``)
    and is recorded in this transaction, so the adapter must commit on that failure too.
    Nothing else is written before an error is raised.
    """
    rules.authorize(actor, "tokens.own")  # a write: needs a write-scoped credential
    if actor.user_id is None:
        raise PermissionDenied("Only a person has a password to change.", code="auth.role")
    user = repo.get_user(tx, actor.user_id)
    retry = rules.login_retry_after(
        repo.list_login_failures(tx, user.email, now - window),
        now=now,
        max_failures=max_failures,
        window=window,
    )
    if retry is not None:
        raise RateLimited(
            f"Too many wrong passwords for this account; try again in {retry} seconds.",
            retry_after=retry,
            code="auth.rate_limited",
        )
    if not verify_password(user.password_hash, current_password):
        tx.add(LoginFailure(email=user.email, at=now))
        raise ValidationFailed.one(
            "current_password", "The current password is wrong.", code="auth.wrong_password"
        )
    rules.check_password(new_password, field="new_password")
    user.password_hash = hash_password(new_password)
    user.updated_at = now
    audit.record(
        tx, actor=actor, kind="user.password_set", subject_type="user", subject_id=user.id, at=now
    )


def create_team(
    tx: Session, *, name: str, description: str = "", actor: Actor, now: datetime
) -> Team:
    """Create a team. Raises Conflict ``team.name_taken`` for a duplicate name (any case)."""
    rules.authorize(actor, "teams.write")
    name = _check_team_name(name)
    if repo.find_team_by_name(tx, name) is not None:
        raise Conflict("team.name_taken", f"A team named {name} already exists.", "name")
    team = Team(name=name, description=description.strip(), created_at=now, updated_at=now)
    tx.add(team)
    tx.flush()
    audit.record(
        tx, actor=actor, kind="team.created", subject_type="team", subject_id=team.id, at=now
    )
    return team


@dataclass(frozen=True)
class Membership:
    user_id: uuid.UUID
    is_manager: bool = False


def update_team(
    tx: Session,
    *,
    team_id: uuid.UUID,
    actor: Actor,
    now: datetime,
    name: str | None = None,
    description: str | None = None,
    members: Sequence[Membership] | None = None,
) -> Team:
    """Rename a team, change its description, or replace its members (managers flagged)."""
    rules.authorize(actor, "teams.write")
    team = repo.get_team(tx, team_id)
    changed: list[str] = []
    if name is not None and name.strip() != team.name:
        name = _check_team_name(name)
        other = repo.find_team_by_name(tx, name)
        if other is not None and other.id != team.id:
            raise Conflict("team.name_taken", f"A team named {name} already exists.", "name")
        team.name = name
        changed.append("name")
    if description is not None and description.strip() != team.description:
        team.description = description.strip()
        changed.append("description")
    if members is not None:
        seen: set[uuid.UUID] = set()
        for index, member in enumerate(members):
            if member.user_id in seen:
                raise ValidationFailed.one(
                    f"members[{index}].user_id", "This person is listed twice."
                )
            seen.add(member.user_id)
            try:
                repo.get_user(tx, member.user_id)
            except NotFound:
                raise ValidationFailed.one(
                    f"members[{index}].user_id", f"No person with id {member.user_id}."
                ) from None
        team.members.clear()
        tx.flush()
        for member in members:
            team.members.append(TeamMember(user_id=member.user_id, is_manager=member.is_manager))
        changed.append("members")
    if changed:
        team.updated_at = now
        tx.flush()
        audit.record(
            tx,
            actor=actor,
            kind="team.updated",
            subject_type="team",
            subject_id=team.id,
            at=now,
            data={"changed": changed},
        )
    return team


def delete_team(tx: Session, *, team_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    rules.authorize(actor, "teams.write")
    team = repo.get_team(tx, team_id)
    audit.record(
        tx,
        actor=actor,
        kind="team.deleted",
        subject_type="team",
        subject_id=team.id,
        at=now,
        data={"name": team.name},
    )
    tx.delete(team)


def authenticate(
    tx: Session, *, email: str, password: str, now: datetime, max_failures: int, window: timedelta
) -> User:
    """Check a password. Wrong email and wrong password give one generic message.

    Raises RateLimited after ``max_failures`` failures for that email inside ``window``.
    A failure is recorded in this transaction, so the adapter must commit on failure too.
    """
    key = email.strip().lower()[:254]
    retry = rules.login_retry_after(
        repo.list_login_failures(tx, key, now - window),
        now=now,
        max_failures=max_failures,
        window=window,
    )
    if retry is not None:
        raise RateLimited(
            f"Too many failed sign-ins for this account; try again in {retry} seconds.",
            retry_after=retry,
            code="auth.rate_limited",
        )
    user = repo.find_user_by_email(tx, key)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        tx.add(LoginFailure(email=key, at=now))
        raise Unauthenticated(WRONG_LOGIN)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    tx.execute(delete(LoginFailure).where(LoginFailure.email == key))
    return user


def start_session(
    tx: Session, *, user: User, now: datetime, lifetime: timedelta
) -> tuple[str, WebSession]:
    """Open a browser session; returns the cookie value (shown once) and the row."""
    raw = new_secret()
    session = WebSession(
        token_hash=hash_secret(raw),
        user_id=user.id,
        csrf_token=new_secret(24),
        created_at=now,
        expires_at=now + lifetime,
    )
    tx.add(session)
    tx.flush()
    return raw, session


def resolve_session(tx: Session, *, raw: str, now: datetime) -> tuple[User, WebSession] | None:
    """The signed-in user behind a session cookie, or None if unknown, expired or deactivated."""
    session = repo.find_session_by_hash(tx, hash_secret(raw))
    if session is None or rules.session_expired(session.expires_at, now):
        return None
    user = repo.get_user(tx, session.user_id)
    if not user.is_active:
        return None
    return user, session


def end_session(tx: Session, *, raw: str) -> None:
    """Sign out; safe to call twice."""
    tx.execute(delete(WebSession).where(WebSession.token_hash == hash_secret(raw)))


def purge_expired_sessions(tx: Session, *, now: datetime) -> int:
    result = tx.execute(delete(WebSession).where(WebSession.expires_at <= now))
    return rowcount(result)


def create_token(
    tx: Session, *, user_id: uuid.UUID, name: str, scope: str, actor: Actor, now: datetime
) -> tuple[str, ApiToken]:
    """Issue an API token for ``user_id``; returns the token (never stored) and its row.

    People issue tokens for themselves; admins for anyone. A token never has more
    rights than its owner's role.
    """
    rules.authorize(actor, "tokens.own")
    if actor.user_id != user_id:
        rules.authorize(actor, "people.write")
    user = repo.get_user(tx, user_id)
    if scope not in rules.SCOPES:
        raise ValidationFailed.one("scope", "Scope must be read or write.")
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed.one("name", "Give the token a name of 1 to 100 characters.")
    raw = TOKEN_PREFIX + new_secret()
    token = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=hash_secret(raw),
        prefix=raw[:10],
        scope=scope,
        created_at=now,
    )
    tx.add(token)
    tx.flush()
    audit.record(
        tx,
        actor=actor,
        kind="token.created",
        subject_type="user",
        subject_id=user.id,
        at=now,
        data={"token_id": str(token.id), "scope": scope, "name": name},
    )
    return raw, token


def resolve_token(tx: Session, *, raw: str, now: datetime) -> tuple[User, ApiToken] | None:
    """The user and token behind a raw API token, or None if unknown or revoked."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = repo.find_token_by_hash(tx, hash_secret(raw))
    if token is None or token.revoked_at is not None:
        return None
    user = repo.get_user(tx, token.user_id)
    if not user.is_active:
        return None
    return user, token


def revoke_token(tx: Session, *, token_id: uuid.UUID, actor: Actor, now: datetime) -> None:
    """Revoke a token; safe to call twice."""
    token = tx.get(ApiToken, token_id)
    if token is None:
        raise NotFound("token", token_id)
    if token.user_id != actor.user_id:
        rules.authorize(actor, "people.write")
    else:
        rules.authorize(actor, "tokens.own")
    if token.revoked_at is None:
        token.revoked_at = now
        audit.record(
            tx,
            actor=actor,
            kind="token.revoked",
            subject_type="user",
            subject_id=token.user_id,
            at=now,
            data={"token_id": str(token.id)},
        )


def actor_for(user: User, *, via: str, scope: Scope = "write") -> Actor:
    """The Actor a signed-in user or token acts as."""
    return Actor(user_id=user.id, name=user.name, role=user.role, via=via, scope=scope)  # type: ignore[arg-type]


def _check_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > 200:
        raise ValidationFailed.one("name", "Enter a name of 1 to 200 characters.")
    return value


def _check_team_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > 100:
        raise ValidationFailed.one("name", "Enter a team name of 1 to 100 characters.")
    return value
