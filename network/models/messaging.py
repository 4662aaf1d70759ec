"""Messaging: channels, their members with read markers, and messages with a per-channel
sequence number.

Message bodies are stored encrypted (``network.crypto``, AES-GCM) with the channel and
sequence number bound as associated data, so a ciphertext cannot be moved to another
message unnoticed.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
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
    from network.models.people import User


class ChannelKind(enum.StrEnum):
    NETWORK = "network"  # every member of a network
    TOPIC = "topic"  # a working group: private, members invited
    CASE = "case"  # tied to a case record
    DIRECT = "direct"  # two or a few people, across networks
    CONSULTATION = "consultation"  # a live consultation room


class Channel(db.Model):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    network_id: Mapped[int | None] = mapped_column(
        ForeignKey("networks.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The last sequence number given out; raised in the sending transaction, so numbers
    # are gap-free and strictly increasing per channel.
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Messages (and their files) older than this many days are deleted by
    # `network purge-expired`; None keeps them for ever.
    retention_days: Mapped[int | None] = mapped_column(Integer)
    # Every message with a seq up to this one has been purged (they form a prefix of the
    # sequence): a client treats them as seen, so a purge never looks like a gap.
    purged_through_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    network: Mapped[Network | None] = relationship()
    members: Mapped[list[ChannelMember]] = relationship(
        back_populates="channel", cascade="all, delete-orphan"
    )

    @property
    def room(self) -> str:
        """The Socket.IO room of the channel."""
        return f"channel:{self.id}"

    def member_for(self, user_id: int | None) -> ChannelMember | None:
        """The membership row of ``user_id``, or None.

        Taken from ``members`` when that is loaded; otherwise one indexed query (the
        unique ``(channel_id, user_id)``), so that asking whether one person belongs to a
        channel of 500 does not load 500 rows. The query runs every time it is asked (the
        session flushes first): a member removed, even in the current transaction, is
        found gone at once.
        """
        if user_id is None:
            return None
        session = object_session(self)
        if "members" in self.__dict__ or session is None or self.id is None:
            return next((m for m in self.members if m.user_id == user_id), None)
        return session.scalar(_MEMBER_FOR, {"channel_id": self.id, "user_id": user_id})

    def __repr__(self) -> str:
        return f"<Channel {self.id} {self.kind} {self.name!r}>"


class ChannelMember(db.Model):
    """An explicit member of a channel (network channels take their members from the
    network's memberships instead)."""

    __tablename__ = "channel_members"
    __table_args__ = (UniqueConstraint("channel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    is_owner: Mapped[bool] = mapped_column(default=False, server_default="0")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    channel: Mapped[Channel] = relationship(back_populates="members")
    user: Mapped[User] = relationship(foreign_keys=[user_id])

    def __repr__(self) -> str:
        return f"<ChannelMember channel={self.channel_id} user={self.user_id}>"


# ``Channel.member_for``'s query, built once (it runs on every socket event).
_MEMBER_FOR = select(ChannelMember).where(
    ChannelMember.channel_id == bindparam("channel_id"),
    ChannelMember.user_id == bindparam("user_id"),
)


class ReadMarker(db.Model):
    """How far a person has read a channel (any kind of channel)."""

    __tablename__ = "read_markers"
    __table_args__ = (UniqueConstraint("channel_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    def __repr__(self) -> str:
        return f"<ReadMarker channel={self.channel_id} user={self.user_id} {self.last_read_seq}>"


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("channel_id", "seq"),
        # A retried send (same author, same client-made id) is stored once.
        UniqueConstraint("author_id", "client_id"),
        Index("ix_messages_channel_created", "channel_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    client_id: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    body_encrypted: Mapped[str | None] = mapped_column(Text)  # None once deleted
    html_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    channel: Mapped[Channel] = relationship()
    author: Mapped[User | None] = relationship()
    attachments: Mapped[list[Attachment]] = relationship(
        order_by="Attachment.id", lazy="selectin", viewonly=True
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    def __repr__(self) -> str:
        return f"<Message {self.id} channel={self.channel_id} seq={self.seq}>"


class MessageRevision(db.Model):
    """An earlier version of an edited message (the edit history stays visible)."""

    __tablename__ = "message_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    body_encrypted: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<MessageRevision {self.id} of message {self.message_id}>"


class Attachment(db.Model):
    """A file sent with a message. The content is stored AES-GCM-encrypted outside the web
    root under ``storage_key`` (a random name); ``sha256`` is of the plaintext and is
    checked again on every download. An upload not yet attached to a message
    (``message_id`` None) is removed by `network purge-expired` after a day."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    uploader_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    channel: Mapped[Channel] = relationship()
    uploader: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<Attachment {self.id} {self.filename!r} message={self.message_id}>"


class MessageTerm(db.Model):
    """The blind search index: one row per distinct folded word of a message, stored as a
    keyed hash (HMAC-SHA-256 under a key derived from the data key, truncated). The words
    themselves are never stored, so a copy of the database reveals no message text."""

    __tablename__ = "message_terms"
    __table_args__ = (
        UniqueConstraint("message_id", "term"),
        Index("ix_message_terms_term_channel", "term", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Found by message through the unique (message_id, term): no index of its own (one
    # B-tree fewer to write for every word of every message).
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    term: Mapped[str] = mapped_column(String(32))

    def __repr__(self) -> str:
        return f"<MessageTerm message={self.message_id}>"


class NotificationKind(enum.StrEnum):
    MENTION = "mention"
    REPLY = "reply"
    CHANNEL_INVITATION = "channel_invitation"


class Notification(db.Model):
    """Something a person should notice: a mention, a reply to their message, being added
    to a channel. Unread ones make the mention badges."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("channels.id", ondelete="CASCADE"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    channel: Mapped[Channel | None] = relationship()
    message: Mapped[Message | None] = relationship()

    def __repr__(self) -> str:
        return f"<Notification {self.kind} user={self.user_id} message={self.message_id}>"


class MessageReceipt(db.Model):
    """Certified receipt (case channels): when a member's client received a message and
    when the member read it."""

    __tablename__ = "message_receipts"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<MessageReceipt message={self.message_id} user={self.user_id}>"
