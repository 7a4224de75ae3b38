"""The ``scenario`` fixture: the engine harness on the shared container (both databases)."""

from __future__ import annotations

import pytest

from tests.scenarios.harness import Scenario
from tocsin.bootstrap import Container
from tocsin.kernel.clock import FrozenClock


@pytest.fixture
def scenario(container: Container, clock: FrozenClock) -> Scenario:
    return Scenario(container, clock)
