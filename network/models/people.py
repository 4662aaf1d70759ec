"""People: accounts, network memberships, access tokens, login throttling and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    bindparam,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from network.extensions import db
from network.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from network.models.directory import Network


class Role(enum.StrEnum):
    """A person's role in one network."""

    CONTACT_POINT = "contact_point"
    COORDINATOR = "coordinator"
    SECRETARIAT = "secretariat"
    OBSERVER = "observer"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")
    locale: Mapped[str | None] = mapped_column(String(10))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC", server_default="UTC")
    # Encrypted with the data key (network.crypto); None until enrolment is confirmed.
    totp_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    # Part of the id kept in sessions and remember-me cookies: raising it (on a password
    # change) signs the account out everywhere else.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    tokens: Mapped[list[AccessToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The key of the server-side session this object was loaded for (issue 8): not a
    # column, set by network.services.sessions at sign-in and on every request.
    session_key = None

    def get_id(self) -> str:
        if self.session_key:
            return f"{self.id}:{self.session_version}:{self.session_key}"
        return f"{self.id}:{self.session_version}"

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.is_active_account

    @property
    def totp_enabled(self) -> bool:
        return self.totp_secret_encrypted is not None

    def role_in(self, network_id: int) -> Role | None:
        """The person's role in the network, or None, from ``memberships`` (loaded once
        for every question of a request: pages ask about many networks)."""
        for membership in self.memberships:
            if membership.network_id == network_id:
                return Role(membership.role)
        return None

    def role_in_one(self, network_id: int) -> Role | None:
        """``role_in`` for code that asks about one network per event (socket events).

        Taken from ``memberships`` when that is loaded; otherwise one indexed query (the
        unique ``(user_id, network_id)``) that loads no network: loading the memberships
        loads each network and its names in every language, three queries where a socket
        event in a network's channel needs one answer. Asked again, it queries again (the
        session flushes first): a removal or a new role, even in the current transaction,
        counts.
        """
        session = object_session(self)
        if "memberships" in self.__dict__ or session is None or self.id is None:
            return self.role_in(network_id)
        role = session.scalar(_ROLE_IN, {"user_id": self.id, "network_id": network_id})
        return None if role is None else Role(role)

    def belongs_to(self, network_id: int) -> bool:
        """Whether the person is a member of the network (``role_in_one``)."""
        return self.role_in_one(network_id) is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class Membership(db.Model):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "network_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[int] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    # Joined: whoever reads a membership reads its network (roles, /api/v1/me), and one
    # query per membership was most of an authenticated API request's time (bench/).
    network: Mapped[Network] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Membership user={self.user_id} network={self.network_id} {self.role}>"


# One membership's role, by its unique (user, network) (``User.role_in_one``).
_ROLE_IN = (
    select(Membership.role)
    .where(
        Membership.user_id == bindparam("user_id"),
        Membership.network_id == bindparam("network_id"),
    )
    .limit(1)
)


class AccessToken(db.Model):
    """A personal access token; only its SHA-256 digest is stored."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    def __repr__(self) -> str:
        return f"<AccessToken {self.id} {self.prefix}… user={self.user_id}>"


class LoginThrottle(db.Model):
    """Failed sign-in attempts per e-mail key, kept for known and unknown accounts alike
    so that a lock never reveals whether an account exists."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    email_key: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.email_key[:8]} failures={self.failures}>"


class AuditEvent(db.Model):
    """Who did what, when, with the values before and after."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(50))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # What the event concerns, so a network's secretariat sees its own channels' events.
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="SET NULL"), index=True
    )
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="SET NULL"), index=True
    )
    # Where the request came from (failed access attempts, downloads, exports).
    ip_address: Mapped[str | None] = mapped_column(String(45))
    # The hash chain (network.services.audit_chain): the event's place in the chain, the
    # previous event's hash and its own (SHA-256 over a canonical serialisation).
    chain_seq: Mapped[int | None] = mapped_column(Integer, index=True, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[User | None] = relationship()

    __table_args__ = (db.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.action} {self.entity_type}:{self.entity_id}>"
