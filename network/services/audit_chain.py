"""The audit log is append-only and hash-chained (issue 8; OWASP ASVS 7.3.3, 7.3.4).

Every audit event gets, when it is flushed, its place in the chain (``chain_seq``, 1, 2,
3…), the hash of the event before it (``prev_hash``; 64 zeros for the first) and its own
hash (``row_hash``): SHA-256 over ``canonical(event)``, a JSON serialisation with sorted
keys of every recorded field and ``prev_hash``. Editing a field breaks that event's hash;
deleting or reordering events breaks the link of the next one; deleting the last events
leaves the chain short of its head (``audit_chain_head``), which holds the last place and
hash.

Concurrent writers: appending locks the head row first (an ``UPDATE`` of it: a row lock
on PostgreSQL held to the commit, the database's write lock on SQLite, which has a
single writer), then reads it; so two transactions never take the same place. The lock
is taken at the flush that writes the events, normally just before the commit.

Append-only: the ORM refuses to update or delete an audit event (``AuditTampering``); a
change made in the database directly is what ``verify`` finds.

``canonical`` must never change for existing rows: the migration that added the chain
(``b7d41c9e2f60``) has its own copy of it, checked equal by the tests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from network.extensions import db
from network.models.audit_chain import GENESIS_HASH, AuditChainHead
from network.models.base import utcnow
from network.models.people import AuditEvent

HEAD_ID = 1
_HEAD = AuditChainHead.__table__


class AuditTampering(RuntimeError):
    """Code tried to change or delete an audit event: the log is append-only."""


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="microseconds")


def canonical(fields: dict[str, Any]) -> bytes:
    """The bytes an event's hash is taken over (``fields`` from ``event_fields``)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def event_fields(row: Any) -> dict[str, Any]:
    """What the hash covers: every recorded field of an event (ORM object or row), its
    place in the chain and the previous event's hash. The surrogate ``id`` is not covered
    (the chain order is ``chain_seq``); ``verify`` checks ids grow with it."""
    return {
        "v": 1,
        "seq": row.chain_seq,
        "prev": row.prev_hash,
        "created_at": _timestamp(row.created_at),
        "actor_id": row.actor_id,
        "action": row.action,
        "entity_type": row.entity_type,
        "entity_id": row.entity_id,
        "network_id": row.network_id,
        "channel_id": row.channel_id,
        "ip_address": row.ip_address,
        "before": row.before,
        "after": row.after,
    }


def row_hash(row: Any) -> str:
    return hashlib.sha256(canonical(event_fields(row))).hexdigest()


@event.listens_for(Session, "before_flush")
def _chain_new_events(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditTampering("audit events are append-only")
    new = [obj for obj in session.new if isinstance(obj, AuditEvent)]
    if not new:
        return
    new.sort(key=lambda obj: obj._sa_instance_state.insert_order or 0)
    connection = session.connection()
    # Lock the head first (row lock on PostgreSQL, write lock on SQLite), then read it.
    locked = connection.execute(
        update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=_HEAD.c.seq)
    ).rowcount
    if not locked:
        connection.execute(insert(_HEAD).values(id=HEAD_ID, seq=0, last_hash=GENESIS_HASH))
    seq, last = connection.execute(
        select(_HEAD.c.seq, _HEAD.c.last_hash).where(_HEAD.c.id == HEAD_ID)
    ).one()
    for audit_event in new:
        if audit_event.created_at is None:
            audit_event.created_at = utcnow()
        seq += 1
        audit_event.chain_seq = seq
        audit_event.prev_hash = last
        audit_event.row_hash = last = row_hash(audit_event)
    connection.execute(update(_HEAD).where(_HEAD.c.id == HEAD_ID).values(seq=seq, last_hash=last))


# --- Verification ------------------------------------------------------------------------------


@dataclass
class Verification:
    """The result of ``verify``: ``ok``, how many events were checked, the chain head, and
    the first problem found (with the event's id and place)."""

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    problem: str | None = None
    event_id: int | None = None
    chain_seq: int | None = None


def _rows() -> Iterator[Any]:
    yield from db.session.execute(
        select(AuditEvent.__table__)
        .order_by(AuditEvent.chain_seq.is_(None), AuditEvent.chain_seq, AuditEvent.id)
        .execution_options(yield_per=1000)
    )


def verify() -> Verification:
    """Walk the chain in order and report the first edited, missing, reordered or
    unchained event, or a chain shorter than its head."""
    head = db.session.get(AuditChainHead, HEAD_ID)
    head_seq = head.seq if head else 0
    head_hash = head.last_hash if head else GENESIS_HASH
    expected_seq, expected_prev, last_id, checked = 1, GENESIS_HASH, 0, 0

    def failed(problem: str, row: Any = None) -> Verification:
        return Verification(
            False,
            checked,
            head_seq,
            head_hash,
            problem,
            getattr(row, "id", None),
            getattr(row, "chain_seq", None),
        )

    for row in _rows():
        if row.chain_seq is None:
            return failed(f"event id {row.id} is outside the chain (added behind its back)", row)
        if row.chain_seq != expected_seq:
            return failed(
                f"chain position {expected_seq} is missing (deleted?): the next event is "
                f"id {row.id} at position {row.chain_seq}",
                row,
            )
        if row.prev_hash != expected_prev:
            return failed(
                f"event id {row.id} (position {row.chain_seq}) does not follow the event "
                "before it: an event was deleted, replaced or reordered",
                row,
            )
        if row.row_hash != row_hash(row):
            return failed(
                f"event id {row.id} (position {row.chain_seq}) was changed after it was "
                "recorded: its content does not match its hash",
                row,
            )
        if row.id <= last_id:
            return failed(
                f"event id {row.id} (position {row.chain_seq}) is out of order: ids must grow "
                "along the chain",
                row,
            )
        last_id, expected_prev, expected_seq = row.id, row.row_hash, expected_seq + 1
        checked += 1
    if checked != head_seq or expected_prev != head_hash:
        return failed(
            f"the chain ends at position {checked} but its head says {head_seq}: the last "
            f"{max(head_seq - checked, 0) or 'few'} event(s) were deleted or the head altered"
        )
    return Verification(True, checked, head_seq, head_hash)
