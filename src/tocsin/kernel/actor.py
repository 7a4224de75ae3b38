"""Who is acting: a person through a session or token, the CLI, or the engine."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal

Via = Literal["session", "token", "cli", "engine"]
Scope = Literal["read", "write"]


@dataclass(frozen=True)
class Actor:
    """The identity behind an action, recorded on every audit and timeline event."""

    user_id: uuid.UUID | None
    name: str
    role: str
    via: Via
    scope: Scope = "write"

    @classmethod
    def system(cls, name: str = "tocsin", via: Via = "engine") -> Actor:
        """Tocsin itself (engine) or an operator at the server's shell (CLI): full rights."""
        return cls(user_id=None, name=name, role="admin", via=via)

    @property
    def label(self) -> str:
        return self.name
