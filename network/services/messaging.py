"""Messaging: channels, the one message pipeline, history, edits, deletion, read markers.

Every message, whether posted from a page, the API or a socket, goes through
``post_message``: validate → render and sanitise → persist with the next sequence number
→ commit → publish to the channel's room. A send carries a client-made id; a retried send
with the same id is stored once and answered with the same id and sequence number.

The persist step is a group commit (``_GroupCommit``): sends to a channel that arrive while
another send to it is being written are written together, in one transaction, right after
it.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached, selectinload
from werkzeug.routing import BuildError

from network import crypto, events, i18n, policy, sanitize
from network.errors import Conflict, Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.directory import ContactPoint, Network, contact_point_networks
from network.models.messaging import (
    Channel,
    ChannelKind,
    ChannelMember,
    Message,
    MessageReceipt,
    MessageRevision,
    Notification,
    ReadMarker,
)
from network.models.people import Membership, User
from network.security import DATABASE_INT_MAX, is_database_int
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
    # Members are not loaded: the policy asks for the one row of the person acting
    # (``Channel.member_for``); a channel of 500 would otherwise load 500 rows per event.
    return db.session.get(Channel, channel_id)


def get_channel(channel_id: Any, user: Any) -> Channel:
    """A channel the user may read; raises ``NotFound`` or ``Forbidden``.

    A channel the user may not read answers as if it did not exist (404) when they are
    no member of it at all, so channel ids cannot be probed.
    """
    if not is_database_int(channel_id):
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


MAX_DIRECT_PEOPLE = 20
MAX_DESCRIPTION = 2000


def _int_ids(raw: Any, field: str) -> list[int]:
    """A list of account ids from a form or JSON (strings of digits are accepted)."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list | tuple):
        raw = [raw]
    ids: list[int] = []
    for value in raw:
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if (
            not isinstance(value, int)
            or isinstance(value, bool)
            or not 0 < value <= DATABASE_INT_MAX  # beyond any id: the driver would fail
        ):
            raise ValidationError(fields={field: _("Choose people from the list.")})
        ids.append(value)
    return sorted(set(ids))


def reachable_people_query(actor: Any) -> Any:
    """The people ``actor`` may pick for a direct conversation or a case: active accounts
    who share a network with them, or who have a current directory entry in a network
    whose directory they may read. Nobody else can be found (or probed) by id."""
    query = select(User).where(User.is_active_account, User.id != actor.id)
    readable = policy.readable_network_ids(actor)
    if readable is None:  # administrators read every directory
        return query
    mine = [m.network_id for m in actor.memberships]
    shares = select(Membership.user_id).where(Membership.network_id.in_(mine or [-1]))
    listed = (
        select(ContactPoint.user_id)
        .join(contact_point_networks, contact_point_networks.c.contact_point_id == ContactPoint.id)
        .where(
            ContactPoint.user_id.is_not(None),
            ContactPoint.succeeded_by_id.is_(None),
            contact_point_networks.c.network_id.in_(readable or [-1]),
        )
    )
    return query.where(or_(User.id.in_(shares), User.id.in_(listed)))


def reachable_people(actor: Any, q: str = "", limit: int | None = None) -> list[User]:
    """``reachable_people_query`` by name (``q`` matches any part of the name or the
    e-mail address, without regard to case or accents), sorted by name."""
    people = db.session.scalars(
        reachable_people_query(actor).options(
            selectinload(User.memberships).selectinload(Membership.network)
        )
    )
    needle = i18n.fold((q or "").strip())
    found = [
        p for p in people if not needle or needle in i18n.fold(p.name) or needle in p.email.lower()
    ]
    found.sort(key=lambda p: (i18n.fold(p.name), p.id))
    return found[:limit] if limit else found


def shown_networks(person: User, viewer: Any) -> list[Network]:
    """The networks of ``person`` that ``viewer`` may be told about, by acronym: those
    whose directory ``viewer`` reads (every one for an administrator). A person's other
    memberships are not the viewer's business (a partial roster of another network)."""
    readable = policy.readable_network_ids(viewer)
    return sorted(
        (m.network for m in person.memberships if readable is None or m.network_id in readable),
        key=lambda n: n.acronym,
    )


def network_people(network: Network, exclude: int | None = None) -> list[User]:
    """The active accounts of a network, by name (candidates for its topic channels)."""
    people = db.session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.network_id == network.id, User.is_active_account)
    )
    found = [p for p in people if p.id != exclude]
    found.sort(key=lambda p: (i18n.fold(p.name), p.id))
    return found


def topic_networks(actor: Any) -> list[Network]:
    """The networks where ``actor`` may open a topic channel."""
    return sorted(
        (m.network for m in actor.memberships if policy.can_create_topic_channel(actor, m.network)),
        key=lambda n: i18n.fold(n.acronym),
    )


def _add_people(channel: Channel, actor: Any, users: list[User]) -> list[Notification]:
    """Members, audit rows and invitations for ``users`` (the caller commits)."""
    made = []
    for user in users:
        channel.members.append(ChannelMember(user_id=user.id, is_owner=False, added_by_id=actor.id))
        audit.record_channel_event(actor, "channel.member_add", channel, user_id=user.id)
        made.append(notifications.on_member_added(channel, user.id, actor))
    return made


def create_channel(
    kind: str,
    actor: Any,
    *,
    name: str,
    network: Network | None = None,
    member_ids: Any = None,
    description: str = "",
) -> Channel:
    """Create a topic or direct channel with the actor as owner and the given members.

    Topic channels belong to a network the actor may write in, and take members of that
    network; direct conversations take two to ``MAX_DIRECT_PEOPLE`` people the actor can
    reach (``reachable_people_query``), across networks, and a conversation with exactly
    the same people that is not archived is reopened rather than made twice. Every member
    but the actor is told (``channel_invitation``); every addition is audited. Raises
    ``ValidationError`` or ``Forbidden``.
    """
    if kind not in {ChannelKind.TOPIC.value, ChannelKind.DIRECT.value}:
        raise ValidationError(fields={"kind": _("Choose a topic or a direct conversation.")})
    name = (name or "").strip()
    description = (description or "").strip()
    ids = [i for i in _int_ids(member_ids, "members") if i != actor.id]
    errors: dict[str, str] = {}
    if kind == ChannelKind.TOPIC.value:
        if network is None or not policy.can_create_topic_channel(actor, network):
            raise Forbidden(_("Topic channels belong to a network where you may write."))
        if not name or len(name) > 200:
            errors["name"] = _("A name of at most 200 characters is required.")
        allowed = {u.id for u in network_people(network)}
    else:
        if not policy.can_start_direct_conversation(actor):
            raise Forbidden(_("You may not start conversations."))
        network = None
        if len(name) > 200:
            errors["name"] = _("A name has at most 200 characters.")
        if not ids:
            errors["members"] = _("Choose at least one other person.")
        elif len(ids) + 1 > MAX_DIRECT_PEOPLE:
            errors["members"] = _("A conversation has at most %(n)d people.", n=MAX_DIRECT_PEOPLE)
        allowed = (
            set(
                db.session.scalars(
                    reachable_people_query(actor).with_only_columns(User.id).where(User.id.in_(ids))
                )
            )
            if ids
            else set()
        )
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _("A description has at most %(n)d characters.", n=MAX_DESCRIPTION)
    if any(i not in allowed for i in ids) and "members" not in errors:
        errors["members"] = _("Some of the people chosen cannot be added.")
    if errors:
        raise ValidationError(fields=errors)
    users = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    if kind == ChannelKind.DIRECT.value:
        existing = _same_conversation(actor.id, ids)
        if existing is not None:
            return existing
        if not name:
            name = ", ".join(sorted((u.name for u in [*users, actor]), key=i18n.fold))[:200]
    channel = Channel(
        kind=kind, network=network, name=name, description=description, created_by_id=actor.id
    )
    channel.members = [ChannelMember(user_id=actor.id, is_owner=True)]
    db.session.add(channel)
    db.session.flush()
    audit.record_channel_event(actor, "channel.create", channel, kind=kind)
    invited = _add_people(channel, actor, users)
    db.session.commit()
    log.info("user %s created %s channel %s", actor.id, kind, channel.id)
    notifications.publish(invited)
    return channel


def _same_conversation(actor_id: int, ids: list[int]) -> Channel | None:
    """A live direct conversation whose members are exactly the actor and ``ids``."""
    wanted = {actor_id, *ids}
    mine = select(ChannelMember.channel_id).where(ChannelMember.user_id == actor_id)
    for channel in db.session.scalars(
        select(Channel)
        .where(
            Channel.kind == ChannelKind.DIRECT.value,
            Channel.archived_at.is_(None),
            Channel.id.in_(mine),
        )
        .options(selectinload(Channel.members))
    ):
        if {m.user_id for m in channel.members} == wanted:
            return channel
    return None


def create_topic_channel(
    actor: Any, network: Network, name: str, description: str = "", member_ids: Any = None
) -> Channel:
    """A working group of ``network`` (see ``create_channel``)."""
    return create_channel(
        ChannelKind.TOPIC.value,
        actor,
        name=name,
        network=network,
        member_ids=member_ids,
        description=description,
    )


def create_direct_conversation(actor: Any, member_ids: Any, name: str = "") -> Channel:
    """A conversation of a few people across networks (see ``create_channel``)."""
    return create_channel(ChannelKind.DIRECT.value, actor, name=name, member_ids=member_ids)


@dataclass
class ChannelSummary:
    channel: Channel
    unread: int
    last_read_seq: int
    mentions: int = 0


def channels_for(user: Any) -> list[ChannelSummary]:
    """The channels the user may read, with the number of unread messages by others and
    of unread mentions and replies."""
    if not policy.is_signed_in(user):
        return []
    # Loaded once here: the policy asks about the network of every channel below.
    user.memberships  # noqa: B018
    network_ids = select(Membership.network_id).where(Membership.user_id == user.id)
    explicit = select(ChannelMember.channel_id).where(ChannelMember.user_id == user.id)
    visible = or_(
        and_(Channel.kind == ChannelKind.NETWORK.value, Channel.network_id.in_(network_ids)),
        and_(
            Channel.id.in_(explicit),
            # A working group only while one belongs to its network (policy.can_read_channel).
            or_(
                Channel.kind != ChannelKind.TOPIC.value,
                Channel.network_id.is_(None),
                Channel.network_id.in_(network_ids),
            ),
        ),
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
    mentions = notifications.unread_mentions_by_channel(user)
    return [
        ChannelSummary(c, unread.get(c.id, 0), markers.get(c.id, 0), mentions.get(c.id, 0))
        for c in channels
        if policy.can_read_channel(user, c)
    ]


KIND_ORDER = (
    ChannelKind.NETWORK.value,
    ChannelKind.CASE.value,
    ChannelKind.TOPIC.value,
    ChannelKind.DIRECT.value,
    ChannelKind.CONSULTATION.value,
)


def grouped_channels(user: Any) -> list[tuple[str, list[ChannelSummary]]]:
    """``channels_for`` grouped by kind (network, case, topic, direct, consultation);
    archived channels last within each group."""
    summaries = channels_for(user)
    groups: list[tuple[str, list[ChannelSummary]]] = []
    for kind in KIND_ORDER:
        found = [s for s in summaries if s.channel.kind == kind]
        found.sort(key=lambda s: (s.channel.archived_at is not None, i18n.fold(s.channel.name)))
        if found:
            groups.append((kind, found))
    return groups


# --- Members ------------------------------------------------------------------------------


@dataclass
class MemberRow:
    user: User
    is_owner: bool = False
    joined_at: Any = None
    added_by: User | None = None
    role: str | None = None  # network channels: the person's role in the network


def channel_members(channel: Channel, actor: Any) -> list[MemberRow]:
    """Who is in a readable channel: its explicit members, or for a network channel the
    network's members with their role."""
    if not policy.can_read_channel(actor, channel):
        raise NotFound(_("No such channel."))
    if channel.kind == ChannelKind.NETWORK.value and channel.network_id is not None:
        rows = db.session.execute(
            select(User, Membership.role)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.network_id == channel.network_id, User.is_active_account)
        ).all()
        found = [MemberRow(user=u, role=role) for u, role in rows]
    else:
        members = db.session.scalars(
            select(ChannelMember)
            .where(ChannelMember.channel_id == channel.id)
            .options(selectinload(ChannelMember.user))
        )
        adders = {}
        found = []
        for member in members:
            if member.added_by_id and member.added_by_id not in adders:
                adders[member.added_by_id] = db.session.get(User, member.added_by_id)
            found.append(
                MemberRow(
                    user=member.user,
                    is_owner=member.is_owner,
                    joined_at=member.joined_at,
                    added_by=adders.get(member.added_by_id) if member.added_by_id else None,
                )
            )
    found.sort(key=lambda r: (not r.is_owner, i18n.fold(r.user.name), r.user.id))
    return found


def addable_people(channel: Channel, actor: Any) -> list[User]:
    """Whom ``actor`` may add to ``channel`` now (empty when they may not manage it):
    for a topic channel the members of its network, otherwise the people the actor can
    reach; never someone already in it."""
    if channel.kind == ChannelKind.NETWORK.value or not policy.can_manage_channel_members(
        actor, channel
    ):
        return []
    present = {m.user_id for m in channel.members}
    if channel.kind == ChannelKind.TOPIC.value and channel.network is not None:
        pool = network_people(channel.network)
    else:
        pool = reachable_people(actor)
    return [u for u in pool if u.id not in present and policy.can_be_added_to_channel(u, channel)]


def _managed(channel_id: Any, actor: Any) -> Channel:
    channel = get_channel(channel_id, actor)
    if not policy.can_manage_channel(actor, channel):
        raise Forbidden(_("Only the channel's owners and coordinators manage its members."))
    return channel


def _members_managed(channel_id: Any, actor: Any) -> Channel:
    """A channel whose members ``actor`` may change here; a consultation room's people
    change only through the consultation (``services/consultations.py``)."""
    channel = get_channel(channel_id, actor)
    if not policy.can_manage_channel_members(actor, channel):
        if channel.kind == ChannelKind.CONSULTATION.value:
            raise Forbidden(_("People join a consultation room through its invitations."))
        raise Forbidden(_("Only the channel's owners and coordinators manage its members."))
    return channel


def _explicit(channel: Channel) -> None:
    if channel.kind == ChannelKind.NETWORK.value:
        raise ValidationError(
            _("A network channel's members are the network's members: manage them there.")
        )


def add_members(channel_id: Any, actor: Any, user_ids: Any) -> list[User]:
    """Add people to a channel; each addition is audited and the person is told.

    Raises ``Forbidden`` (the actor does not manage the channel's members; nobody does
    for a consultation room), ``ValidationError`` (a network channel, nobody chosen, or
    someone the policy does not admit or the actor cannot reach).
    """
    channel = _members_managed(channel_id, actor)
    _explicit(channel)
    if channel.archived_at is not None:
        raise ValidationError(_("This channel is archived."))
    ids = _int_ids(user_ids, "people")
    if not ids:
        raise ValidationError(fields={"people": _("Choose at least one person.")})
    allowed = {u.id: u for u in addable_people(channel, actor)}
    if any(i not in allowed for i in ids):
        raise ValidationError(fields={"people": _("Some of the people chosen cannot be added.")})
    users = [allowed[i] for i in ids]
    invited = _add_people(channel, actor, users)
    db.session.commit()
    log.info("user %s added %s people to channel %s", actor.id, len(users), channel.id)
    notifications.publish(invited)
    for user in users:
        events.publish(
            "channel_added",
            {"channel_id": channel.id, "channel_name": channel.name, "kind": channel.kind},
            events.user_room(user.id),
        )
    return users


def _owners(channel: Channel) -> list[int]:
    return [m.user_id for m in channel.members if m.is_owner]


def _drop(channel: Channel, actor: Any, user_id: int, action: str) -> None:
    member = next((m for m in channel.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(_("This person is not a member of the channel."))
    others = [m for m in channel.members if m.user_id != user_id]
    if member.is_owner and others and _owners(channel) == [user_id]:
        raise ValidationError(
            _("Make another member an owner first: a channel keeps at least one owner.")
        )
    _take_out(channel, actor, member, action)
    db.session.commit()
    evict_from_channel(user_id, channel)


def _take_out(channel: Channel, actor: Any, member: ChannelMember, action: str) -> None:
    """Remove ``member`` from ``channel`` in the current transaction: their notifications
    of it go, the removal is audited as ``action``, and a channel left without members is
    archived. The caller commits, then evicts their sockets (``evict_from_channel``)."""
    channel.members.remove(member)
    notifications.forget_channel(member.user_id, channel.id)
    audit.record_channel_event(actor, action, channel, user_id=member.user_id)
    if not channel.members:
        channel.archived_at = channel.archived_at or utcnow()


def remove_member(channel_id: Any, actor: Any, user_id: Any) -> None:
    """Remove someone from a channel. Their sockets leave the channel's rooms at once,
    on every server process, and are told with ``channel_removed``; a later join, send
    or read is refused. Removing oneself is leaving (``leave_channel``).

    Raises ``Forbidden`` (also for a consultation room), ``NotFound`` or
    ``ValidationError`` (a network channel; the last owner).
    """
    if user_id == getattr(actor, "id", None):
        leave_channel(channel_id, actor)
        return
    channel = _members_managed(channel_id, actor)
    _explicit(channel)
    if not is_database_int(user_id):
        raise ValidationError(fields={"user_id": _("Choose a member.")})
    _drop(channel, actor, user_id, "channel.member_remove")
    log.info("user %s removed user %s from channel %s", actor.id, user_id, channel.id)


def leave_channel(channel_id: Any, actor: Any) -> None:
    """Leave a channel. Not a network channel (membership of the network decides); the
    last owner hands over first (``set_owner``), unless nobody else is left, in which
    case the channel is archived. Not a consultation room either (``Forbidden``): the
    consultation keeps its people."""
    channel = get_channel(channel_id, actor)
    _explicit(channel)
    if not policy.can_leave_channel(actor, channel):
        if channel.kind == ChannelKind.CONSULTATION.value:
            raise Forbidden(_("People join a consultation room through its invitations."))
        raise NotFound(_("This person is not a member of the channel."))
    _drop(channel, actor, actor.id, "channel.member_leave")
    log.info("user %s left channel %s", actor.id, channel.id)


def set_owner(channel_id: Any, actor: Any, user_id: Any, is_owner: bool = True) -> None:
    """Make a member an owner (hand over), or no longer one; a channel keeps one."""
    channel = _members_managed(channel_id, actor)
    _explicit(channel)
    member = next((m for m in channel.members if m.user_id == user_id), None)
    if member is None:
        raise NotFound(_("This person is not a member of the channel."))
    if not is_owner and _owners(channel) == [member.user_id]:
        raise ValidationError(_("A channel keeps at least one owner."))
    if member.is_owner != is_owner:
        member.is_owner = is_owner
        audit.record_channel_event(
            actor,
            "channel.owner_add" if is_owner else "channel.owner_remove",
            channel,
            user_id=member.user_id,
        )
        db.session.commit()


def archive_channel(channel_id: Any, actor: Any, archived: bool = True) -> Channel:
    """Archive a channel (read-only for everyone) or bring it back; raises ``Forbidden``
    for a consultation room's channel (the consultation archives it when it ends)."""
    channel = _managed(channel_id, actor)
    if not policy.can_archive_channel(actor, channel):
        raise Forbidden()
    if (channel.archived_at is not None) != archived:
        channel.archived_at = utcnow() if archived else None
        audit.record_channel_event(
            actor, "channel.archive" if archived else "channel.unarchive", channel
        )
        db.session.commit()
        events.publish(
            "channel_updated",
            {"channel_id": channel.id, "archived": archived},
            events.channel_room(channel.id),
        )
    return channel


def set_retention(channel_id: Any, actor: Any, days: Any) -> Channel:
    """Keep the channel's messages ``days`` days (1 to 3650) or for ever (None), through
    the retention service, which checks, audits and commits."""
    channel = _managed(channel_id, actor)
    try:
        from network.services import retention
    except ImportError as exc:  # the retention work has not landed yet
        raise ValidationError(_("Retention periods are not available yet.")) from exc
    retention.set_retention(actor, channel, days)
    return channel


def evict_from_channel(user_id: int, channel: Channel) -> None:
    """After the commit that took ``user_id``'s access to ``channel`` away: their sockets
    leave its rooms on every process, and their pages are told (``channel_removed``).

    After a person loses their membership of a network, call ``evict_from_network``
    instead (the network's channel and its working groups).
    """
    events.evict(user_id, [events.channel_room(channel.id), events.watch_room(channel.id)])
    events.publish(
        "channel_removed",
        {"channel_id": channel.id, "channel_name": channel.name},
        events.user_room(user_id),
    )


def evict_from_network(user_id: int, network_id: int, actor: Any) -> None:
    """A person who lost their membership of a network (call after that commit), removed
    by ``actor``: they leave the network's working groups (topic channels take members of
    their network only; each removal audited, as a removal from the channel), their
    notifications of the network's channels go, and their sockets leave those channels'
    rooms at once. A channel they still may read (an administrator's network channel) is
    left as it is."""
    user = db.session.get(User, user_id)
    channels = db.session.scalars(
        select(Channel)
        .where(
            Channel.network_id == network_id,
            Channel.kind.in_([ChannelKind.NETWORK.value, ChannelKind.TOPIC.value]),
        )
        .order_by(Channel.id)
    ).all()
    evicted: list[Channel] = []
    for channel in channels:
        if user is not None and policy.can_read_channel(user, channel):
            continue
        if channel.kind == ChannelKind.TOPIC.value:
            member = channel.member_for(user_id)
            if member is None:
                continue
            _take_out(channel, actor, member, "channel.member_remove")
        else:
            notifications.forget_channel(user_id, channel.id)
        evicted.append(channel)
    db.session.commit()
    for channel in evicted:
        evict_from_channel(user_id, channel)


def watch_channels(
    user: Any, channel_ids: Any, enter_room: Callable[[str], None]
) -> list[ChannelSummary]:
    """Admit a page that shows unread counts (the channel list) to the ``watch`` rooms
    of the readable channels among ``channel_ids``; returns their current counts, so the
    page starts from numbers taken after it began to listen."""
    if not isinstance(channel_ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in channel_ids
    ):
        raise ValidationError(fields={"channel_ids": _("Give a list of channel ids.")})
    wanted = set(channel_ids[:500])
    readable = [s for s in channels_for(user) if s.channel.id in wanted]
    for summary in readable:
        enter_room(events.watch_room(summary.channel.id))
    db.session.commit()  # end the snapshot taken before entering the rooms
    return [s for s in channels_for(user) if s.channel.id in wanted]


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


def _author(user: User | None) -> dict[str, Any] | None:
    return {"id": user.id, "name": user.name} if user is not None else None


def message_payload(
    message: Message,
    *,
    parent: Message | None = None,
    reply_count: int | None = None,
) -> dict[str, Any]:
    """A message as the API and the ``message`` socket event carry it (API.md), with its
    thread: ``parent`` (the message it replies to: id, seq, author) and ``reply_count``.

    ``parent`` and ``reply_count`` are looked up when not given; ``payloads`` gives them
    for a page of messages in two queries.
    """
    author = message.author
    if message.parent_id is not None and parent is None:
        parent = db.session.get(Message, message.parent_id)
    if reply_count is None:
        reply_count = (
            0 if message.parent_id is not None else reply_counts([message.id]).get(message.id, 0)
        )
    return {
        "channel_id": message.channel_id,
        "id": message.id,
        "seq": message.seq,
        "client_id": message.client_id,
        "parent_id": message.parent_id,
        "parent": (
            {"id": parent.id, "seq": parent.seq, "author": _author(parent.author)}
            if parent is not None
            else None
        ),
        "reply_count": reply_count,
        "author": _author(author),
        "html": message_html(message),
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": message.is_deleted,
        "attachments": [_attachment(a) for a in message.attachments],
    }


def _attachment(attachment: Any) -> dict[str, Any]:
    """The attachments service's payload, with a download URL when it gives none."""
    found = attachments.payload(attachment)
    if not found.get("url") and has_request_context():
        try:
            found["url"] = url_for("attachments.download", attachment_id=attachment.id)
        except BuildError:
            found["url"] = None
    return found


def reply_counts(message_ids: list[int]) -> dict[int, int]:
    """How many replies (not deleted) each of ``message_ids`` has."""
    if not message_ids:
        return {}
    rows = db.session.execute(
        select(Message.parent_id, func.count())
        .where(Message.parent_id.in_(message_ids), Message.deleted_at.is_(None))
        .group_by(Message.parent_id)
    )
    return {int(parent_id): int(n) for parent_id, n in rows.all()}


def payloads(messages: list[Message]) -> list[dict[str, Any]]:
    """``message_payload`` for a page of messages, with their parents and reply counts
    loaded in one query each."""
    parent_ids = {m.parent_id for m in messages if m.parent_id is not None}
    held = {m.id: m for m in messages}
    missing = parent_ids - held.keys()
    if missing:
        held.update(
            {
                m.id: m
                for m in db.session.scalars(
                    select(Message)
                    .where(Message.id.in_(missing))
                    .options(selectinload(Message.author))
                )
            }
        )
    counts = reply_counts([m.id for m in messages if m.parent_id is None])
    return [
        message_payload(
            m,
            parent=held.get(m.parent_id) if m.parent_id is not None else None,
            reply_count=counts.get(m.id, 0),
        )
        for m in messages
    ]


def _clean_body(body: Any, *, allow_empty: bool = False) -> str:
    """The text of a message; empty only when ``allow_empty`` (files sent alone)."""
    if body is None and allow_empty:
        body = ""
    if not isinstance(body, str):
        raise ValidationError(fields={"body": _("The message must be text.")})
    body = body.replace("\r\n", "\n").strip()
    if not body and not allow_empty:
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


def _stored_send(author_id: int, client_id: str, channel_id: int) -> Message | None:
    """The message an earlier send with this client id stored, if any; raises
    ``Conflict`` when that id was used for another channel."""
    previous = _existing(author_id, client_id)
    if previous is not None and previous.channel_id != channel_id:
        raise Conflict(_("This client id was already used for another message."))
    return previous


# The messages of a batch in one statement, their ids in the order of the rows.
_INSERT_MESSAGES = insert(Message.__table__).returning(
    Message.__table__.c.id, sort_by_parameter_order=True
)

# Take ``n`` numbers of a channel at once; returns the last (a Core statement built once:
# the hot path of every batch of sends).
_TAKE_SEQS = (
    update(Channel.__table__)
    .where(Channel.__table__.c.id == bindparam("channel_id"))
    .values(last_seq=Channel.__table__.c.last_seq + bindparam("n"))
    .returning(Channel.__table__.c.last_seq)
)

# Sends written together in one transaction at most (a batch of a busy channel).
MAX_BATCH = 64


@contextmanager
def _kept_after_commit() -> Iterator[None]:
    """Commit inside without expiring what the session holds.

    The send pipeline reads nothing after its commits that it did not read or write
    itself, and reloading the channel, the author and the new message (a query each)
    cost more than the rest of a send's statements. Local to the block: the session's
    setting is restored on the way out.
    """
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        yield
    finally:
        session.expire_on_commit = before


@dataclass(eq=False)
class _Send:
    """One checked send waiting to be written, and then what became of it."""

    channel_id: int
    author_id: int
    client_id: str
    parent_id: int | None
    text: str
    html: str
    file_ids: list[int]
    author_payload: dict[str, Any] | None
    parent_payload: dict[str, Any] | None
    done: threading.Event = field(default_factory=threading.Event)
    # Set when the writer of the batch before hands the next batch to this send's owner.
    lead: bool = False
    row: dict[str, Any] | None = None
    error: BaseException | None = None


class _GroupCommit:
    """Group commit of one channel: sends that arrive together are written in one
    transaction.

    Every send is checked by its own request or socket event (person, policy, body,
    rendering); what is left is the write: the channel's next numbers, the rows, the
    search terms, the read markers, the commit. That write is the same few statements for
    one message or for twenty, so a send that finds no write under way becomes the
    *writer*: it first lets the sends that arrived with it reach the queue (``sleep(0)``:
    under eventlet, the other events the server has read run up to their ``submit``), then
    writes the queue — at most ``MAX_BATCH`` of them, the oldest first — in one
    transaction, commits, publishes each message, and hands the rest of the queue to the
    owner of its oldest send, who writes the next batch. The others wait for their result.

    Nothing is published before the commit, and a batch that fails is not the end of its
    sends: each is then written alone, so one send's failure (a retried client id, a file
    taken meanwhile, a channel gone) is its own and the others are stored as they would
    have been one by one. A write in flight is the only thing a send waits for: with no
    other send, it is written at once, as before.

    One per channel and application (``group_commit``); threads and green threads alike
    (the primitives are ``threading``'s, which eventlet makes green).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Send] = []
        self._writing = False

    @property
    def waiting(self) -> int:
        """How many sends are queued for the next batch (monitoring, tests)."""
        with self._lock:
            return len(self._queue)

    @property
    def writing(self) -> bool:
        """Whether a batch is being written."""
        with self._lock:
            return self._writing

    def submit(self, send: _Send) -> None:
        """Write ``send`` (with whatever arrives with it); its ``row`` or ``error`` says
        how it went."""
        with self._lock:
            self._queue.append(send)
            leading = not self._writing
            self._writing = True
        if leading:
            time.sleep(0)  # let the sends that arrived with this one join the batch
        else:
            send.done.wait()
            if not send.lead:
                return
        self._write_next()

    def _write_next(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            _write_batch(batch)
        finally:
            for send in batch:
                if not send.done.is_set():  # interrupted: never leave a sender waiting
                    send.error = send.error or RuntimeError("the send was not written")
                    send.done.set()
            with self._lock:
                if self._queue:
                    self._queue[0].lead = True
                    self._queue[0].done.set()
                else:
                    self._writing = False


_WRITERS_LOCK = threading.Lock()


def group_commit(channel_id: int) -> _GroupCommit:
    """The group commit of one channel (per application). One per channel, not one for
    all: a send waits only for its own channel's write, so a channel whose row another
    transaction holds (PostgreSQL) does not stall the sends of every other channel."""
    with _WRITERS_LOCK:
        writers = current_app.extensions.setdefault("network.group_commit", {})
        writer = writers.get(channel_id)
        if writer is None:
            writer = writers[channel_id] = _GroupCommit()
    return writer


def _write_batch(batch: list[_Send]) -> None:
    """Write ``batch`` in one transaction and publish it; when that fails, write each
    send alone, so that a failure is its own send's."""
    try:
        published = _store(batch)
    except Exception as exc:
        db.session.rollback()
        if len(batch) > 1:
            for send in batch:
                _write_batch([send])
            return
        batch[0].error = exc
        batch[0].done.set()
        return
    for send in batch:
        send.done.set()
    published()


def _store(batch: list[_Send]) -> Callable[[], None]:
    """The statements of a batch, committed; returns what publishes it."""
    session = db.session
    # Every send of a batch is to one channel (one group commit per channel); the
    # sender's read transaction ended before it queued (``post_message``), so the write
    # transaction starts with the UPDATE that takes the channel's next numbers.
    channel_id = batch[0].channel_id
    with _kept_after_commit():
        last = session.execute(_TAKE_SEQS, {"channel_id": channel_id, "n": len(batch)}).scalar_one()
        now = utcnow()
        # One look at the key files for the batch: its bodies and their search terms are
        # sealed under the same key (a rotation meanwhile is noticed by the next batch,
        # and the rotation's final passes seal again whatever this one wrote).
        ring = crypto.keyring()
        rows = []
        for seq, send in enumerate(batch, start=last - len(batch) + 1):
            context = _context(channel_id, seq)
            rows.append(
                {
                    "channel_id": send.channel_id,
                    "seq": seq,
                    "author_id": send.author_id,
                    "client_id": send.client_id,
                    "parent_id": send.parent_id,
                    "body_encrypted": crypto.encrypt_text(send.text, context=context, ring=ring),
                    "html_encrypted": crypto.encrypt_text(
                        send.html, context=context + ":html", ring=ring
                    ),
                    "created_at": now,
                    "edited_at": None,
                    "deleted_at": None,
                }
            )
        # Core inserts, and objects made from the rows they wrote: the ORM's unit of work
        # cost as much as every other statement of a send together.
        ids = session.execute(_INSERT_MESSAGES, rows).scalars().all()
        payloads: list[dict[str, Any]] = []
        notified: list[Notification] = []
        for send, row, message_id in zip(batch, rows, ids, strict=True):
            row["id"] = message_id
            message = Message(**row)
            make_transient_to_detached(message)
            session.add(message)
            linked = attachments.by_ids(send.file_ids)
            attachments.link(message, linked)
            notified.extend(notifications.on_message_posted(message, send.text))
            # The payload from what the send holds: the HTML it rendered (not decrypted
            # again), the author and parent read before, the files it linked.
            payloads.append(
                {
                    "channel_id": send.channel_id,
                    "id": message_id,
                    "seq": row["seq"],
                    "client_id": send.client_id,
                    "parent_id": send.parent_id,
                    "parent": send.parent_payload,
                    "reply_count": 0,
                    "author": send.author_payload,
                    "html": send.html,
                    "created_at": now.isoformat(),
                    "edited_at": None,
                    "deleted": False,
                    "attachments": [_attachment(a) for a in linked],
                }
            )
        search.index_new_messages(
            (
                (row["id"], send.channel_id, send.text)
                for send, row in zip(batch, rows, strict=True)
            ),
            ring,
        )
        _mark_read_many([(row["channel_id"], row["author_id"], row["seq"]) for row in rows])
        session.commit()
    for send, row in zip(batch, rows, strict=True):
        send.row = row

    def publish() -> None:
        emits: list[tuple[str, dict[str, Any], str]] = []
        for payload in payloads:
            channel_id, seq = payload["channel_id"], payload["seq"]
            author_id = payload["author"]["id"] if payload["author"] else None
            log.info(
                "user %s posted message %s (seq %s) in channel %s",
                author_id,
                payload["id"],
                seq,
                channel_id,
            )
            emits.append(("message", payload, events.channel_room(channel_id)))
            activity = {
                "channel_id": channel_id,
                "seq": seq,
                "author_id": author_id,
                "parent_id": payload["parent_id"],
            }
            emits.append(("channel_activity", activity, events.watch_room(channel_id)))
        events.publish_many(emits)  # in order, and with Redis in one queue message
        notifications.publish(notified)

    return publish


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

    The caller's session is committed first (what it had written goes in before the
    message); the message itself is written by the group commit (``_GroupCommit``).
    """
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise ValidationError(
            fields={"client_id": _("A client id of 8 to 64 letters, digits, - or _ is required.")}
        )
    # The write check first (it includes the read check: one membership lookup on the
    # common path); get_channel then tells "no such channel" from "read-only".
    found = (
        _load(channel_id)
        if isinstance(channel_id, int) and not isinstance(channel_id, bool)
        else None
    )
    writable = found is not None and policy.can_write_channel(author, found)
    channel = found if writable and found is not None else get_channel(channel_id, author)
    channel_id, author_id = channel.id, author.id
    # A retry is not looked up first (a query on every send for a rare case): a retry
    # whose message is stored fails the unique (author, client id) at the insert, whose
    # rollback also gives its number back. Only when the checks refuse the send (the
    # channel archived since, the files already linked to the stored message) is the
    # stored message looked for, so a retry is answered as before.
    try:
        if not writable:
            raise Forbidden(_("You can read this channel but not write in it."))
        text = _clean_body(body, allow_empty=attachment_ids not in (None, []))
        parent = None
        if parent_id is not None:
            parent = db.session.get(Message, parent_id) if is_database_int(parent_id) else None
            if parent is None or parent.channel_id != channel_id:
                raise ValidationError(
                    fields={"parent_id": _("Reply to a message of this channel.")}
                )
            # Threads are one level deep: a reply to a reply joins the same thread.
            parent_id = parent.parent_id or parent.id
            if parent.id != parent_id:
                parent = db.session.get(Message, parent_id)
        html = _render(text)
        files = attachments.pending_for_send(attachment_ids, author, channel)
        if not text and not files:
            raise ValidationError(fields={"body": _("The message is empty.")})
    except (Forbidden, ValidationError):
        previous = _stored_send(author_id, client_id, channel_id)
        if previous is not None:
            return previous, False
        raise
    send = _Send(
        channel_id=channel_id,
        author_id=author_id,
        client_id=client_id,
        parent_id=parent_id,
        text=text,
        html=html,
        file_ids=[f.id for f in files],
        author_payload=_author(author),
        parent_payload=(
            {"id": parent.id, "seq": parent.seq, "author": _author(parent.author)}
            if parent is not None
            else None
        ),
    )
    with _kept_after_commit():
        db.session.commit()  # this session's reads end here (and any write of the caller)
    group_commit(channel_id).submit(send)
    if send.error is not None:
        if isinstance(send.error, IntegrityError):
            # A retry of a stored send (or the same send twice at once: the other won).
            db.session.rollback()
            previous = _stored_send(author_id, client_id, channel_id)
            if previous is not None:
                return previous, False
        raise send.error
    if send.row is None:  # the writer neither stored nor refused it: never expected
        raise RuntimeError("the send was not written")
    message = Message(**send.row)
    make_transient_to_detached(message)
    db.session.add(message)
    # What the writer changed is read again when next asked: the channel's number, the
    # files now linked, the read marker, the new message's files.
    for changed in (channel, *files):
        db.session.expire(changed)
    db.session.expire(message, ["attachments"])
    _expire_read_markers(channel_id, author_id)
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
        if value is not None and (not is_database_int(value) or value < 0):
            errors[name] = _("Use a whole number of 0 or more.")
    if not is_database_int(limit) or not 1 <= limit <= MAX_PAGE:
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
    channel_id: Any,
    user: Any,
    after_seq: Any,
    limit: int,
    enter_room: Callable[[Channel], None],
    leave_room: Callable[[Channel], None] | None = None,
) -> tuple[Channel, list[Message]]:
    """Admit the user to a channel's live messages and give what they missed after
    ``after_seq``.

    ``enter_room`` subscribes the connection *before* the missed messages are read, and
    the read runs in a transaction begun after that (a transaction reads from the snapshot
    of its first query): a message committed meanwhile then arrives live, or both live and
    here (the client keeps one per seq), never in neither. Access is asked again in that
    fresh transaction: a removal committed between the first check and entering the room
    (whose eviction found the socket not yet in it) makes the join fail and
    ``leave_room`` undo it. Raises ``NotFound``, ``ValidationError``.
    """
    channel = get_channel(channel_id, user)
    if not is_database_int(after_seq) or after_seq < 0:
        raise ValidationError(fields={"after_seq": _("Use a whole number of 0 or more.")})
    enter_room(channel)
    db.session.commit()  # end the snapshot taken before entering the room (expires all)
    if not policy.can_read_channel(user, channel):
        if leave_room is not None:
            leave_room(channel)
        raise NotFound(_("No such channel."))
    return channel, list_messages(channel, user, after_seq=after_seq, limit=limit)


def get_message(message_id: Any, user: Any) -> Message:
    """A message of a channel the user may read; raises ``NotFound`` otherwise."""
    message = db.session.get(Message, message_id) if is_database_int(message_id) else None
    if message is None or not policy.can_read_channel(user, message.channel):
        raise NotFound(_("No such message."))
    return message


def thread(message_id: Any, user: Any) -> tuple[Message, list[Message]]:
    """A thread: its first message (the one given, or the one it replies to) and the
    replies in ``seq`` order. Raises ``NotFound``."""
    message = get_message(message_id, user)
    root = get_message(message.parent_id, user) if message.parent_id else message
    replies = list(
        db.session.scalars(
            select(Message)
            .where(Message.parent_id == root.id)
            .options(selectinload(Message.author))
            .order_by(Message.seq)
        )
    )
    if root.channel.kind == ChannelKind.CASE.value:
        seqs = [root.seq, *(m.seq for m in replies)]
        audit.record_channel_event(
            user, "case_channel.read", root.channel, first_seq=min(seqs), last_seq=max(seqs)
        )
        db.session.commit()
    return root, replies


def can_edit(user: Any, message: Message) -> bool:
    """The author edits their own message while they may write in the channel."""
    return (
        policy.is_signed_in(user)
        and message.author_id == user.id
        and not message.is_deleted
        and policy.can_write_channel(user, message.channel)
    )


def can_delete(user: Any, message: Message) -> bool:
    """A message not yet deleted that the policy lets ``user`` delete."""
    return not message.is_deleted and policy.can_delete_message(user, message)


def edit_message(message_id: Any, user: Any, body: Any) -> Message:
    """The author edits their message; the earlier text is kept as a revision, people
    newly mentioned are notified, and every open page replaces the message (same seq).

    Raises ``NotFound``, ``Forbidden``, ``ValidationError``.
    """
    message = get_message(message_id, user)
    if message.author_id != user.id or message.is_deleted:
        raise Forbidden(_("Only the author can edit a message."))
    if not policy.can_write_channel(user, message.channel):
        raise Forbidden(_("You can read this channel but not write in it."))
    text = _clean_body(body, allow_empty=bool(message.attachments))
    html = _render(text)
    context = _context(message.channel_id, message.seq)
    db.session.add(MessageRevision(message_id=message.id, body_encrypted=message.body_encrypted))
    message.body_encrypted = crypto.encrypt_text(text, context=context)
    message.html_encrypted = crypto.encrypt_text(html, context=context + ":html")
    message.edited_at = utcnow()
    search.index_message(message, text)
    notified = notifications.on_message_edited(message, text)
    db.session.commit()
    log.info("user %s edited message %s", user.id, message.id)
    events.publish("message", message_payload(message), message.channel.room)
    notifications.publish(notified)
    return message


def delete_message(message_id: Any, user: Any) -> Message:
    """Delete a message: a tombstone stays in the sequence; its text, files, history and
    the notifications about it go. Raises ``NotFound``, ``Forbidden``."""
    message = get_message(message_id, user)
    if not policy.can_delete_message(user, message):
        if message.channel.archived_at is not None:
            raise Forbidden(_("This channel is archived."))
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
        told = set()
        for notification in db.session.scalars(
            select(Notification).where(Notification.message_id == message.id)
        ):
            if notification.read_at is None:
                told.add(notification.user_id)
            db.session.delete(notification)
        log.info("user %s deleted message %s", user.id, message.id)
        db.session.commit()
        events.publish("message", message_payload(message), message.channel.room)
        for user_id in told:
            notifications.publish_counts(user_id)
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


def revision_payloads(message: Message, user: Any) -> list[dict[str, Any]]:
    """``revisions`` as the API carries them: each earlier text rendered safely."""
    return [
        {"html": _render(text) if text else "", "replaced_at": when.isoformat()}
        for text, when in revisions(message, user)
    ]


_MARK_READ: dict[str, Any] = {}


def _mark_read_statement(dialect: str) -> Any:
    """The upsert that moves a read marker forward, built once per dialect: a Core
    statement on the table with bound parameters (built and run through the ORM each
    time, it cost ten times the statement itself)."""
    statement = _MARK_READ.get(dialect)
    if statement is None:
        table = ReadMarker.__table__
        upsert = (sqlite_insert if dialect == "sqlite" else postgresql_insert)(table).values(
            channel_id=bindparam("channel_id"),
            user_id=bindparam("user_id"),
            last_read_seq=bindparam("seq"),
        )
        statement = _MARK_READ[dialect] = upsert.on_conflict_do_update(
            index_elements=[table.c.channel_id, table.c.user_id],
            set_={"last_read_seq": upsert.excluded.last_read_seq},
            where=table.c.last_read_seq < upsert.excluded.last_read_seq,
        )
    return statement


def _expire_read_markers(channel_id: int, user_id: int) -> None:
    """A read marker the session holds is read again when next asked (it was moved by a
    statement behind the session's back)."""
    for held in list(db.session.identity_map.values()):
        if isinstance(held, ReadMarker) and (held.channel_id, held.user_id) == (
            channel_id,
            user_id,
        ):
            db.session.expire(held)


def _mark_read(channel_id: int, user_id: int, seq: int) -> None:
    """Move the read marker forward to ``seq`` (never back), creating it if need be: one
    statement on SQLite and PostgreSQL (an upsert on the unique (channel, user)). A
    marker the session holds is read again when next asked."""
    _mark_read_many([(channel_id, user_id, seq)])


def _mark_read_many(marks: list[tuple[int, int, int]]) -> None:
    """``_mark_read`` for several ``(channel, user, seq)`` at once (the authors of a batch
    of sends): one statement for them all on SQLite and PostgreSQL."""
    highest: dict[tuple[int, int], int] = {}
    for channel_id, user_id, seq in marks:
        # One row per marker: PostgreSQL refuses an upsert that touches a row twice.
        highest[channel_id, user_id] = max(seq, highest.get((channel_id, user_id), seq))
    dialect = db.session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql") and highest:
        db.session.execute(
            _mark_read_statement(dialect),
            [{"channel_id": c, "user_id": u, "seq": seq} for (c, u), seq in highest.items()],
        )
        for channel_id, user_id in highest:
            _expire_read_markers(channel_id, user_id)
        return
    for (channel_id, user_id), seq in highest.items():
        marker = db.session.scalar(
            select(ReadMarker).where(
                ReadMarker.channel_id == channel_id, ReadMarker.user_id == user_id
            )
        )
        if marker is None:
            db.session.add(ReadMarker(channel_id=channel_id, user_id=user_id, last_read_seq=seq))
        elif seq > marker.last_read_seq:
            marker.last_read_seq = seq


def mark_read(channel: Channel, user: Any, seq: Any) -> int:
    """Move the user's read marker forward to ``seq`` (never back); returns the marker.

    Also marks read the person's notifications of the channel up to ``seq`` (their pages
    update their badges), and in a case channel records when they read each message by
    others (certified receipts; the authors see it live).
    """
    if not policy.can_read_channel(user, channel):
        raise Forbidden()
    if not is_database_int(seq) or seq < 0:
        raise ValidationError(fields={"seq": _("Use a whole number of 0 or more.")})
    seq = min(seq, channel.last_seq)
    channel_id, user_id, is_case = channel.id, user.id, channel.kind == ChannelKind.CASE.value
    _mark_read(channel_id, user_id, seq)
    cleared = notifications.mark_channel_read(user_id, channel_id, seq)
    receipts = _record_receipts(channel_id, user_id, seq, read=True) if is_case else []
    db.session.commit()
    if cleared:
        notifications.publish_counts(user_id)
    _publish_receipts(receipts)
    marker = db.session.scalar(
        select(ReadMarker.last_read_seq).where(
            ReadMarker.channel_id == channel_id, ReadMarker.user_id == user_id
        )
    )
    return int(marker or 0)


def mark_thread_read(channel: Channel, user: Any, shown: list[Message]) -> None:
    """A thread was shown on its own page: the notifications about its messages are read
    (the channel's read marker stays: the rest of the channel was not shown)."""
    if not policy.can_read_channel(user, channel):
        raise Forbidden()
    ids = [m.id for m in shown]
    changed = db.session.execute(
        update(Notification)
        .where(
            Notification.user_id == user.id,
            Notification.message_id.in_(ids or [-1]),
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if changed:
        notifications.publish_counts(user.id)


# --- Certified receipts (case channels) -----------------------------------------------------


def _record_receipts(channel_id: int, user_id: int, seq: int, *, read: bool) -> list[int]:
    """Receipts of ``user_id`` for the messages by others up to ``seq``: delivered (first
    time only) and, when ``read``, read. In the current transaction; returns the ids of
    the messages whose receipt changed."""
    now = utcnow()
    pending = db.session.execute(
        select(Message.id, MessageReceipt)
        .outerjoin(
            MessageReceipt,
            and_(MessageReceipt.message_id == Message.id, MessageReceipt.user_id == user_id),
        )
        .where(
            Message.channel_id == channel_id,
            Message.seq <= seq,
            Message.author_id.is_not(None),
            Message.author_id != user_id,
            Message.deleted_at.is_(None),
            or_(
                MessageReceipt.id.is_(None),
                MessageReceipt.delivered_at.is_(None),
                and_(MessageReceipt.read_at.is_(None), read),
            ),
        )
    ).all()
    changed = []
    for message_id, receipt in pending:
        if receipt is None:
            receipt = MessageReceipt(message_id=message_id, user_id=user_id)
            db.session.add(receipt)
        receipt.delivered_at = receipt.delivered_at or now
        if read:
            receipt.read_at = receipt.read_at or now
        changed.append(message_id)
    return changed


def record_delivery(channel_id: Any, user: Any, seq: Any) -> int:
    """The client of ``user`` holds the messages of a channel up to ``seq`` (live or
    caught up). In a case channel each message by others gets its delivery time, once;
    their authors are told live. Returns how many receipts changed.

    Raises ``NotFound``, ``ValidationError``.
    """
    channel = get_channel(channel_id, user)
    if not is_database_int(seq) or seq < 0:
        raise ValidationError(fields={"seq": _("Use a whole number of 0 or more.")})
    if channel.kind != ChannelKind.CASE.value:
        return 0
    channel_id, user_id, seq = channel.id, user.id, min(seq, channel.last_seq)
    db.session.commit()  # the write transaction starts with the receipts
    for attempt in range(2):
        try:
            changed = _record_receipts(channel_id, user_id, seq, read=False)
            db.session.commit()
            break
        except IntegrityError:
            # Two tabs of the same person confirmed the same messages at once.
            db.session.rollback()
            if attempt:
                raise
    _publish_receipts(changed)
    return len(changed)


def _receipt_rows(message: Message) -> list[tuple[User, Any, Any]]:
    """(member, delivered_at, read_at) for every member of the channel but the author."""
    receipts = {
        r.user_id: r
        for r in db.session.scalars(
            select(MessageReceipt).where(MessageReceipt.message_id == message.id)
        )
    }
    members = db.session.scalars(
        select(User)
        .join(ChannelMember, ChannelMember.user_id == User.id)
        .where(ChannelMember.channel_id == message.channel_id, User.id != message.author_id)
    )
    rows = []
    for member in members:
        receipt = receipts.get(member.id)
        rows.append(
            (
                member,
                receipt.delivered_at if receipt else None,
                receipt.read_at if receipt else None,
            )
        )
    rows.sort(key=lambda r: i18n.fold(r[0].name))
    return rows


def receipt_summary(rows: list[tuple[User, Any, Any]]) -> dict[str, int]:
    return {
        "members": len(rows),
        "delivered": sum(1 for _u, delivered, _r in rows if delivered),
        "read": sum(1 for _u, _d, read_at in rows if read_at),
    }


def receipts(message_id: Any, user: Any) -> tuple[Message, list[tuple[User, Any, Any]]]:
    """The certified receipts of a case-channel message, for its sender only.
    Raises ``NotFound`` (not readable) or ``Forbidden`` (not the sender's)."""
    message = get_message(message_id, user)
    if not policy.can_view_receipts(user, message):
        raise Forbidden(_("Only the sender of a case-channel message sees its receipts."))
    return message, _receipt_rows(message)


def receipts_payload(message: Message, rows: list[tuple[User, Any, Any]]) -> dict[str, Any]:
    return {
        "message_id": message.id,
        "channel_id": message.channel_id,
        "seq": message.seq,
        "items": [
            {
                "user": _author(member),
                "delivered_at": delivered.isoformat() if delivered else None,
                "read_at": read_at.isoformat() if read_at else None,
            }
            for member, delivered, read_at in rows
        ],
        **receipt_summary(rows),
    }


def receipt_summaries(channel: Channel, user: Any, messages: list[Message]) -> dict[int, Any]:
    """For the channel page: the summary of each of the user's own messages in a case
    channel (how many members received and read it)."""
    own = [m.id for m in messages if m.author_id == getattr(user, "id", None)]
    if channel.kind != ChannelKind.CASE.value or not own:
        return {}
    members = len([m for m in channel.members if m.user_id != user.id])
    counts = db.session.execute(
        select(
            MessageReceipt.message_id,
            func.count(MessageReceipt.delivered_at),
            func.count(MessageReceipt.read_at),
        )
        .where(MessageReceipt.message_id.in_(own))
        .group_by(MessageReceipt.message_id)
    )
    found = {mid: {"members": members, "delivered": 0, "read": 0} for mid in own}
    for message_id, delivered, read_count in counts.all():
        found[message_id] = {"members": members, "delivered": delivered, "read": read_count}
    return found


def _publish_receipts(message_ids: list[int]) -> None:
    """Tell each author whose messages got a receipt (after commit): one ``receipt``
    event per message, to the author's user room only, and only while the policy lets
    them see it (an author removed from the case no longer learns who reads it)."""
    if not message_ids:
        return
    for message in db.session.scalars(select(Message).where(Message.id.in_(message_ids))):
        if message.author is None or not policy.can_view_receipts(message.author, message):
            continue
        events.publish(
            "receipt",
            receipts_payload(message, _receipt_rows(message)),
            events.user_room(message.author_id),
        )
