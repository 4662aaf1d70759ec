"""The session and recovery-code tables built by the migrations match the models:
autogenerate finds nothing to change in them (the browser of a session: 8b2c4d6e0f13)."""

from __future__ import annotations

from tests.migration_check import differences

TABLES = {"user_sessions", "recovery_codes"}


def test_the_migration_matches_the_models(db):
    out_of_step, diff = differences(TABLES)
    assert not out_of_step, diff
