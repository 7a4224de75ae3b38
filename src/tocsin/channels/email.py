"""Email over SMTP (optionally STARTTLS and login), with a timeout on every network step."""

from __future__ import annotations

import smtplib
import ssl
import threading
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from tocsin.channels.base import Delivered, DeliveryError, Envelope


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    user: str | None = None
    password: str | None = None
    starttls: bool = False
    sender: str = "Tocsin <tocsin@localhost>"


class SmtpEmail:
    """Sends one message per SMTP connection; the dedup key rides along as a header."""

    name = "email"

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, envelope: Envelope) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.config.sender
        msg["To"] = envelope.recipient
        msg["Subject"] = envelope.subject
        msg["Message-ID"] = make_msgid(idstring=envelope.message_id, domain="tocsin")
        msg["X-Tocsin-Dedup-Key"] = envelope.dedup_key
        msg.set_content(envelope.body)
        return msg

    def send(self, envelope: Envelope, *, timeout: float) -> Delivered:
        """Send within ``timeout`` seconds in total, not per network step.

        smtplib's timeout bounds each socket operation; a server answering slowly at
        every step could stretch one send past the dispatcher's claim deadline. A
        timer closes the connection at the overall deadline, failing the send
        (temporarily) instead.
        """
        msg = self.build(envelope)
        try:
            with smtplib.SMTP(timeout=timeout) as smtp:
                deadline = threading.Timer(timeout, smtp.close)
                deadline.daemon = True
                deadline.start()
                try:
                    smtp.connect(self.config.host, self.config.port)
                    if not deadline.is_alive():
                        raise TimeoutError(f"no SMTP session within {timeout:g} s")
                    if self.config.starttls:
                        smtp.starttls(context=ssl.create_default_context())
                    if self.config.user:
                        smtp.login(self.config.user, self.config.password or "")
                    refused = smtp.send_message(msg)
                finally:
                    deadline.cancel()
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(
                f"recipient refused: {_codes(exc.recipients)}", temporary=False
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login failed ({exc.smtp_code})", temporary=False) from exc
        except smtplib.SMTPResponseException as exc:
            # 4xx is a temporary condition by SMTP's own definition; 5xx is final.
            temporary = 400 <= exc.smtp_code < 500
            raise DeliveryError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", temporary=temporary
            ) from exc
        except (TimeoutError, smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}: {exc}", temporary=True) from exc
        if refused:
            raise DeliveryError(f"recipient refused: {_codes(refused)}", temporary=False)
        return Delivered(provider_ref=str(msg["Message-ID"]))


def _codes(recipients: dict[str, tuple[int, bytes]]) -> str:
    return ", ".join(f"{code}" for code, _ in recipients.values())
