"""A real SMTP server for tests (aiosmtpd on 127.0.0.1, free port) that records what it receives.

Modes:
- ``accept`` (default): every message is accepted with 250 and recorded;
- ``hang``: the first DATA blocks (no reply) until ``release()``; later ones are accepted;
- ``tempfail``: every DATA is answered ``451`` (a temporary failure) and nothing is recorded.

Recipients listed in ``refuse`` are answered ``550`` at RCPT time.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Received:
    """One message the server accepted (envelope recipients and parsed headers)."""

    mail_from: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def dedup_key(self) -> str | None:
        value = self.message["X-Tocsin-Dedup-Key"]
        return None if value is None else str(value)

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])


def free_port() -> int:
    """A TCP port nobody listens on right now (closed before returning)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: Any
    ) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        srv = self.server
        if srv.mode == "tempfail":
            with srv.lock:
                srv.tempfailed += 1
            return "451 4.3.0 try again later"
        if srv.mode == "hang" and srv.take_hang():
            srv.blocked.set()
            # Poll rather than await a cross-thread primitive: release() may come from any thread.
            while not srv.released.is_set():
                await asyncio.sleep(0.01)
        raw = envelope.original_content or envelope.content
        parsed = message_from_bytes(raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        with srv.lock:
            srv.messages.append(
                Received(
                    mail_from=str(envelope.mail_from),
                    recipients=tuple(envelope.rcpt_tos),
                    message=parsed,
                )
            )
        return "250 2.0.0 accepted"


class SmtpServer:
    """Start with ``start()`` (or as a context manager); ``stop()`` releases any hang first."""

    def __init__(self, mode: str = "accept", *, refuse: frozenset[str] = frozenset()) -> None:
        if mode not in ("accept", "hang", "tempfail"):
            raise ValueError(f"unknown SMTP test server mode {mode!r}")
        self.mode = mode
        self.refuse = refuse
        self.host = HOST
        self.port = 0
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.tempfailed = 0
        self.blocked = threading.Event()  # set when the hanging DATA has arrived
        self.released = threading.Event()
        self._hang_taken = False
        self._controller: Controller | None = None

    def take_hang(self) -> bool:
        """True exactly once: the first DATA in hang mode is the one that blocks."""
        with self.lock:
            if self._hang_taken:
                return False
            self._hang_taken = True
            return True

    def release(self) -> None:
        """Let the hanging DATA (if any) answer, and accept every later message normally."""
        self.released.set()

    def start(self) -> SmtpServer:
        self.port = free_port()
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def dedup_keys(self) -> list[str | None]:
        return [m.dedup_key for m in self.received()]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Poll until at least ``count`` messages arrived; fail after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.received()
            if len(got) >= count:
                return got
            time.sleep(0.02)
        raise AssertionError(f"SMTP server got {len(self.received())} messages, wanted {count}")
