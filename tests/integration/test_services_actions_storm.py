"""Storm protection can be switched off when a service is created (stored as NULL, not 20)."""

from __future__ import annotations

from tests.integration.intake_support import make_service
from tocsin.bootstrap import Container
from tocsin.services import repo


def test_storm_protection_off_at_creation_is_stored_off(container: Container) -> None:
    off, _ = make_service(container, name="Quiet", storm_threshold=None)
    default, _ = make_service(container, name="Default")
    with container.db.read() as tx:
        assert repo.get_service(tx, off.id).storm_threshold is None
        assert repo.get_service(tx, default.id).storm_threshold == 20
