"""Fixtures of the Socket.IO tests: the messaging suite's room (a network channel and people
in every role) is shared."""

from tests.messaging.conftest import room  # noqa: F401
