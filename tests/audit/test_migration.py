"""The audit chain columns and head table built by the migration match the models:
autogenerate finds nothing to add for them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from network.extensions import db as database

TABLES = {"audit_events", "audit_chain_head"}


def _tables_of(diff: object) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        if isinstance(item, list):
            found |= _tables_of(item)
            continue
        for part in item[1:] if isinstance(item, tuple) else ():
            table = getattr(part, "table", None)
            names = {part} if isinstance(part, str) else set()
            names |= {getattr(part, "name", None), getattr(table, "name", None)}
            found |= names & TABLES
    return found


def test_the_migration_matches_the_models(db):
    with database.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), database.metadata)
    assert not _tables_of(diff), diff
