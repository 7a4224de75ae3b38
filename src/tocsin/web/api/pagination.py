"""Opaque cursors and page size for every list endpoint (``?limit=&cursor=``)."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Annotated

from fastapi import Query

from tocsin.kernel.errors import ValidationFailed

Limit = Annotated[int, Query(ge=1, le=200, description="Items per page (1 to 200).")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="`next_cursor` of the previous page; omit for the first."),
]
DEFAULT_LIMIT = 50

_BAD_CURSOR = "This cursor is not one we issued; start again without it."


def encode(key: str) -> str:
    """Wrap a sort key so clients treat it as opaque."""
    return base64.urlsafe_b64encode(key.encode()).decode().rstrip("=")


def decode(cursor: str | None) -> str | None:
    """The sort key inside ``cursor``; ValidationFailed (field ``cursor``) when tampered with."""
    if cursor is None:
        return None
    try:
        key = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed.one("cursor", _BAD_CURSOR) from None
    if not key or "\x00" in key:
        raise ValidationFailed.one("cursor", _BAD_CURSOR)
    return key


def decode_id(cursor: str | None) -> uuid.UUID | None:
    """A cursor holding the last id of the previous page."""
    key = decode(cursor)
    if key is None:
        return None
    try:
        return uuid.UUID(key)
    except ValueError:
        raise ValidationFailed.one("cursor", _BAD_CURSOR) from None
