"""A person's contact methods (with verification codes), notification rules and test pages.

``{user}`` in the path is a user id or ``me``. People manage their own; admins anybody's.
Others with ``people.read`` see someone's methods with the address masked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tocsin.kernel.errors import NotFound, ValidationFailed
from tocsin.notifications import personal
from tocsin.people import contact_rules, contacts
from tocsin.people import repo as people_repo
from tocsin.people.rules import allows, authorize
from tocsin.people.tables import ContactMethod
from tocsin.web.api.schemas import RequestBody
from tocsin.web.deps import AppServices, CurrentPrincipal, Principal

router = APIRouter(prefix="/users/{user}", tags=["contact methods"])

UserRef = Annotated[str, Path(min_length=1, max_length=64, description="A user id or 'me'.")]
Urgency = Literal["high", "low"]


class MethodCreate(RequestBody):
    kind: str = Field(max_length=16, description=", ".join(contact_rules.KINDS))
    address: str = Field(max_length=4096)
    label: str = Field(default="", max_length=200)


class CodeBody(RequestBody):
    code: str = Field(min_length=1, max_length=32)


class MethodOut(BaseModel):
    id: uuid.UUID
    user_id: uuid.UUID
    kind: str
    address: str = Field(description="Masked unless it is yours or you manage people")
    label: str
    verified: bool
    verified_at: datetime | None
    created_at: datetime


class MethodList(BaseModel):
    data: list[MethodOut]


class RuleIn(RequestBody):
    delay_minutes: int = Field(description="Minutes after being paged (0-1440)")
    contact_method_id: uuid.UUID


class RuleOut(BaseModel):
    delay_minutes: int
    contact_method_id: uuid.UUID


class PlannedOut(BaseModel):
    delay_minutes: int
    contact_method_id: uuid.UUID
    kind: str
    recommended: bool = Field(description="True when no rule was set: Tocsin's default")


class RulesOut(BaseModel):
    rules: dict[str, list[RuleOut]]
    plan: dict[str, list[PlannedOut]] = Field(description="What really happens, per urgency")


class TestPageCreate(RequestBody):
    contact_method_id: uuid.UUID


class TestPageOut(BaseModel):
    id: uuid.UUID
    contact_method_id: uuid.UUID
    kind: str
    created_at: datetime


class TestStatsOut(BaseModel):
    contact_method_id: uuid.UUID
    kind: str
    tests: int
    acknowledged: int
    median_seconds: float | None
    last_test_at: datetime | None


class TestStatsList(BaseModel):
    data: list[TestStatsOut]


def _user_id(principal: Principal, user: str) -> uuid.UUID:
    if user == "me":
        return principal.user.id
    try:
        return uuid.UUID(user)
    except ValueError:
        raise NotFound("user", user) from None


def _may_read(principal: Principal, user_id: uuid.UUID) -> None:
    if principal.user.id != user_id:
        authorize(principal.actor, "people.read")


def _own_method(tx: Session, user_id: uuid.UUID, method_id: uuid.UUID) -> ContactMethod:
    method = contacts.get_method(tx, method_id)
    if method.user_id != user_id:
        raise NotFound("contact_method", method_id)
    return method


def method_out(method: ContactMethod, *, full: bool) -> MethodOut:
    return MethodOut(
        id=method.id,
        user_id=method.user_id,
        kind=method.kind,
        address=method.address if full else contact_rules.mask(method.kind, method.address),
        label=method.label,
        verified=method.verified_at is not None,
        verified_at=method.verified_at,
        created_at=method.created_at,
    )


def _full(principal: Principal, user_id: uuid.UUID) -> bool:
    return principal.user.id == user_id or allows(principal.actor.role, "people.write")


@router.get("/contact-methods", summary="A person's contact methods and whether each is verified")
def list_methods(user: UserRef, principal: CurrentPrincipal, services: AppServices) -> MethodList:
    user_id = _user_id(principal, user)
    _may_read(principal, user_id)
    with services.db.read() as tx:
        people_repo.get_user(tx, user_id)
        full = _full(principal, user_id)
        return MethodList(
            data=[method_out(m, full=full) for m in contacts.list_methods(tx, user_id)]
        )


@router.post(
    "/contact-methods",
    status_code=201,
    summary="Add a contact method; a verification code is sent to it",
)
def add_method(
    user: UserRef, body: MethodCreate, principal: CurrentPrincipal, services: AppServices
) -> MethodOut:
    user_id = _user_id(principal, user)
    with services.db.transaction() as tx:
        method, _ = personal.add_method(
            tx,
            user_id=user_id,
            kind=body.kind,
            address=body.address,
            label=body.label,
            actor=principal.actor,
            now=services.clock.now(),
            allow_private=services.settings.webhook_allow_private,
        )
        out = method_out(method, full=True)
    services.wake()
    return out


@router.post("/contact-methods/{method_id}/verify", summary="Verify a method with the code sent")
def verify_method(
    user: UserRef,
    method_id: uuid.UUID,
    body: CodeBody,
    principal: CurrentPrincipal,
    services: AppServices,
) -> MethodOut:
    user_id = _user_id(principal, user)
    # A wrong code must be counted even though the request fails: commit, then raise.
    with services.db.transaction() as tx:
        _own_method(tx, user_id, method_id)
        try:
            method = contacts.verify_method(
                tx,
                method_id=method_id,
                code=body.code,
                actor=principal.actor,
                now=services.clock.now(),
            )
            error: ValidationFailed | None = None
            out = method_out(method, full=True)
        except ValidationFailed as exc:
            error = exc
    if error is not None:
        raise error
    return out


@router.post(
    "/contact-methods/{method_id}/resend",
    status_code=202,
    summary="Send a new verification code (the previous one stops working)",
)
def resend_code(
    user: UserRef, method_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> MethodOut:
    user_id = _user_id(principal, user)
    if principal.user.id != user_id:
        authorize(principal.actor, "people.write")
    authorize(principal.actor, "contacts.own")
    with services.db.transaction() as tx:
        method = _own_method(tx, user_id, method_id)
        personal.send_code(tx, method=method, actor=principal.actor, now=services.clock.now())
        out = method_out(method, full=True)
    services.wake()
    return out


@router.delete("/contact-methods/{method_id}", status_code=204, summary="Remove a contact method")
def remove_method(
    user: UserRef, method_id: uuid.UUID, principal: CurrentPrincipal, services: AppServices
) -> None:
    user_id = _user_id(principal, user)
    with services.db.transaction() as tx:
        _own_method(tx, user_id, method_id)
        contacts.remove_method(
            tx, method_id=method_id, actor=principal.actor, now=services.clock.now()
        )


def _rules_out(services: AppServices, user_id: uuid.UUID) -> RulesOut:
    minutes = services.paging.default_escalation_minutes
    with services.db.read() as tx:
        person = people_repo.get_user(tx, user_id)
        methods = list(contacts.list_methods(tx, user_id))
        own = list(contacts.list_rules(tx, user_id))
        rules: dict[str, list[RuleOut]] = {}
        plan: dict[str, list[PlannedOut]] = {}
        for urgency in contact_rules.URGENCIES:
            rules[urgency] = [
                RuleOut(delay_minutes=r.delay_minutes, contact_method_id=r.contact_method_id)
                for r in own
                if r.urgency == urgency
            ]
            plan[urgency] = [
                PlannedOut(
                    delay_minutes=p.delay_minutes,
                    contact_method_id=p.method.id,
                    kind=p.method.kind,
                    recommended=p.recommended,
                )
                for p in contacts.effective_plan(
                    tx, person, urgency, escalation_minutes=minutes, methods=methods, rules=own
                )
            ]
        return RulesOut(rules=rules, plan=plan)


@router.get(
    "/notification-rules",
    summary="A person's notification rules and the plan in effect per urgency",
)
def get_rules(user: UserRef, principal: CurrentPrincipal, services: AppServices) -> RulesOut:
    user_id = _user_id(principal, user)
    _may_read(principal, user_id)
    return _rules_out(services, user_id)


@router.put(
    "/notification-rules",
    summary="Replace the rules of one urgency (an empty list returns to the recommended plan)",
)
def put_rules(
    user: UserRef,
    body: Annotated[list[RuleIn], Body(max_length=contact_rules.MAX_RULES_PER_URGENCY * 2)],
    principal: CurrentPrincipal,
    services: AppServices,
    urgency: Annotated[Urgency, Query()] = "high",
) -> RulesOut:
    user_id = _user_id(principal, user)
    with services.db.transaction() as tx:
        contacts.set_rules(
            tx,
            user_id=user_id,
            urgency=urgency,
            steps=[(r.delay_minutes, r.contact_method_id) for r in body],
            actor=principal.actor,
            now=services.clock.now(),
        )
    return _rules_out(services, user_id)


@router.post(
    "/test-pages",
    status_code=201,
    summary="Send yourself a test page; acknowledging it measures how fast pages reach you",
)
def send_test_page(
    user: UserRef, body: TestPageCreate, principal: CurrentPrincipal, services: AppServices
) -> TestPageOut:
    user_id = _user_id(principal, user)
    with services.db.transaction() as tx:
        _own_method(tx, user_id, body.contact_method_id)
        test = personal.send_test_page(
            tx, method_id=body.contact_method_id, actor=principal.actor, now=services.clock.now()
        )
        out = TestPageOut(
            id=test.id,
            contact_method_id=test.contact_method_id,
            kind=test.kind,
            created_at=test.created_at,
        )
    services.wake()
    return out


@router.get("/test-pages", summary="Per method: test pages sent, acknowledged, median seconds")
def test_page_stats(
    user: UserRef, principal: CurrentPrincipal, services: AppServices
) -> TestStatsList:
    user_id = _user_id(principal, user)
    _may_read(principal, user_id)
    with services.db.read() as tx:
        people_repo.get_user(tx, user_id)
        kinds = {m.id: m.kind for m in contacts.list_methods(tx, user_id)}
        stats = personal.test_stats(tx, user_id=user_id)
    return TestStatsList(
        data=[
            TestStatsOut(
                contact_method_id=s.method_id,
                kind=kinds.get(s.method_id, "?"),
                tests=s.tests,
                acknowledged=s.acknowledged,
                median_seconds=s.median_seconds,
                last_test_at=s.last_test_at,
            )
            for s in stats.values()
        ]
    )
