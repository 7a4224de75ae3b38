"""Identifiers: UUIDv7 primary keys and short random secrets."""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    """A time-ordered UUIDv7 (RFC 9562), so primary keys index in insertion order.

    Monotonic within a process: ids made in the same millisecond carry an increasing
    12-bit counter in ``rand_a`` (method 1 of RFC 9562 §6.2), so events accepted in
    one batch are processed in the order they arrived. ``rand_b`` is 62 random bits.
    """
    global _last_ms, _counter
    with _lock:
        # Real time, not the injectable clock: an id's timestamp only orders rows, and a
        # frozen test clock must not make ids stop growing.
        ms = time.time_ns() // 1_000_000
        if ms > _last_ms:
            _last_ms = ms
            _counter = int.from_bytes(os.urandom(2)) & 0x1FF  # leave room to count up
        else:
            _counter += 1
            if _counter > 0xFFF:  # more than ~3,500 ids in one millisecond: borrow the next
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        counter = _counter
    rand_b = int.from_bytes(os.urandom(8)) & 0x3FFF_FFFF_FFFF_FFFF
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand_b
    return uuid.UUID(int=value)


def new_secret(nbytes: int = 32) -> str:
    """An unguessable URL-safe secret (tokens, session ids, CSRF tokens)."""
    return secrets.token_urlsafe(nbytes)


def hash_secret(secret: str) -> str:
    """SHA-256 of a high-entropy secret; what we store instead of the secret itself.

    Only for secrets we generate (tokens, session ids): they are too long to
    brute force, so a fast hash is right. Passwords use argon2.
    """
    return hashlib.sha256(secret.encode()).hexdigest()
