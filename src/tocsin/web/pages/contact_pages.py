"""The profile's paging sections: contact methods, verification, test pages, notification rules.

Also Web Push for this browser: ``/sw.js`` is served from the site root so the service
worker's scope covers every page, and ``push.js`` posts the browser's subscription to
``/profile/push``, which adds it as a ``push`` contact method. Like every other method
it is verified by the code Tocsin sends through it (the notification shows the code).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import Response

from tocsin.kernel.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from tocsin.notifications import personal
from tocsin.people import contact_rules as cr
from tocsin.people import contacts
from tocsin.people.tables import User
from tocsin.web.deps import AppServices, Principal
from tocsin.web.pages import profile as profile_page
from tocsin.web.pages.forms import FORM_INVALID, CheckedForm, Viewer, parse_id, text

router = APIRouter()

STATIC = Path(__file__).resolve().parent / "static"
RULE_SLOTS = 2  # empty rows offered after a person's rules

HINTS = {
    "email": "An email address, e.g. ada@example.com.",
    "sms": "A mobile number in international form: a plus, the country code and the number, "
    "e.g. +447700900123.",
    "voice": "A phone number in international form, e.g. +14155550123.",
    "push": "Use the “Get pages in this browser” button instead of typing this.",
    "ntfy": "The full topic URL, e.g. https://ntfy.sh/tocsin-ada-7f3k (pick a hard-to-guess "
    "topic).",
    "slack": "Your Slack member id (in Slack: your profile, then ⋮, then Copy member ID), "
    "e.g. U024BE7LH.",
    "teams": "An incoming webhook URL of a Teams chat or channel.",
    "webhook": "An https:// URL Tocsin will POST the page to as JSON.",
    "apprise": "Admins only: an Apprise URL for any service Apprise supports, "
    "e.g. gotify://gotify.example.com/token.",
}

NOTICES = {
    "method_added": "Contact method added. We sent it a 6-digit code: type it below to verify.",
    "verified": "Verified: Tocsin can page you there now.",
    "code_sent": "A new code is on its way; the old one no longer works.",
    "removed": "Contact method removed.",
    "test_sent": "Test page queued. Acknowledge it when it arrives to record how long it took.",
    "rules_saved": "Notification rules saved.",
    "rules_reset": "Back to the recommended notification rules.",
}


def stats_in_words(kind: str, stats: personal.TestStats | None) -> tuple[str, bool]:
    """("SMS: median 8 s over 5 tests", warn?) for one method."""
    label = cr.KIND_LABELS.get(kind, kind)
    if stats is None or stats.tests == 0:
        return f"{label}: never tested", True
    if stats.median_seconds is None:
        return (
            f"{label}: {stats.tests} test{'s' if stats.tests != 1 else ''}, none acknowledged",
            True,
        )
    return (
        f"{label}: median {stats.median_seconds:.0f} s over {stats.acknowledged} "
        f"test{'s' if stats.acknowledged != 1 else ''}",
        False,
    )


def contact_context(tx: Session, user: User) -> dict[str, Any]:
    """What the profile's paging sections show."""
    methods = list(contacts.list_methods(tx, user.id))
    stats = personal.test_stats(tx, user_id=user.id)
    rules = list(contacts.list_rules(tx, user.id))
    plans = {}
    rows: dict[str, list[dict[str, str]]] = {}
    for urgency in cr.URGENCIES:
        plans[urgency] = contacts.effective_plan(tx, user, urgency, methods=methods, rules=rules)
        own = [r for r in rules if r.urgency == urgency]
        rows[urgency] = [
            {"delay_minutes": str(r.delay_minutes), "method_id": str(r.contact_method_id)}
            for r in own
        ]
    return {
        "methods": methods,
        "method_stats": {m.id: stats_in_words(m.kind, stats.get(m.id)) for m in methods},
        "kinds": [(k, cr.KIND_LABELS[k]) for k in cr.KINDS],
        "kind_labels": cr.KIND_LABELS,
        "kind_hints": HINTS,
        "phone_kinds": cr.PHONE_KINDS,
        "urgencies": cr.URGENCIES,
        "plans": plans,
        "rule_rows": rows,
        "rule_slots": RULE_SLOTS,
        "mask": cr.mask,
    }


def _refused(
    request: Request,
    viewer: Principal,
    services: AppServices,
    exc: ValidationFailed | Conflict | PermissionDenied,
    *,
    form: str,
    values: dict[str, Any] | None = None,
    rename: dict[str, str] | None = None,
) -> Response:
    """Re-render the profile with the messages next to the fields of ``form``."""
    errors: dict[str, str] = {}
    for f in exc.fields:
        name = f.field
        for old, new in (rename or {}).items():
            if name.startswith(old):
                name = new + name[len(old) :]
        errors.setdefault(f"{form}-{name}", f.message)
    if not errors:
        errors[f"{form}-form"] = exc.message
    return profile_page.render_profile(
        request,
        viewer,
        services,
        status=FORM_INVALID if not isinstance(exc, PermissionDenied) else 403,
        contact_errors=errors,
        contact_values=values or {},
        forms={form: exc.message},
    )


def _own_method(tx: Session, viewer: Principal, method_id: uuid.UUID) -> Any:
    method = contacts.get_method(tx, method_id)
    if method.user_id != viewer.user.id:
        raise PermissionDenied("You can change only your own contact methods.", code="auth.role")
    return method


def _done(notice: str, anchor: str = "contacts-title") -> Response:
    return RedirectResponse(f"/profile?notice={notice}#{anchor}", status_code=303)


@router.post("/profile/contacts")
def method_add(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    values = {k: text(form, k) for k in ("kind", "address", "label")}
    try:
        with services.db.transaction() as tx:
            personal.add_method(
                tx,
                user_id=viewer.user.id,
                kind=values["kind"],
                address=values["address"],
                label=values["label"],
                actor=viewer.actor,
                now=services.clock.now(),
                allow_private=services.settings.webhook_allow_private,
            )
    except (ValidationFailed, Conflict, PermissionDenied) as exc:
        return _refused(request, viewer, services, exc, form="add", values=values)
    services.wake()
    return _done("method_added")


@router.post("/profile/contacts/{method_id}/verify")
def method_verify(
    request: Request, viewer: Viewer, services: AppServices, method_id: str, form: CheckedForm
) -> Response:
    mid = parse_id(method_id, "contact_method")
    code = text(form, "code").strip().replace(" ", "")
    refused: ValidationFailed | None = None
    with services.db.transaction() as tx:
        _own_method(tx, viewer, mid)
        try:
            contacts.verify_method(
                tx, method_id=mid, code=code, actor=viewer.actor, now=services.clock.now()
            )
        except ValidationFailed as exc:
            refused = exc  # commit anyway: a wrong code counts towards the limit
    if refused is not None:
        return _refused(request, viewer, services, refused, form=f"verify-{mid}")
    return _done("verified")


@router.post("/profile/contacts/{method_id}/code")
def method_code(
    request: Request, viewer: Viewer, services: AppServices, method_id: str, form: CheckedForm
) -> Response:
    mid = parse_id(method_id, "contact_method")
    try:
        with services.db.transaction() as tx:
            method = _own_method(tx, viewer, mid)
            personal.send_code(tx, method=method, actor=viewer.actor, now=services.clock.now())
    except ValidationFailed as exc:
        return _refused(request, viewer, services, exc, form=f"verify-{mid}")
    services.wake()
    return _done("code_sent")


@router.post("/profile/contacts/{method_id}/remove")
def method_remove(
    request: Request, viewer: Viewer, services: AppServices, method_id: str, form: CheckedForm
) -> Response:
    mid = parse_id(method_id, "contact_method")
    with services.db.transaction() as tx:
        contacts.remove_method(tx, method_id=mid, actor=viewer.actor, now=services.clock.now())
    return _done("removed")


@router.post("/profile/contacts/{method_id}/test")
def method_test(
    request: Request, viewer: Viewer, services: AppServices, method_id: str, form: CheckedForm
) -> Response:
    mid = parse_id(method_id, "contact_method")
    with services.db.transaction() as tx:
        personal.send_test_page(tx, method_id=mid, actor=viewer.actor, now=services.clock.now())
    services.wake()
    return _done("test_sent")


def _rule_steps(
    form: FormData, urgency: str, values: dict[str, Any]
) -> tuple[list[tuple[int, uuid.UUID]], list[int], list[FieldError]]:
    """Rows with a method chosen, the form row of each, and typing mistakes."""
    steps: list[tuple[int, uuid.UUID]] = []
    kept: list[int] = []
    errors: list[FieldError] = []
    indexes = sorted(
        {
            int(k.split("[")[1].split("]")[0])
            for k in form
            if k.startswith("rules[") and "]" in k and k.split("[")[1].split("]")[0].isdigit()
        }
    )
    for i in indexes[:50]:
        delay_raw = text(form, f"rules[{i}].delay_minutes").strip()
        method_raw = text(form, f"rules[{i}].contact_method_id")
        values[f"rules[{i}].delay_minutes"] = delay_raw
        values[f"rules[{i}].contact_method_id"] = method_raw
        if not method_raw:
            continue
        try:
            delay = int(delay_raw or "0")
        except ValueError:
            errors.append(FieldError(f"rules[{i}].delay_minutes", "Give a whole number."))
            continue
        try:
            method_id = uuid.UUID(method_raw)
        except ValueError:
            errors.append(FieldError(f"rules[{i}].contact_method_id", "Pick a method."))
            continue
        kept.append(i)
        steps.append((delay, method_id))
    return steps, kept, errors


@router.post("/profile/rules/{urgency}")
def rules_save(
    request: Request, viewer: Viewer, services: AppServices, urgency: str, form: CheckedForm
) -> Response:
    reset = bool(text(form, "reset"))
    values: dict[str, Any] = {}
    steps, kept, errors = ([], [], []) if reset else _rule_steps(form, urgency, values)
    try:
        if errors:
            raise ValidationFailed("Some rules are not valid.", errors)
        if not reset and not steps:
            raise ValidationFailed.one(
                "rules",
                "Choose a method in at least one row, or use “Back to the recommended”.",
            )
        with services.db.transaction() as tx:
            contacts.set_rules(
                tx,
                user_id=viewer.user.id,
                urgency=urgency,
                steps=steps,
                actor=viewer.actor,
                now=services.clock.now(),
            )
    except ValidationFailed as exc:
        fields = []
        for f in exc.fields:
            path = f.field
            if path.startswith("rules[") and not errors:
                index = int(path[6 : path.index("]")])
                path = (
                    f"rules[{kept[index] if index < len(kept) else index}]"
                    + path[path.index("]") + 1 :]
                )
            fields.append(FieldError(path, f.message))
        return _refused(
            request,
            viewer,
            services,
            ValidationFailed(exc.message, fields),
            form=f"rules-{urgency}",
            values={f"rules-{urgency}": values},
        )
    return _done("rules_reset" if reset else "rules_saved", f"rules-{urgency}-title")


# --- Web Push -------------------------------------------------------------------------------


@router.post("/profile/push")
def push_subscribe(
    request: Request, viewer: Viewer, services: AppServices, form: CheckedForm
) -> Response:
    """Add this browser's push subscription (JSON) as a contact method; a code follows."""
    try:
        with services.db.transaction() as tx:
            personal.add_method(
                tx,
                user_id=viewer.user.id,
                kind="push",
                address=text(form, "subscription"),
                label=text(form, "label")[:100] or "This browser",
                actor=viewer.actor,
                now=services.clock.now(),
                allow_private=services.settings.webhook_allow_private,
            )
    except (ValidationFailed, PermissionDenied) as exc:
        return JSONResponse({"ok": False, "message": exc.message}, status_code=422)
    services.wake()
    return JSONResponse({"ok": True, "next": "/profile?notice=method_added#contacts-title"})


@router.get("/sw.js")
def service_worker(viewer: Viewer) -> Response:
    """The service worker, served from the root so its scope is the whole site.

    Like every page it needs a session (anonymous: 303 to /login, which the browser
    treats as a failed update and keeps the installed worker)."""
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/", "Cache-Control": "no-cache"},
    )


@router.get("/profile/push/key")
def push_key(request: Request, viewer: Viewer, services: AppServices) -> Response:
    """The VAPID public key browsers need to subscribe (also in the page as data-key)."""
    return JSONResponse({"key": services.vapid_public_key})
