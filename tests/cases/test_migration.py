"""The cases table built by the migrations matches the model: autogenerate finds nothing
to change (references indexed, no longer unique per network: 4e7a9c1b3d58)."""

from __future__ import annotations

from tests.migration_check import differences


def test_the_migration_matches_the_models(db):
    out_of_step, diff = differences({"cases"})
    assert not out_of_step, diff
