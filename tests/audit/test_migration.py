"""The audit chain columns and head table built by the migration match the models:
autogenerate finds nothing to add for them."""

from __future__ import annotations

from tests.migration_check import differences

TABLES = {"audit_events", "audit_chain_head"}


def test_the_migration_matches_the_models(db):
    out_of_step, diff = differences(TABLES)
    assert not out_of_step, diff
