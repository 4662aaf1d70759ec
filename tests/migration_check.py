"""Whether the tables a migration built match the models: what autogenerate would still
change in them (shared by the per-feature migration tests)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from network.extensions import db


def _tables_of(diff: object, tables: set[str]) -> set[str]:
    found: set[str] = set()
    for item in diff if isinstance(diff, list) else [diff]:
        if isinstance(item, list):
            found |= _tables_of(item, tables)
            continue
        for part in item[1:] if isinstance(item, tuple) else ():
            table = getattr(part, "table", None)
            names = {part} if isinstance(part, str) else set()
            names |= {getattr(part, "name", None), getattr(table, "name", None)}
            found |= names & tables
    return found


def differences(tables: set[str]) -> tuple[set[str], Any]:
    """(the given tables autogenerate would change, the whole diff)."""
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    return _tables_of(diff, tables), diff
