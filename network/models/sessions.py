"""Server-side sessions and two-factor recovery codes (issue 8, "Sessions and accounts").

The signed cookie only carries a random session key; the server keeps one row per
sign-in, so signing out, changing the password or two-factor setting, or an
administrator's deactivation ends a session for good: a copy of the cookie replayed
afterwards finds its row revoked (ASVS 3.3.1).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from network.extensions import db
from network.models.base import UTCDateTime, utcnow


class UserSession(db.Model):
    """One sign-in of one person on one browser. Only the SHA-256 of the key is stored,
    so a copy of the database does not yield a usable cookie."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person last proved who they are (password, and code with 2FA): sensitive
    # actions ask again after a few minutes (ASVS 4.3.3 / 3.7.1).
    reauthenticated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # The browser's User-Agent at sign-in (cut to 300 characters): the person's own list of
    # sessions names each by its browser and system.
    user_agent: Mapped[str | None] = mapped_column(String(300))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it ended: logout, idle, expired, password, 2fa, deactivated, admin, user (the
    # person signed it out from another browser).
    revoked_reason: Mapped[str | None] = mapped_column(String(20))

    def __repr__(self) -> str:
        return f"<UserSession {self.id} user={self.user_id} revoked={self.revoked_at}>"


class RecoveryCode(db.Model):
    """A single-use code that stands in for a TOTP code (a lost phone); stored as a
    SHA-256 digest (the codes are random, 50 bits each, so a slow hash buys nothing)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} user={self.user_id} used={self.used_at}>"
