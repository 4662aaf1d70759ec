"""Messaging: channels, the one message pipeline, history, edits, deletion, read markers.

Every message, whether posted from a page, the API or a socket, goes through
``post_message``: validate → render and sanitise → persist with the next sequence number
→ commit → publish to the channel's room. A send carries a client-made id; a retried send
with the same id is stored once and answered with the same id and sequence number.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from network import crypto, events, policy, sanitize
from network.errors import Conflict, Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.directory import Network
from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    Message,
    MessageRevision,
    ReadMarker,
)
from network.models.people import Membership, User
from network.services import attachments, audit, notifications, search

log = logging.getLogger(__name__)

MAX_BODY_CHARS = 10_000
MAX_PAGE = 200
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# --- Channels ---------------------------------------------------------------------------


def channel_kind_label(kind: str) -> str:
    return {
        ChannelKind.NETWORK: _("Network channel"),
        ChannelKind.TOPIC: _("Topic channel"),
        ChannelKind.CASE: _("Case channel"),
        ChannelKind.DIRECT: _("Direct conversation"),
        ChannelKind.CONSULTATION: _("Consultation"),
    }.get(kind, kind)


def ensure_network_channel(network: Network) -> Channel:
    """The network's channel, created with the network (idempotent; the caller commits)."""
    channel = db.session.scalar(
        select(Channel).where(
            Channel.network_id == network.id, Channel.kind == ChannelKind.NETWORK.value
        )
    )
    if channel is None:
        channel = Channel(kind=ChannelKind.NETWORK.value, network=network, name=network.acronym)
        db.session.add(channel)
        db.session.flush()
    return channel


def _load(channel_id: int) -> Channel | None:
    return db.session.get(
        Channel,
        channel_id,
        options=(selectinload(Channel.members), selectinload(Channel.network)),
    )


def get_channel(channel_id: Any, user: Any) -> Channel:
    """A channel the user may read; raises ``NotFound`` or ``Forbidden``.

    A channel the user may not read answers as if it did not exist (404) when they are
    no member of it at all, so channel ids cannot be probed.
    """
    if not isinstance(channel_id, int) or isinstance(channel_id, bool):
        raise ValidationError(fields={"channel_id": _("A channel id is a whole number.")})
    channel = _load(channel_id)
    if channel is None or not policy.can_read_channel(user, channel):
        if channel is not None and policy.is_signed_in(user):
            # A failed access attempt on an existing channel is audited (in its own commit:
            # the caller stops here, so nothing of theirs is pending).
            audit.record_channel_event(user, "channel.access_denied", channel)
            db.session.commit()
        raise NotFound(_("No such channel."))
    return channel


def create_channel(
    kind: str,
    actor: Any,
    *,
    name: str,
    network: Network | None = None,
    member_ids: list[int] | None = None,
) -> Channel:
    """Create a topic or direct channel with the actor as owner and the given members.

    Topic channels belong to a network the actor belongs to; direct conversations may
    cross networks. Raises ``ValidationError`` or ``Forbidden``.
    """
    if kind not in {ChannelKind.TOPIC.value, ChannelKind.DIRECT.value}:
        raise ValidationError(fields={"kind": _("Choose a topic or a direct conversation.")})
    name = (name or "").strip()
    if kind == ChannelKind.TOPIC.value:
        if network is None or policy.role_in(actor, network) is None:
            raise Forbidden(_("Topic channels belong to one of your networks."))
        if not name or len(name) > 200:
            raise ValidationError(
                fields={"name": _("A name of at most 200 characters is required.")}
            )
    ids = sorted({*(member_ids or []), actor.id})
    if kind == ChannelKind.DIRECT.value and len(ids) < 2:
        raise ValidationError(fields={"members": _("Choose at least one other person.")})
    users = list(db.session.scalars(select(User).where(User.id.in_(ids), User.is_active_account)))
    if len(users) != len(ids):
        raise ValidationError(fields={"members": _("Some of the people chosen do not exist.")})
    if kind == ChannelKind.DIRECT.value and not name:
        name = ", ".join(sorted(u.name for u in users))[:200]
    channel = Channel(kind=kind, network=network, name=name, created_by_id=actor.id)
    channel.members = [ChannelMember(user_id=u.id, is_owner=u.id == actor.id) for u in users]
    db.session.add(channel)
    db.session.commit()
    return channel


@dataclass
class ChannelSummary:
    channel: Channel
    unread: int
    last_read_seq: int


def channels_for(user: Any) -> list[ChannelSummary]:
    """The channels the user may read, with the number of unread messages by others."""
    if not policy.is_signed_in(user):
        return []
    network_ids = select(Membership.network_id).where(Membership.user_id == user.id)
    explicit = select(ChannelMember.channel_id).where(ChannelMember.user_id == user.id)
    visible = or_(
        and_(Channel.kind == ChannelKind.NETWORK.value, Channel.network_id.in_(network_ids)),
        Channel.id.in_(explicit),
    )
    if policy.is_admin(user):
        visible = or_(visible, Channel.kind == ChannelKind.NETWORK.value)
    channels = list(
        db.session.scalars(
            select(Channel)
            .where(visible)
            .options(selectinload(Channel.members), selectinload(Channel.network))
            .order_by(Channel.kind, func.lower(Channel.name))
        )
    )
    markers: dict[int, int] = dict(
        db.session.execute(
            select(ReadMarker.channel_id, ReadMarker.last_read_seq).where(
                ReadMarker.user_id == user.id
            )
        ).all()
    )
    unread_rows = db.session.execute(
        select(Message.channel_id, func.count())
        .outerjoin(
            ReadMarker,
            and_(ReadMarker.channel_id == Message.channel_id, ReadMarker.user_id == user.id),
        )
        .where(
            Message.channel_id.in_([c.id for c in channels] or [-1]),
            Message.seq > func.coalesce(ReadMarker.last_read_seq, 0),
            or_(Message.author_id.is_(None), Message.author_id != user.id),
            Message.deleted_at.is_(None),
        )
        .group_by(Message.channel_id)
    )
    unread: dict[int, int] = dict(unread_rows.all())
    return [
        ChannelSummary(c, unread.get(c.id, 0), markers.get(c.id, 0))
        for c in channels
        if policy.can_read_channel(user, c)
    ]


# --- Messages -----------------------------------------------------------------------------


def _context(channel_id: int, seq: int) -> str:
    return f"message:{channel_id}:{seq}"


def message_body(message: Message) -> str:
    if message.body_encrypted is None:
        return ""
    return crypto.decrypt_text(
        message.body_encrypted, context=_context(message.channel_id, message.seq)
    )


def message_html(message: Message) -> str:
    if message.html_encrypted is None:
        return ""
    return crypto.decrypt_text(
        message.html_encrypted, context=_context(message.channel_id, message.seq) + ":html"
    )


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the API and the ``message`` socket event carry it (API.md)."""
    author = message.author
    return {
        "channel_id": message.channel_id,
        "id": message.id,
        "seq": message.seq,
        "client_id": message.client_id,
        "parent_id": message.parent_id,
        "author": {"id": author.id, "name": author.name} if author else None,
        "html": message_html(message),
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.is_deleted,
        "attachments": [attachments.payload(a) for a in message.attachments],
    }


def _clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise ValidationError(fields={"body": _("The message must be text.")})
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError(fields={"body": _("The message is empty.")})
    if len(body) > MAX_BODY_CHARS:
        raise ValidationError(
            fields={"body": _("A message has at most %(n)d characters.", n=MAX_BODY_CHARS)}
        )
    if "\x00" in body:
        raise ValidationError(
            fields={"body": _("The message contains a character that is not allowed.")}
        )
    return body


def _render(text: str) -> str:
    """Markdown to safe HTML; raises ``ValidationError`` for the (never yet seen) input
    whose cleaning does not settle, rather than storing an unstable body."""
    try:
        return sanitize.render_markdown(text)
    except ValueError as exc:
        raise ValidationError(fields={"body": _("This message cannot be shown safely.")}) from exc


def _existing(author_id: int, client_id: str) -> Message | None:
    return db.session.scalar(
        select(Message).where(Message.author_id == author_id, Message.client_id == client_id)
    )


def post_message(
    channel_id: Any,
    author: Any,
    body: Any,
    client_id: Any,
    parent_id: Any = None,
    attachment_ids: Any = None,
) -> tuple[Message, bool]:
    """Post a message; returns ``(message, created)``; ``created`` is False for a retried
    send (same author and ``client_id``), which returns the stored message unchanged.

    Raises ``ValidationError``, ``NotFound`` (no such channel, or not readable),
    ``Forbidden`` (read-only for this user) or ``Conflict`` (the client id was used for
    another channel).
    """
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ValidationError(
            fields={"client_id": _("A client id of 8 to 64 letters, digits, - or _ is required.")}
        )
    channel = get_channel(channel_id, author)
    previous = _existing(author.id, client_id)
    if previous is not None:
        if previous.channel_id != channel.id:
            raise Conflict(_("This client id was already used for another message."))
        return previous, False
    if not policy.can_write_channel(author, channel):
        raise Forbidden(_("You can read this channel but not write in it."))
    text = _clean_body(body)
    if parent_id is not None:
        parent = db.session.get(Message, parent_id) if isinstance(parent_id, int) else None
        if parent is None or parent.channel_id != channel.id:
            raise ValidationError(fields={"parent_id": _("Reply to a message of this channel.")})
    html = _render(text)
    files = attachments.pending_for_send(attachment_ids, author, channel)
    file_ids = [f.id for f in files]
    channel_id, author_id = channel.id, author.id
    # End the read-only part of the transaction: the write transaction then starts with
    # the UPDATE that takes the channel's next number (on SQLite a read transaction that
    # later writes can fail on a busy database; on PostgreSQL the UPDATE locks the
    # channel row, so concurrent senders get consecutive numbers).
    db.session.commit()
    seq = db.session.execute(
        update(Channel)
        .where(Channel.id == channel_id)
        .values(last_seq=Channel.last_seq + 1)
        .returning(Channel.last_seq)
    ).scalar_one()
    message = Message(
        channel_id=channel_id,
        seq=seq,
        author_id=author_id,
        client_id=client_id,
        parent_id=parent_id,
        body_encrypted=crypto.encrypt_text(text, context=_context(channel_id, seq)),
        html_encrypted=crypto.encrypt_text(html, context=_context(channel_id, seq) + ":html"),
    )
    db.session.add(message)
    try:
        db.session.flush()
        attachments.link(message, attachments.by_ids(file_ids))
        search.index_message(message, text)
        notified = notifications.on_message_posted(message, text)
        _mark_read(channel_id, author_id, seq)
        db.session.commit()
    except IntegrityError:
        # The same send arrived twice at once: the other one won; answer with it.
        db.session.rollback()
        previous = _existing(author_id, client_id)
        if previous is None or previous.channel_id != channel_id:
            raise
        return previous, False
    log.info(
        "user %s posted message %s (seq %s) in channel %s", author_id, message.id, seq, channel_id
    )
    events.publish("message", message_payload(message), f"channel:{channel_id}")
    notifications.publish(notified)
    return message, True


def list_messages(
    channel: Channel, user: Any, *, after_seq: Any = 0, before_seq: Any = None, limit: Any = 50
) -> list[Message]:
    """Messages of a readable channel in ``seq`` order: those after ``after_seq`` (catching
    up), or the ``limit`` latest before ``before_seq`` (scrolling back).

    Raises ``Forbidden`` or ``ValidationError``.
    """
    if not policy.can_read_channel(user, channel):
        raise Forbidden()
    errors = {}
    for name, value in (("after_seq", after_seq), ("before_seq", before_seq)):
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value < 0
        ):
            errors[name] = _("Use a whole number of 0 or more.")
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE:
        errors["limit"] = _("Use a number from %(low)d to %(high)d.", low=1, high=MAX_PAGE)
    if errors:
        raise ValidationError(fields=errors)
    query = (
        select(Message)
        .where(Message.channel_id == channel.id)
        .options(selectinload(Message.author))
    )
    if before_seq is not None:
        rows = db.session.scalars(
            query.where(Message.seq < before_seq).order_by(Message.seq.desc()).limit(limit)
        )
        found = sorted(rows, key=lambda m: m.seq)
    else:
        found = list(
            db.session.scalars(
                query.where(Message.seq > (after_seq or 0)).order_by(Message.seq).limit(limit)
            )
        )
    if channel.kind == ChannelKind.CASE.value and found:
        # Reading a case channel is audited: who read which messages, when, from where.
        audit.record_channel_event(
            user, "case_channel.read", channel, first_seq=found[0].seq, last_seq=found[-1].seq
        )
        db.session.commit()
    return found


def join_and_catch_up(
    channel_id: Any, user: Any, after_seq: Any, limit: int, enter_room: Callable[[Channel], None]
) -> tuple[Channel, list[Message]]:
    """Admit the user to a channel's live messages and give what they missed after
    ``after_seq``.

    ``enter_room`` subscribes the connection *before* the missed messages are read, and
    the read runs in a transaction begun after that (a transaction reads from the snapshot
    of its first query): a message committed meanwhile then arrives live, or both live and
    here (the client keeps one per seq), never in neither. Raises ``NotFound``,
    ``ValidationError``.
    """
    channel = get_channel(channel_id, user)
    if not isinstance(after_seq, int) or isinstance(after_seq, bool) or after_seq < 0:
        raise ValidationError(fields={"after_seq": _("Use a whole number of 0 or more.")})
    enter_room(channel)
    db.session.commit()  # end the snapshot taken before entering the room
    return channel, list_messages(channel, user, after_seq=after_seq, limit=limit)


def _own_message(message_id: Any, user: Any) -> Message:
    message = db.session.get(Message, message_id) if isinstance(message_id, int) else None
    if message is None or not policy.can_read_channel(user, message.channel):
        raise NotFound(_("No such message."))
    return message


def edit_message(message_id: Any, user: Any, body: Any) -> Message:
    """The author edits their message; the earlier text is kept as a revision."""
    message = _own_message(message_id, user)
    if message.author_id != user.id or message.is_deleted:
        raise Forbidden(_("Only the author can edit a message."))
    if not policy.can_write_channel(user, message.channel):
        raise Forbidden(_("You can read this channel but not write in it."))
    text = _clean_body(body)
    html = _render(text)
    context = _context(message.channel_id, message.seq)
    db.session.add(MessageRevision(message_id=message.id, body_encrypted=message.body_encrypted))
    message.body_encrypted = crypto.encrypt_text(text, context=context)
    message.html_encrypted = crypto.encrypt_text(html, context=context + ":html")
    message.edited_at = utcnow()
    search.index_message(message, text)
    db.session.commit()
    events.publish("message", message_payload(message), message.channel.room)
    return message


def delete_message(message_id: Any, user: Any) -> Message:
    """Delete a message: a tombstone stays in the sequence; its text and history go."""
    message = _own_message(message_id, user)
    if message.author_id != user.id and not policy.can_manage_channel(user, message.channel):
        raise Forbidden(_("Only the author or the channel's manager can delete a message."))
    if not message.is_deleted:
        message.body_encrypted = message.html_encrypted = None
        message.deleted_at = utcnow()
        search.forget_message(message)
        attachments.discard(message)
        for revision in db.session.scalars(
            select(MessageRevision).where(MessageRevision.message_id == message.id)
        ):
            db.session.delete(revision)
        log.info("user %s deleted message %s", user.id, message.id)
        db.session.commit()
        events.publish("message", message_payload(message), message.channel.room)
    return message


def revisions(message: Message, user: Any) -> list[tuple[str, Any]]:
    """The earlier texts of an edited message, oldest first, as (text, replaced_at)."""
    if not policy.can_read_channel(user, message.channel):
        raise Forbidden()
    context = _context(message.channel_id, message.seq)
    return [
        (
            crypto.decrypt_text(r.body_encrypted, context=context) if r.body_encrypted else "",
            r.created_at,
        )
        for r in db.session.scalars(
            select(MessageRevision)
            .where(MessageRevision.message_id == message.id)
            .order_by(MessageRevision.id)
        )
    ]


def _mark_read(channel_id: int, user_id: int, seq: int) -> None:
    marker = db.session.scalar(
        select(ReadMarker).where(ReadMarker.channel_id == channel_id, ReadMarker.user_id == user_id)
    )
    if marker is None:
        db.session.add(ReadMarker(channel_id=channel_id, user_id=user_id, last_read_seq=seq))
    elif seq > marker.last_read_seq:
        marker.last_read_seq = seq


def mark_read(channel: Channel, user: Any, seq: Any) -> int:
    """Move the user's read marker forward to ``seq`` (never back); returns the marker."""
    if not policy.can_read_channel(user, channel):
        raise Forbidden()
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise ValidationError(fields={"seq": _("Use a whole number of 0 or more.")})
    seq = min(seq, channel.last_seq)
    _mark_read(channel.id, user.id, seq)
    db.session.commit()
    marker = db.session.scalar(
        select(ReadMarker.last_read_seq).where(
            ReadMarker.channel_id == channel.id, ReadMarker.user_id == user.id
        )
    )
    return int(marker or 0)
