"""SmtpEmail against a real SMTP server (aiosmtpd), alone and through an engine cycle."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import wipe
from tests.smtp import SmtpServer, free_port
from tocsin import bootstrap
from tocsin.channels.base import Delivered, DeliveryError, Envelope
from tocsin.channels.email import SmtpConfig, SmtpEmail
from tocsin.kernel.clock import FrozenClock
from tocsin.notifications import actions, repo
from tocsin.settings import Settings

ENVELOPE = Envelope(
    message_id="0190c0de-0000-7000-8000-000000000001",
    dedup_key="page:incident-7:level-1:ada",
    channel="email",
    recipient="ada@example.com",
    subject="[Tocsin] #7 Database down",
    body="Acknowledge at http://tocsin.test/i/7",
)


def _email(server: SmtpServer) -> SmtpEmail:
    return SmtpEmail(SmtpConfig(host=server.host, port=server.port, sender="Tocsin <t@x.test>"))


def test_delivers_with_headers(smtp_server: SmtpServer) -> None:
    result = _email(smtp_server).send(ENVELOPE, timeout=5)
    (got,) = smtp_server.received()
    assert isinstance(result, Delivered)
    assert got.recipients == ("ada@example.com",)
    assert got.mail_from == "t@x.test"
    assert got.dedup_key == ENVELOPE.dedup_key
    assert got.subject == ENVELOPE.subject
    assert got.message["To"] == "ada@example.com"
    assert got.message["Message-ID"] == result.provider_ref
    assert ENVELOPE.message_id in str(result.provider_ref)
    assert got.message.get_content().strip() == ENVELOPE.body


def test_451_is_a_temporary_failure() -> None:
    with SmtpServer("tempfail") as server:
        with pytest.raises(DeliveryError, match="451") as info:
            _email(server).send(ENVELOPE, timeout=5)
        assert info.value.temporary
        assert server.tempfailed == 1
        assert server.received() == []


def test_refused_recipient_is_a_permanent_failure() -> None:
    with SmtpServer(refuse=frozenset({"ada@example.com"})) as server:
        with pytest.raises(DeliveryError, match="recipient refused: 550") as info:
            _email(server).send(ENVELOPE, timeout=5)
        assert not info.value.temporary
        assert server.received() == []


def test_connection_refused_is_a_temporary_failure() -> None:
    channel = SmtpEmail(SmtpConfig(host="127.0.0.1", port=free_port()))
    with pytest.raises(DeliveryError) as info:
        channel.send(ENVELOPE, timeout=5)
    assert info.value.temporary
    assert "ConnectionRefused" in str(info.value)


def test_a_hung_server_times_out_as_a_temporary_failure() -> None:
    with SmtpServer("hang") as server:
        with pytest.raises(DeliveryError) as info:
            _email(server).send(ENVELOPE, timeout=0.5)
        assert info.value.temporary
        assert server.blocked.is_set()


@pytest.fixture
def smtp_container(
    settings: Settings, clock: FrozenClock, smtp_server: SmtpServer
) -> Iterator[bootstrap.Container]:
    """A container whose email channel is built from settings, pointing at the test server."""
    configured = settings.model_copy(
        update={"smtp_host": smtp_server.host, "smtp_port": smtp_server.port}
    )
    c = bootstrap.build(configured, clock=clock, configure_logging=False)
    try:
        yield c
    finally:
        c.runner.stop()
        wipe(c.db)
        c.db.dispose()


def test_enqueued_message_is_delivered_by_an_engine_cycle(
    smtp_container: bootstrap.Container, smtp_server: SmtpServer
) -> None:
    assert isinstance(smtp_container.channels["email"], SmtpEmail)
    with smtp_container.db.transaction() as tx:
        message_id = actions.enqueue(
            tx,
            dedup_key="page:1",
            channel="email",
            recipient="grace@example.com",
            subject="Disk full",
            body="b",
            now=smtp_container.clock.now(),
        ).id
    report = smtp_container.runner.run_cycle()
    assert report.work["dispatcher"] == 1
    (got,) = smtp_server.received()
    assert (got.dedup_key, got.recipients, got.subject) == (
        "page:1",
        ("grace@example.com",),
        "Disk full",
    )
    with smtp_container.db.read() as tx:
        message = repo.get_message(tx, message_id)
        assert (message.status, message.attempts) == ("sent", 1)
        assert message.provider_ref == got.message["Message-ID"]
    smtp_container.runner.run_cycle()
    assert len(smtp_server.received()) == 1  # sent once, not again
