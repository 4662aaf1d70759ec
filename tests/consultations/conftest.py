"""Fixtures of the consultation tests: the case desk of the case tests (a case of WACAP
between ``owner`` and ``member``, and people around it who must not see it), and a clean
presence registry for each test (it lives in the process, like the sockets)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from network.services import consultations
from tests.cases.conftest import bearer, desk  # noqa: F401


@pytest.fixture(autouse=True)
def _clean_presence() -> Iterator[None]:
    consultations.presence.clear()
    yield
    consultations.presence.clear()
