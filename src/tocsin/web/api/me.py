"""The signed-in person: profile, password, and a test message to check they can be reached."""

from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Response

from tocsin.kernel.errors import TocsinError, Unauthenticated
from tocsin.notifications import actions as outbox
from tocsin.people import actions, repo
from tocsin.web.api.schemas import MessageQueued, MeUpdate, PasswordChange, UserOut
from tocsin.web.deps import AppServices, CurrentPrincipal, Principal

router = APIRouter(prefix="/me", tags=["me"])


def me_id(principal: Principal) -> uuid.UUID:
    """The signed-in person's id (read from the actor: ``principal.user`` may be detached)."""
    if principal.actor.user_id is None:
        raise Unauthenticated()
    return principal.actor.user_id


@router.get("", summary="Who I am")
def get_me(principal: CurrentPrincipal, services: AppServices) -> UserOut:
    with services.db.read() as tx:
        return UserOut.model_validate(repo.get_user(tx, me_id(principal)))


@router.patch("", summary="Change my name or time zone")
def update_me(body: MeUpdate, principal: CurrentPrincipal, services: AppServices) -> UserOut:
    with services.db.transaction() as tx:
        user = actions.update_user(
            tx,
            user_id=me_id(principal),
            actor=principal.actor,
            now=services.clock.now(),
            name=body.name,
            time_zone=body.time_zone,
        )
        return UserOut.model_validate(user)


@router.post("/password", status_code=204, summary="Change my password (needs the current one)")
def change_password(
    body: PasswordChange, principal: CurrentPrincipal, services: AppServices
) -> Response:
    settings = services.settings
    refused: TocsinError | None = None
    with services.db.transaction() as tx:
        try:
            actions.change_own_password(
                tx,
                actor=principal.actor,
                current_password=body.current_password,
                new_password=body.new_password,
                now=services.clock.now(),
                max_failures=settings.login_max_failures,
                window=timedelta(minutes=settings.login_window_minutes),
            )
        except TocsinError as exc:
            # Commit anyway: a wrong current password is recorded for rate limiting.
            refused = exc
    if refused is not None:
        raise refused
    return Response(status_code=204)


@router.post(
    "/test-email", status_code=202, summary="Send myself a test email (queued; sent by the engine)"
)
def send_test_email(principal: CurrentPrincipal, services: AppServices) -> MessageQueued:
    with services.db.transaction() as tx:
        message = outbox.send_test_email(
            tx,
            user_id=me_id(principal),
            actor=principal.actor,
            now=services.clock.now(),
            base_url=services.settings.base_url,
        )
        queued = MessageQueued(id=message.id, status=message.status)
    services.wake()
    return queued
