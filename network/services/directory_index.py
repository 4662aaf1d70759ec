"""An in-memory facet index of the directory, so that faceted search stays fast.

Counting every facet value with SQL means one pass over every entry per facet on each
request (at 20,000 entries that is hundreds of milliseconds on SQLite). Instead each
process keeps, per database, the facet values of every entry as bitsets (Python
integers: bit *p* is the entry at position *p*): a facet count is then one AND and one
popcount. The index is rebuilt when the directory's revision token changes.

Keeping it true: every ORM flush that adds, changes or deletes a contact point or one of
its coded attributes writes a new random token into ``directory_revision`` in the same
transaction (``_bump_revision``, a session event, so no write path can forget it). A
search reads the token first and rebuilds when it differs from the index's. Tokens are
random rather than counted, so a rolled-back transaction can never make an old index look
current. Writes that bypass the ORM (bulk loads) call ``touch()``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from flask import current_app
from sqlalchemy import Connection, Select, event, select
from sqlalchemy.orm import Session

from network.extensions import db
from network.models.base import utcnow
from network.models.directory import (
    AttributeKind,
    ContactPoint,
    ContactPointAttribute,
    DirectoryRevision,
    contact_point_networks,
)

log = logging.getLogger(__name__)

_TEXT_CACHE_SIZE = 512
_build_lock = threading.Lock()


def _bits(positions: Iterable[int], size: int) -> int:
    """A bitset with the given positions set."""
    buffer = bytearray((size >> 3) + 1)
    for position in positions:
        buffer[position >> 3] |= 1 << (position & 7)
    return int.from_bytes(buffer, "little")


@dataclass
class DirectoryIndex:
    """The facet values of every entry (current and former) at one revision."""

    token: str
    ids: list[int]
    all_bits: int
    former: int
    by_network: dict[int, int]
    by_country: dict[str, int]
    by_authority_type: dict[str, int]
    by_expertise: dict[str, int]
    by_language: dict[str, int]  # spoken or accepted for requests
    available: int  # 24/7
    search_texts: list[str]
    confirmed: list[date | None]
    orders: dict[str, list[int]]  # positions in each sort order
    _text_cache: dict[str, int] = field(default_factory=dict)
    _stale_cache: dict[date, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.ids)

    def matching_text(self, term: str) -> int:
        """Entries whose folded search text contains ``term`` (like SQL ``LIKE %term%``)."""
        cached = self._text_cache.get(term)
        if cached is None:
            cached = _bits(
                (p for p, text in enumerate(self.search_texts) if term in text), self.size
            )
            if len(self._text_cache) >= _TEXT_CACHE_SIZE:
                self._text_cache.clear()
            self._text_cache[term] = cached
        return cached

    def stale(self, before: date) -> int:
        """Entries never confirmed or last confirmed before ``before``."""
        cached = self._stale_cache.get(before)
        if cached is None:
            positions = []
            for position in self.orders["confirmed_asc"]:  # never confirmed come first
                confirmed = self.confirmed[position]
                if confirmed is not None and confirmed >= before:
                    break
                positions.append(position)
            cached = _bits(positions, self.size)
            self._stale_cache = {before: cached}
        return cached

    def page(self, mask: int, sort: str, offset: int, limit: int | None) -> list[int]:
        """Ids of the entries in ``mask``, in ``sort`` order, from ``offset``."""
        flags = mask.to_bytes((self.size >> 3) + 1, "little")
        wanted = None if limit is None else offset + limit
        found: list[int] = []
        for position in self.orders[sort]:
            if flags[position >> 3] >> (position & 7) & 1:
                found.append(position)
                if wanted is not None and len(found) >= wanted:
                    break
        return [self.ids[p] for p in found[offset:]]


def _plain_rows(connection: Connection, statement: Select[Any]) -> list[tuple[Any, ...]]:
    """Rows of integers and strings straight from the driver's cursor.

    The two link tables hold most of the index's rows; SQLAlchemy's result rows cost
    twice the driver's own tuples here. The statement's only parameters are our own
    constants (attribute kinds), so they are rendered inline.
    """
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


@lru_cache(maxsize=100_000)
def _sort_key(name: str) -> str:
    """Names sort without regard to case or accents ("Élodie" next to "Elodie"); cached,
    as names rarely change between two builds."""
    from network.services.directory import fold  # imported here: directory imports us

    return fold(name)


def build(token: str) -> DirectoryIndex:
    """Read every entry's facet values from the database into a new index."""
    cp = ContactPoint
    connection = db.session.connection()  # plain rows: no ORM work per row
    rows = connection.execute(
        select(
            cp.id,
            cp.name,
            cp.country,
            cp.authority_type,
            cp.available_24_7,
            cp.succeeded_by_id,
            cp.last_confirmed_at,
            cp.search_text,
        ).order_by(cp.id)
    ).all()
    size = len(rows)
    position_of = {row[0]: p for p, row in enumerate(rows)}
    buckets: dict[str, dict[Any, list[int]]] = {
        "network": {},
        "country": {},
        "authority_type": {},
        "expertise": {},
        "language": {},
    }
    former, available = [], []
    for p, (_id, _name, country, authority, is_24_7, successor, _conf, _text) in enumerate(rows):
        buckets["country"].setdefault(country, []).append(p)
        buckets["authority_type"].setdefault(authority, []).append(p)
        if successor is not None:
            former.append(p)
        if is_24_7:
            available.append(p)
    link = contact_point_networks.c
    links = _plain_rows(connection, select(link.contact_point_id, link.network_id))
    for cp_id, network_id in links:
        position = position_of.get(cp_id)
        if position is not None:
            buckets["network"].setdefault(network_id, []).append(position)
    attr = ContactPointAttribute
    facet_of_kind = {
        AttributeKind.EXPERTISE.value: "expertise",
        AttributeKind.LANGUAGE.value: "language",
        AttributeKind.REQUEST_LANGUAGE.value: "language",
    }
    attributes = _plain_rows(
        connection,
        select(attr.contact_point_id, attr.kind, attr.code).where(attr.kind.in_(facet_of_kind)),
    )
    for cp_id, kind, code in attributes:
        position = position_of.get(cp_id)
        if position is not None:
            buckets[facet_of_kind[kind]].setdefault(code, []).append(position)

    def bitsets(facet: str) -> dict[Any, int]:
        return {value: _bits(positions, size) for value, positions in buckets[facet].items()}

    # Rows come in id order, so a stable sort leaves ties in id order.
    names = [_sort_key(row[1]) for row in rows]
    by_name = sorted(range(size), key=names.__getitem__)
    by_country = sorted(by_name, key=lambda p: rows[p][2])
    confirmed = [row[6] for row in rows]
    # Never confirmed counts as the oldest: last when newest first, first when oldest first.
    oldest_first = sorted(range(size), key=lambda p: confirmed[p] or date.min)
    newest_first = sorted(range(size), key=lambda p: confirmed[p] or date.min, reverse=True)
    return DirectoryIndex(
        token=token,
        ids=[row[0] for row in rows],
        all_bits=(1 << size) - 1,
        former=_bits(former, size),
        by_network=bitsets("network"),
        by_country=bitsets("country"),
        by_authority_type=bitsets("authority_type"),
        by_expertise=bitsets("expertise"),
        by_language=bitsets("language"),
        available=_bits(available, size),
        search_texts=[row[7] or "" for row in rows],
        confirmed=confirmed,
        orders={
            "name": by_name,
            "country": by_country,
            "confirmed_desc": newest_first,
            "confirmed_asc": oldest_first,
        },
    )


def current_token() -> str:
    token = db.session.scalar(select(DirectoryRevision.token).where(DirectoryRevision.id == 1))
    return token or ""


def get() -> DirectoryIndex:
    """The index of the current revision, rebuilt first if the directory has changed."""
    token = current_token()
    holder = current_app.extensions.setdefault("directory_index", {})
    index: DirectoryIndex | None = holder.get("index")
    if index is not None and index.token == token:
        return index
    with _build_lock:
        index = holder.get("index")
        if index is None or index.token != token:
            index = build(token)
            holder["index"] = index
            log.info("directory index rebuilt: %d entries", index.size)
    return index


def touch(session: Any = None) -> None:
    """Give the directory a new revision token (in the caller's transaction)."""
    target = session if session is not None else db.session
    table = DirectoryRevision.__table__
    values = {"token": uuid.uuid4().hex, "changed_at": utcnow()}
    result = target.connection().execute(table.update().where(table.c.id == 1).values(values))
    if result.rowcount == 0:
        target.connection().execute(table.insert().values(id=1, **values))


_WATCHED = (ContactPoint, ContactPointAttribute)


@event.listens_for(Session, "before_flush")
def _bump_revision(session: Session, _context: Any, _instances: Any) -> None:
    """Any ORM change to an entry or its attributes gives the directory a new token."""
    changed = any(isinstance(obj, _WATCHED) for obj in session.new) or any(
        isinstance(obj, _WATCHED) for obj in session.deleted
    )
    if not changed:
        changed = any(
            isinstance(obj, _WATCHED) and session.is_modified(obj) for obj in session.dirty
        )
    if changed:
        touch(session)
