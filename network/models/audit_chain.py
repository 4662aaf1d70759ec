"""The head of the audit log's hash chain: one row holding the last event's place and
hash. Appending an event locks this row, so concurrent writers never fork the chain, and
``network audit verify`` compares the chain's end with it (a deleted last event shows)."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from network.extensions import db

GENESIS_HASH = "0" * 64


class AuditChainHead(db.Model):
    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)

    def __repr__(self) -> str:
        return f"<AuditChainHead seq={self.seq} {self.last_hash[:12]}…>"
