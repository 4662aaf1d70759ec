"""Fixtures for the keyring and the key rotation: an instance folder (key files) and an
upload folder of the test's own, so a rotation never touches the session's key."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.messaging.conftest import room  # noqa: F401  (the fixture, shared)


@pytest.fixture
def instance(own_keys: Path) -> Path:
    """A fresh instance folder (no key yet: the first use makes one) in file mode."""
    return own_keys
