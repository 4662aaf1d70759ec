"""The consultation tables built by the migration (the tests' schema comes from the
migrations) match the models: autogenerate finds nothing to add for them."""

from __future__ import annotations

from tests.migration_check import differences

TABLES = {"consultations", "consultation_participants"}


def test_the_migration_matches_the_models(db):
    out_of_step, diff = differences(TABLES)
    assert not out_of_step, diff
