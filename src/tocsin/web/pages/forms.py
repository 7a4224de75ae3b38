"""Form handling shared by every page: who is asking, CSRF-checked form data, field errors.

Every POST handler takes ``CheckedForm``; it reads the form and verifies the session's
CSRF token before the handler runs, so no handler can forget the check.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import FormData

from tocsin.kernel.errors import NotFound, TocsinError, Unauthenticated
from tocsin.web import deps

# A form re-rendered with messages next to its fields (bad input, duplicates): nothing written.
FORM_INVALID = 422

_FIELD_ROOT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*")


def current_principal(request: Request) -> deps.Principal | None:
    """Who is asking (browser session or API token), or None."""
    return deps.authenticate(request)


def page_principal(request: Request) -> deps.Principal:
    """The signed-in person; anonymous browsers are sent to /login (see web.errors)."""
    principal = current_principal(request)
    if principal is None:
        raise Unauthenticated()
    return principal


Viewer = Annotated[deps.Principal, Depends(page_principal)]


async def checked_form(request: Request, viewer: Viewer) -> FormData:
    """The submitted form, after its CSRF token matched the session's (403 otherwise)."""
    form = await request.form()
    deps.check_csrf(request, viewer, text(form, deps.CSRF_FIELD) or None)
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def texts(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


def field_messages(exc: TocsinError) -> dict[str, str]:
    """Messages keyed by form field (``members[0].user_id`` → ``members``); first wins."""
    out: dict[str, str] = {}
    for f in exc.fields:
        match = _FIELD_ROOT.match(f.field)
        key = match.group(0) if match else f.field
        out.setdefault(key, f.message)
    return out


def parse_id(value: str, what: str) -> uuid.UUID:
    """A path id; anything that is not a UUID is simply not found."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(what, value) from None
