"""Escalation policy pages: the list, the new/edit form, and one policy with "who is paged now".

The form names its inputs after the action's field paths (``levels[1].delay_minutes``) so
a ValidationFailed lands next to the input that caused it. Each level offers one
multi-select per target kind (people, schedules, teams); unused level slots are skipped
and error indexes mapped back to the slot the person filled in. It works without JS.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from tocsin.escalation import actions as escalation_actions
from tocsin.escalation import repo as escalation_repo
from tocsin.escalation import rules as escalation_rules
from tocsin.escalation.tables import EscalationPolicy
from tocsin.kernel.errors import Conflict, FieldError, ValidationFailed
from tocsin.people import contacts
from tocsin.people import repo as people_repo
from tocsin.people import rules as people_rules
from tocsin.people.tables import User
from tocsin.schedules import repo as schedules_repo
from tocsin.services.tables import Service
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, parse_id, text, texts
from tocsin.web.pages.render import render

router = APIRouter()

MIN_SLOTS = 3  # level slots the form offers at least (one more than the policy has)
KIND_FIELDS = {"user": "users", "schedule": "schedules", "team": "teams"}
_LEVEL = re.compile(r"^levels\[(\d+)\]")

NOTICES = {
    "created": "Policy created.",
    "saved": "Policy saved. Incidents already escalating keep the policy they started with.",
    "deleted": "Policy deleted.",
}


def dom_id(path: str) -> str:
    """An HTML id for a field path: ``levels[0].users`` → ``levels-0-users``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", path).strip("-")


# --- What the form means -----------------------------------------------------------------


@dataclass
class PolicyForm:
    values: dict[str, Any]
    levels: list[dict[str, Any]] = field(default_factory=list)
    slots: list[int] = field(default_factory=list)  # the form slot of each kept level
    errors: list[FieldError] = field(default_factory=list)
    team_id: uuid.UUID | None = None
    repeat: int = 0


def _slot_count(form: FormData) -> int:
    used = [int(m.group(1)) for k in form if (m := _LEVEL.match(k))]
    return max([MIN_SLOTS, *(i + 1 for i in used if i < escalation_rules.MAX_LEVELS)])


def read_policy_form(form: FormData) -> PolicyForm:
    values: dict[str, Any] = {k: text(form, k) for k in ("name", "description", "team_id")}
    values["repeat"] = text(form, "repeat") or "0"
    parsed = PolicyForm(values=values)
    if values["team_id"]:
        try:
            parsed.team_id = uuid.UUID(values["team_id"])
        except ValueError:
            parsed.errors.append(FieldError("team_id", "Pick a team from the list."))
    try:
        parsed.repeat = int(values["repeat"].strip())
    except ValueError:
        parsed.errors.append(FieldError("repeat", "Give a whole number from 0 to 9."))
    for slot in range(_slot_count(form)):
        path = f"levels[{slot}]"
        delay_raw = text(form, f"{path}.delay_minutes").strip()
        rr = bool(text(form, f"{path}.round_robin"))
        chosen = {kind: texts(form, f"{path}.{name}") for kind, name in KIND_FIELDS.items()}
        values[f"{path}.delay_minutes"] = delay_raw
        values[f"{path}.round_robin"] = rr
        for kind, name in KIND_FIELDS.items():
            values[f"{path}.{name}"] = chosen[kind]
        if not any(chosen.values()):
            continue  # an unused slot
        delay: object = escalation_rules.DEFAULT_DELAY_MINUTES
        if delay_raw:
            try:
                delay = int(delay_raw)
            except ValueError:
                delay = delay_raw  # refused by the rules, next to the field
        parsed.slots.append(slot)
        parsed.levels.append(
            {
                "delay_minutes": delay,
                "round_robin": rr,
                "targets": [
                    {"kind": kind, "id": tid} for kind in KIND_FIELDS for tid in chosen[kind]
                ],
            }
        )
    return parsed


def policy_values(policy: EscalationPolicy) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": policy.name,
        "description": policy.description,
        "team_id": str(policy.team_id) if policy.team_id else "",
        "repeat": str(policy.repeat),
    }
    for i, level in enumerate(policy.levels):
        path = f"levels[{i}]"
        values[f"{path}.delay_minutes"] = str(level.get("delay_minutes", ""))
        values[f"{path}.round_robin"] = bool(level.get("round_robin"))
        for kind, name in KIND_FIELDS.items():
            values[f"{path}.{name}"] = [
                str(t["id"]) for t in level.get("targets", []) if t.get("kind") == kind
            ]
    return values


def form_errors(parsed: PolicyForm, exc: ValidationFailed | Conflict) -> dict[str, str]:
    """Messages keyed by input path; ``levels[i].targets[j].id`` lands on the level's targets."""
    out: dict[str, str] = {}
    for f in exc.fields:
        path = f.field
        match = _LEVEL.match(path)
        if match:
            index = int(match.group(1))
            slot = parsed.slots[index] if index < len(parsed.slots) else index
            rest = path[match.end() :]
            if rest.startswith(".targets"):
                rest = ".targets"
            path = f"levels[{slot}]{rest}"
        out.setdefault(path, f.message)
    return out


# --- Who would be paged now ----------------------------------------------------------------


@dataclass(frozen=True)
class Paged:
    name: str
    user_id: str
    via: str
    via_name: str
    shadow: bool
    reachable: bool


@dataclass(frozen=True)
class LevelView:
    number: int
    delay_minutes: int
    round_robin: bool
    targets: list[tuple[str, str, str]]  # kind, id, name
    now: list[Paged]


def level_views(tx: Session, policy: EscalationPolicy, *, now: datetime) -> list[LevelView]:
    parsed = escalation_actions.policy_of(policy)
    names = escalation_repo.target_names(tx, [t for lvl in parsed.levels for t in lvl.targets])
    out: list[LevelView] = []
    for i, level in enumerate(parsed.levels):
        recipients = escalation_repo.resolve_level(tx, level, at=now)
        ids = [uuid.UUID(r.user_id) for r in recipients]
        users = (
            {u.id: u for u in tx.execute(select(User).where(User.id.in_(ids))).scalars()}
            if ids
            else {}
        )
        methods = contacts.methods_of(tx, ids)
        paged: list[Paged] = []
        for r in recipients:
            user = users.get(uuid.UUID(r.user_id))
            if user is None:
                continue
            plan = contacts.effective_plan(tx, user, "high", methods=methods.get(user.id, []))
            via_name = names.get(escalation_rules.Target(r.via, r.via_id), "")
            paged.append(Paged(user.name, str(user.id), r.via, via_name, r.shadow, bool(plan)))
        out.append(
            LevelView(
                number=i + 1,
                delay_minutes=level.delay_minutes,
                round_robin=level.round_robin,
                targets=[(t.kind, t.id, names.get(t, t.id)) for t in level.targets],
                now=paged,
            )
        )
    return out


def services_using(tx: Session, policy_id: uuid.UUID) -> Sequence[Service]:
    return (
        tx.execute(
            select(Service).where(Service.escalation_policy_id == policy_id).order_by(Service.name)
        )
        .scalars()
        .all()
    )


def _choices(tx: Session) -> dict[str, Any]:
    people = sorted(
        (u for u in people_repo.list_users(tx, limit=1000) if u.is_active),
        key=lambda u: u.name.lower(),
    )
    return {
        "people": people,
        "schedules": schedules_repo.list_schedules(tx, limit=500),
        "teams": people_repo.list_teams(tx, limit=500),
    }


# --- Pages ---------------------------------------------------------------------------------


@router.get("/policies")
def policy_list(
    request: Request, viewer: Viewer, services: AppServices, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "policies.read")
    now = services.clock.now()
    with services.db.read() as tx:
        teams = {t.id: t for t in people_repo.list_teams(tx, limit=500)}
        rows = []
        for policy in escalation_repo.list_policies(tx):
            views = level_views(tx, policy, now=now)
            rows.append(
                {
                    "policy": policy,
                    "team": teams.get(policy.team_id) if policy.team_id else None,
                    "levels": views,
                    "empty_levels": [v.number for v in views if not v.now],
                    "services": services_using(tx, policy.id),
                }
            )
        return render(
            request,
            "policies_list.html",
            viewer,
            {"section": "policies", "rows": rows, "notice": NOTICES.get(notice)},
        )


def _form_page(
    request: Request,
    viewer: Principal,
    services: AppServices,
    *,
    policy_id: uuid.UUID | None,
    values: Mapping[str, Any],
    errors: Mapping[str, str] | None = None,
    message: str | None = None,
    status: int = 200,
) -> Response:
    used = [int(m.group(1)) for k in values if (m := _LEVEL.match(k))]
    filled = [
        i
        for i in set(used)
        if any(values.get(f"levels[{i}].{name}") for name in KIND_FIELDS.values())
    ]
    count = min(
        escalation_rules.MAX_LEVELS,
        max([MIN_SLOTS, *(i + 2 for i in filled), *(i + 1 for i in used)]),
    )
    with services.db.read() as tx:
        return render(
            request,
            "policy_form.html",
            viewer,
            {
                "section": "policies",
                "policy_id": policy_id,
                "values": values,
                "errors": errors or {},
                "message": message,
                "level_count": count,
                "dom_id": dom_id,
                "max_repeat": escalation_rules.MAX_REPEAT,
                "delay_range": (
                    escalation_rules.MIN_DELAY_MINUTES,
                    escalation_rules.MAX_DELAY_MINUTES,
                ),
                "default_delay": escalation_rules.DEFAULT_DELAY_MINUTES,
                **_choices(tx),
            },
            status=status,
        )


@router.get("/policies/new")
def policy_new_form(request: Request, viewer: Viewer, services: AppServices) -> Response:
    people_rules.authorize(viewer.actor, "policies.write")
    return _form_page(request, viewer, services, policy_id=None, values={"repeat": "0"})


def _save(
    request: Request,
    viewer: Principal,
    services: AppServices,
    form: FormData,
    policy_id: uuid.UUID | None,
) -> Response:
    parsed = read_policy_form(form)
    try:
        if parsed.errors:
            raise ValidationFailed("Some values are not valid.", parsed.errors)
        with services.db.transaction() as tx:
            if policy_id is None:
                policy = escalation_actions.create_policy(
                    tx,
                    name=parsed.values["name"],
                    description=parsed.values["description"],
                    team_id=parsed.team_id,
                    repeat=parsed.repeat,
                    levels=parsed.levels,
                    actor=viewer.actor,
                    now=services.clock.now(),
                )
                saved_id, notice = policy.id, "created"
            else:
                escalation_actions.update_policy(
                    tx,
                    policy_id=policy_id,
                    name=parsed.values["name"],
                    description=parsed.values["description"],
                    team_id=parsed.team_id,
                    clear_team=parsed.team_id is None,
                    repeat=parsed.repeat,
                    levels=parsed.levels,
                    actor=viewer.actor,
                    now=services.clock.now(),
                )
                saved_id, notice = policy_id, "saved"
    except (ValidationFailed, Conflict) as exc:
        return _form_page(
            request,
            viewer,
            services,
            policy_id=policy_id,
            values=parsed.values,
            errors=form_errors(parsed, exc),
            message=exc.message,
            status=FORM_INVALID,
        )
    return RedirectResponse(f"/policies/{saved_id}?notice={notice}", status_code=303)


@router.post("/policies/new")
def policy_create(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "policies.write")
    return _save(request, viewer, services, form, None)


@router.get("/policies/{policy_id}/edit")
def policy_edit_form(
    request: Request, viewer: Viewer, services: AppServices, policy_id: str
) -> Response:
    people_rules.authorize(viewer.actor, "policies.write")
    pid = parse_id(policy_id, "escalation_policy")
    with services.db.read() as tx:
        values = policy_values(escalation_repo.get_policy(tx, pid))
    return _form_page(request, viewer, services, policy_id=pid, values=values)


@router.post("/policies/{policy_id}/edit")
def policy_update(
    request: Request, viewer: Viewer, services: AppServices, policy_id: str, form: CheckedForm
) -> Response:
    people_rules.authorize(viewer.actor, "policies.write")
    pid = parse_id(policy_id, "escalation_policy")
    return _save(request, viewer, services, form, pid)


@router.get("/policies/{policy_id}")
def policy_detail(
    request: Request, viewer: Viewer, services: AppServices, policy_id: str, notice: str = ""
) -> Response:
    people_rules.authorize(viewer.actor, "policies.read")
    pid = parse_id(policy_id, "escalation_policy")
    now = services.clock.now()
    with services.db.read() as tx:
        policy = escalation_repo.get_policy(tx, pid)
        team = None
        if policy.team_id is not None:
            team = next(
                (t for t in people_repo.list_teams(tx, limit=500) if t.id == policy.team_id), None
            )
        return render(
            request,
            "policy_detail.html",
            viewer,
            {
                "section": "policies",
                "policy": policy,
                "team": team,
                "levels": level_views(tx, policy, now=now),
                "services_using": services_using(tx, policy.id),
                "now": now,
                "notice": NOTICES.get(notice),
            },
        )


@router.post("/policies/{policy_id}/delete")
def policy_delete(
    request: Request, viewer: Viewer, services: AppServices, policy_id: str, form: CheckedForm
) -> Response:
    pid = parse_id(policy_id, "escalation_policy")
    with services.db.transaction() as tx:
        escalation_actions.delete_policy(
            tx, policy_id=pid, actor=viewer.actor, now=services.clock.now()
        )
    return RedirectResponse("/policies?notice=deleted", status_code=303)
