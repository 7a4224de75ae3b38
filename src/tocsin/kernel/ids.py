"""Identifiers: UUIDv7 primary keys and short random secrets."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import uuid6


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7, so primary keys index in insertion order."""
    return uuid.UUID(bytes=uuid6.uuid7().bytes)


def new_secret(nbytes: int = 32) -> str:
    """An unguessable URL-safe secret (tokens, session ids, CSRF tokens)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret; what we store instead of the secret itself.

    Only for secrets we generate (tokens, session ids): they are too long to
    brute force, so a fast hash is right. Passwords use argon2.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
