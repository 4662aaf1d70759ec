"""Fixtures for the keyring and the key rotation: an instance folder (key files) and an
upload folder of the test's own, so a rotation never touches the session's key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.messaging.conftest import room  # noqa: F401  (the fixture, shared)


@pytest.fixture
def instance(app: Any, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh instance folder (no key yet: the first use makes one) in file mode."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(folder))
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "DATA_KEY", None)
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", "")
    return folder
