"""Notifications: @mentions, replies, being added to a channel; the live badges.

A notification is written in the transaction that causes it (the message pipeline calls
``on_message_posted`` before its commit) and published to the person's user room only
after that commit (``publish``), like every other event.

Mentions
    Written ``@handle`` in the Markdown (``sanitize.mentions`` finds them, outside code
    and links). A handle names a person by their display name folded to lower-case ASCII
    with spaces as dots (``@aminata.diallo-demo`` for "Aminata Diallo-Demo") or by the
    local part of their e-mail address (``@contact.senegal``). Only people who may read
    the channel are matched: a handle that names anyone else is ignored, so a mention
    never tells the author whether a person exists, and never notifies someone who
    cannot open the message. Nobody is notified of their own message.

Replies
    The author of the message replied to is notified (kind ``reply``) when they may still
    read the channel. A person gets one notification per message: a reply notification
    takes the place of a mention in the same message.

Reading
    Opening a channel (``messaging.mark_read``) marks the person's notifications of that
    channel up to what they have read as read; the notifications page marks the rest.

E-mail
    Not sent: ``Notification.emailed_at`` is kept for a later digest. A person who is
    offline sees the badge when they next sign in.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from flask import has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import selectinload

from network import events, policy, sanitize
from network.errors import NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    Message,
    Notification,
    NotificationKind,
)
from network.models.people import Membership, User
from network.security import is_database_int

log = logging.getLogger(__name__)

# The kinds that make the "@" badge of a channel: something addressed to the person.
ADDRESSED = (NotificationKind.MENTION.value, NotificationKind.REPLY.value)
PAGE = 50


def mention_handle(name: str) -> str:
    """The ``@handle`` of a display name: lower-case ASCII, spaces as dots.

    "Lucía Secretaría-Díaz" → ``lucia.secretaria-diaz``. The composer's hint and the
    members page show it, so people know how to mention each other.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    folded = re.sub(r"\s+", ".", folded.strip())
    folded = re.sub(r"[^a-z0-9._-]", "", folded)
    return re.sub(r"\.{2,}", ".", folded).strip("._-")


def email_handle(email: str) -> str:
    return email.split("@", 1)[0].lower()


def _reader_ids(channel: Channel) -> select:  # type: ignore[type-arg]
    """The ids of the people who may read ``channel`` (as a subquery)."""
    if channel.kind == ChannelKind.NETWORK.value and channel.network_id is not None:
        return select(Membership.user_id).where(Membership.network_id == channel.network_id)
    return select(ChannelMember.user_id).where(ChannelMember.channel_id == channel.id)


def _mentioned(channel: Channel, handles: list[str]) -> list[int]:
    """The ids of the readers of ``channel`` named by ``handles`` (unknown handles are
    ignored). Only messages with a mention pay for this: a few columns of each reader,
    matched in Python (folding accents is not portable SQL)."""
    wanted = set(handles)
    rows = db.session.execute(
        select(User.id, User.name, User.email).where(
            User.id.in_(_reader_ids(channel)), User.is_active_account
        )
    )
    return [
        user_id
        for user_id, name, email in rows.all()
        if mention_handle(name) in wanted or email_handle(email) in wanted
    ]


def _can_still_read(user: User, channel: Channel) -> bool:
    return user.is_active_account and policy.can_read_channel(user, channel)


def on_message_posted(message: Message, text: str) -> list[Notification]:
    """Add the notifications a new message causes (mentions, reply) to the current
    transaction; returns them so they can be published after the commit."""
    handles = sanitize.mentions(text)
    if not handles and message.parent_id is None:
        return []  # the common case costs no query
    channel = db.session.get(Channel, message.channel_id)
    if channel is None:
        return []
    targets: dict[int, str] = {}
    if message.parent_id is not None:
        parent = db.session.get(Message, message.parent_id)
        if parent is not None and parent.author and _can_still_read(parent.author, channel):
            targets[parent.author.id] = NotificationKind.REPLY.value
    if handles:
        for user_id in _mentioned(channel, handles):
            targets.setdefault(user_id, NotificationKind.MENTION.value)
    targets.pop(message.author_id, None)  # never about one's own message
    made = [
        Notification(
            user_id=user_id,
            kind=kind,
            channel_id=channel.id,
            message_id=message.id,
            actor_id=message.author_id,
        )
        for user_id, kind in targets.items()
    ]
    db.session.add_all(made)
    return made


def on_message_edited(message: Message, text: str) -> list[Notification]:
    """Mentions added by an edit notify the people newly named (once per message)."""
    handles = sanitize.mentions(text)
    if not handles:
        return []
    channel = db.session.get(Channel, message.channel_id)
    if channel is None:
        return []
    already = set(
        db.session.scalars(
            select(Notification.user_id).where(Notification.message_id == message.id)
        )
    )
    made = [
        Notification(
            user_id=user_id,
            kind=NotificationKind.MENTION.value,
            channel_id=channel.id,
            message_id=message.id,
            actor_id=message.author_id,
        )
        for user_id in _mentioned(channel, handles)
        if user_id not in already and user_id != message.author_id
    ]
    db.session.add_all(made)
    return made


def on_member_added(channel: Channel, user_id: int, actor: Any) -> Notification:
    """The person added to a channel is told (the caller commits, then publishes)."""
    notification = Notification(
        user_id=user_id,
        kind=NotificationKind.CHANNEL_INVITATION.value,
        channel_id=channel.id,
        actor_id=getattr(actor, "id", None),
    )
    db.session.add(notification)
    return notification


def forget_channel(user_id: int, channel_id: int) -> None:
    """A person who lost a channel loses its notifications too (they point at messages
    the person may no longer read). In the current transaction."""
    for notification in db.session.scalars(
        select(Notification).where(
            Notification.user_id == user_id, Notification.channel_id == channel_id
        )
    ):
        db.session.delete(notification)


# --- Counting and listing ---------------------------------------------------------------


def unread_count(user: Any) -> int:
    """The header badge: unread notifications of the person."""
    if not policy.is_signed_in(user):
        return 0
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def unread_mentions_by_channel(user: Any) -> dict[int, int]:
    """Unread mentions and replies per channel (the "@" badges of the channel list)."""
    rows = db.session.execute(
        select(Notification.channel_id, func.count())
        .where(
            Notification.user_id == user.id,
            Notification.read_at.is_(None),
            Notification.kind.in_(ADDRESSED),
        )
        .group_by(Notification.channel_id)
    )
    return {channel_id: int(n) for channel_id, n in rows.all() if channel_id is not None}


def list_for(user: Any, *, page: int = 1) -> tuple[list[Notification], int]:
    """The person's notifications, newest first, one page, with the total."""
    query = select(Notification).where(Notification.user_id == user.id)
    total = int(db.session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    items = list(
        db.session.scalars(
            query.options(
                selectinload(Notification.actor),
                selectinload(Notification.channel),
                selectinload(Notification.message),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .offset((max(page, 1) - 1) * PAGE)
            .limit(PAGE)
        )
    )
    return items, total


def mark_read(user: Any, notification_id: Any = None) -> int:
    """Mark one notification (or, with no id, all of them) read; returns how many
    changed. Raises ``NotFound`` for someone else's notification."""
    query = update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)
    )
    if notification_id is not None:
        if not is_database_int(notification_id):
            raise ValidationError(fields={"id": _("A notification id is a whole number.")})
        owned = db.session.scalar(
            select(Notification.id).where(
                Notification.id == notification_id, Notification.user_id == user.id
            )
        )
        if owned is None:
            raise NotFound(_("No such notification."))
        query = query.where(Notification.id == notification_id)
    changed = db.session.execute(query.values(read_at=utcnow())).rowcount or 0
    db.session.commit()
    if changed:
        publish_counts(user.id)
    return int(changed)


def mark_channel_read(user_id: int, channel_id: int, seq: int) -> int:
    """Mark read the person's notifications of a channel up to ``seq`` (invitations,
    which point at no message, too). In the current transaction; returns how many."""
    upto = select(Message.id).where(Message.channel_id == channel_id, Message.seq <= seq)
    result = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user_id,
            Notification.channel_id == channel_id,
            Notification.read_at.is_(None),
            or_(Notification.message_id.is_(None), Notification.message_id.in_(upto)),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


# --- Publishing -----------------------------------------------------------------------


def _url(notification: Notification, seq: int | None) -> str | None:
    if not has_request_context() or notification.channel_id is None:
        return None
    url = url_for("messaging.channel", channel_id=notification.channel_id)
    return f"{url}#m{seq}" if seq else url


def payload(notification: Notification) -> dict[str, Any]:
    """A notification as the page, the API and the ``notification`` event show it."""
    message = notification.message
    seq = message.seq if message is not None else None
    return {
        "id": notification.id,
        "kind": notification.kind,
        "channel_id": notification.channel_id,
        "channel_name": notification.channel.name if notification.channel else None,
        "message_id": notification.message_id,
        "seq": seq,
        "actor": (
            {"id": notification.actor.id, "name": notification.actor.name}
            if notification.actor
            else None
        ),
        "created_at": notification.created_at.isoformat(),
        "read": notification.read_at is not None,
        "url": _url(notification, seq),
    }


def _counts(user_id: int) -> dict[str, Any]:
    unread = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    by_channel = db.session.execute(
        select(Notification.channel_id, func.count())
        .where(
            Notification.user_id == user_id,
            Notification.read_at.is_(None),
            Notification.kind.in_(ADDRESSED),
        )
        .group_by(Notification.channel_id)
    )
    return {
        "unread": int(unread or 0),
        "mentions": {str(c): int(n) for c, n in by_channel.all() if c is not None},
    }


def publish(notifications: list[Notification]) -> None:
    """Tell each notified person's sockets (call after commit): the notification with the
    person's new unread total and per-channel mention counts."""
    for notification in notifications:
        body = payload(notification) | _counts(notification.user_id)
        events.publish("notification", body, events.user_room(notification.user_id))


def publish_counts(user_id: int) -> None:
    """After notifications were read: every open page of the person updates its badges."""
    events.publish("notifications_read", _counts(user_id), events.user_room(user_id))


def kind_label(kind: str) -> str:
    return {
        NotificationKind.MENTION.value: _("mentioned you"),
        NotificationKind.REPLY.value: _("replied to your message"),
        NotificationKind.CHANNEL_INVITATION.value: _("added you to a channel"),
    }.get(kind, kind)
