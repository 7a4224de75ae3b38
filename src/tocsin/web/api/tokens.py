"""API tokens: people list, issue and revoke their own; admins issue tokens for anyone."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from tocsin.kernel.errors import NotFound
from tocsin.people import actions, repo
from tocsin.web.api.me import me_id
from tocsin.web.api.schemas import TokenCreate, TokenCreated, TokenList, TokenOut
from tocsin.web.deps import AppServices, CurrentPrincipal

router = APIRouter(tags=["tokens"])


@router.get("/me/tokens", summary="My API tokens (never the tokens themselves)")
def list_my_tokens(principal: CurrentPrincipal, services: AppServices) -> TokenList:
    with services.db.read() as tx:
        tokens = repo.list_tokens(tx, me_id(principal))
        return TokenList(data=[TokenOut.model_validate(t) for t in tokens])


def _issue(
    services: AppServices, principal: CurrentPrincipal, user_id: uuid.UUID, body: TokenCreate
) -> TokenCreated:
    with services.db.transaction() as tx:
        raw, token = actions.create_token(
            tx,
            user_id=user_id,
            name=body.name,
            scope=body.scope,
            actor=principal.actor,
            now=services.clock.now(),
        )
        out = TokenOut.model_validate(token)
    return TokenCreated(**out.model_dump(), token=raw)


@router.post("/me/tokens", status_code=201, summary="Issue a token for myself; shown once")
def create_my_token(
    body: TokenCreate, principal: CurrentPrincipal, services: AppServices
) -> TokenCreated:
    return _issue(services, principal, me_id(principal), body)


@router.delete("/me/tokens/{token_id}", status_code=204, summary="Revoke one of my tokens")
def revoke_my_token(
    token_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> Response:
    with services.db.transaction() as tx:
        # Under /me only my own tokens exist; someone else's is "not found", not "forbidden".
        if all(t.id != token_id for t in repo.list_tokens(tx, me_id(principal))):
            raise NotFound("token", token_id)
        actions.revoke_token(tx, token_id=token_id, actor=principal.actor, now=services.clock.now())
    return Response(status_code=204)


@router.post(
    "/users/{user_id}/tokens", status_code=201, summary="Issue a token for a person (admins)"
)
def create_token_for(
    user_id: uuid.UUID, body: TokenCreate, principal: CurrentPrincipal, services: AppServices
) -> TokenCreated:
    return _issue(services, principal, user_id, body)
