"""Live consultations: create, invite ("knock"), admit, remove, end, presence, the
transcript, and the WebRTC signalling rules. Access is asked of ``network.policy``.

A consultation owns a channel of kind ``consultation``. Its messages go through
``messaging.post_message`` like any other channel's (so the transcript is the channel's
history); the channel's members are the people admitted to the room; ending the
consultation archives the channel, which makes it read-only through the channels' own
policy.

Presence
    Who is in which room is kept in this process (``Presence``): a socket enters with
    ``consultation_join`` and leaves with ``consultation_leave`` or its disconnect. A
    client that crashes leaves when Engine.IO stops hearing its heartbeat
    (``SOCKET_PING_INTERVAL`` + ``SOCKET_PING_TIMEOUT``, 10 s + 10 s by default). A person
    is "in" while one of their sockets is; the first socket in writes a join line into the
    transcript and the last one out a leave line. Like the sockets themselves, presence
    belongs to the process the sockets are connected to (sticky sessions); a deployment
    with several processes would keep it in Redis.

Removal from the case
    A person removed from a case (or leaving it) loses its rooms in the same transaction:
    an ``after_delete`` hook sees the case-channel membership row go, marks them removed in the
    case's consultations and takes them out of the rooms' channels; after the commit their
    sockets leave the rooms, on every process, and their page is told.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import Session, object_session, selectinload

from network import events, i18n, policy
from network.errors import Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.cases import Case
from network.models.consultations import (
    Consultation,
    ConsultationParticipant,
    ConsultationStatus,
    ParticipantState,
)
from network.models.messaging import Channel, ChannelKind, ChannelMember, Message
from network.models.people import User
from network.security import is_database_int
from network.services import audit, calendar, mail, messaging

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_PARTICIPANTS = 20
# Peer-to-peer media is a full mesh: each person sends their stream to every other one.
MAX_MESH = 4
MAX_SIGNAL_BYTES = 32 * 1024
SIGNAL_TYPES = frozenset({"ready", "offer", "answer", "candidate", "bye"})
# Join and leave lines are messages of the room's channel with a client id of this form;
# pages show them as lines of the transcript in the reader's language.
JOIN_PREFIX = "cjoin-"
LEAVE_PREFIX = "cleave-"


# --- Presence (this process) ------------------------------------------------------------


@dataclass
class _Person:
    name: str
    sids: dict[str, bool] = field(default_factory=dict)  # sid -> away

    @property
    def away(self) -> bool:
        return all(self.sids.values())


class Presence:
    """Who is in each room and who waits at its door, by socket."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[int, dict[int, _Person]] = {}
        self._doors: dict[int, dict[int, _Person]] = {}

    def _place(self, waiting: bool) -> dict[int, dict[int, _Person]]:
        return self._doors if waiting else self._rooms

    def arrive(self, cid: int, user: Any, sid: str, *, waiting: bool = False) -> bool:
        """Record a socket; True when it is the person's first one there."""
        with self._lock:
            people = self._place(waiting).setdefault(cid, {})
            person = people.get(user.id)
            first = person is None or not person.sids
            if person is None:
                person = people[user.id] = _Person(user.name)
            person.sids[sid] = False
            return first

    def depart(self, cid: int, user_id: int, sid: str, *, waiting: bool = False) -> bool:
        """Forget a socket; True when it was the person's last one there."""
        with self._lock:
            people = self._place(waiting).get(cid, {})
            person = people.get(user_id)
            if person is None or sid not in person.sids:
                return False
            del person.sids[sid]
            if person.sids:
                return False
            del people[user_id]
            return True

    def depart_everywhere(self, sid: str) -> list[tuple[int, int, bool]]:
        """A socket closed: ``(consultation id, user id, waiting)`` for each place where it
        was the person's last socket."""
        gone = []
        with self._lock:
            for waiting, place in ((False, self._rooms), (True, self._doors)):
                for cid, people in place.items():
                    for uid, person in list(people.items()):
                        if sid in person.sids:
                            del person.sids[sid]
                            if not person.sids:
                                del people[uid]
                                gone.append((cid, uid, waiting))
        return gone

    def drop(self, cid: int, user_id: int) -> list[str]:
        """Take a person out of a room and its door; returns their sockets there."""
        with self._lock:
            sids: list[str] = []
            for place in (self._rooms, self._doors):
                person = place.get(cid, {}).pop(user_id, None)
                if person is not None:
                    sids.extend(person.sids)
            return sids

    def set_away(self, cid: int, user_id: int, sid: str, away: bool) -> bool:
        with self._lock:
            person = self._rooms.get(cid, {}).get(user_id)
            if person is None or sid not in person.sids:
                return False
            person.sids[sid] = away
            return True

    def sids_of(self, cid: int, user_id: int) -> list[str]:
        with self._lock:
            person = self._rooms.get(cid, {}).get(user_id)
            return list(person.sids) if person else []

    def is_in(self, cid: int, user_id: int, sid: str | None = None) -> bool:
        with self._lock:
            person = self._rooms.get(cid, {}).get(user_id)
            return person is not None and (sid is None or sid in person.sids)

    def snapshot(self, cid: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """``(online, waiting)``: people as ``{"id", "name", "away"}``, by name."""
        with self._lock:
            online = [
                {"id": uid, "name": p.name, "away": p.away}
                for uid, p in self._rooms.get(cid, {}).items()
            ]
            waiting = [
                {"id": uid, "name": p.name, "away": False}
                for uid, p in self._doors.get(cid, {}).items()
            ]
        key = lambda p: (i18n.fold(p["name"]), p["id"])  # noqa: E731
        return sorted(online, key=key), sorted(waiting, key=key)

    def clear(self) -> None:
        with self._lock:
            self._rooms.clear()
            self._doors.clear()


class _PresenceOfTheApp:
    """``presence``: the running application's record of who is in each room — in Redis
    when ``NETWORK_REDIS_URL`` is set, so that every server process sees the same people
    (``network.realtime.presence``), else in this process."""

    def __init__(self) -> None:
        self._local = Presence()  # without Redis (and outside an application)

    def _backend(self) -> Any:
        if not has_app_context() or not current_app.config.get("REDIS_URL"):
            return self._local
        found = current_app.extensions.get("network.presence")
        if found is None:
            from network.realtime.presence import RedisPresence, heartbeat_loop

            found = RedisPresence(
                events.redis_client(),
                current_app.config["REDIS_CHANNEL"],
                current_app.config["PRESENCE_HOST_TTL"],
            )
            # Recorded before the first Redis call (a call lets other greenlets run).
            current_app.extensions["network.presence"] = found
            app = current_app._get_current_object()  # type: ignore[attr-defined]

            def changed(cid: int) -> None:
                with app.app_context():
                    consultation = db.session.get(Consultation, cid)
                    if consultation is not None:
                        publish_presence(cid, consultation.channel_id)
                    db.session.remove()

            from network.extensions import socketio

            socketio.start_background_task(heartbeat_loop, found, changed, socketio.sleep)
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self._backend(), name)


presence: Any = _PresenceOfTheApp()


def presence_payload(consultation_id: int, channel_id: int) -> dict[str, Any]:
    """The ``presence`` event (API.md): ``{"channel_id", "online": [user…]}``, with the
    consultation's id and the people waiting at the door."""
    online, waiting = presence.snapshot(consultation_id)
    return {
        "channel_id": channel_id,
        "consultation_id": consultation_id,
        "online": online,
        "waiting": waiting,
    }


def publish_presence(consultation_id: int, channel_id: int) -> None:
    events.publish(
        "presence", presence_payload(consultation_id, channel_id), room_of(consultation_id)
    )


def room_of(consultation_id: int) -> str:
    return f"consultation:{consultation_id}"


# --- Reading ----------------------------------------------------------------------------


def find(consultation_id: Any) -> Consultation | None:
    """A consultation by id, without any access check (the caller asks the policy)."""
    if not is_database_int(consultation_id):
        raise ValidationError(fields={"consultation_id": _("A consultation id is a whole number.")})
    return db.session.get(Consultation, consultation_id)


def get_consultation(consultation_id: Any, user: Any) -> Consultation:
    """A consultation the user may read (its page); any other answers 404. Raises
    ``NotFound`` or ``ValidationError``."""
    found = find(consultation_id)
    if found is None or not policy.can_read_consultation(user, found):
        if found is not None and policy.is_signed_in(user):
            audit.record(
                user,
                "consultation.access_denied",
                "consultation",
                found.id,
                network_id=found.channel.network_id,
                channel_id=found.channel_id,
            )
            db.session.commit()
        raise NotFound(_("No such consultation."))
    return found


def _moderated(consultation_id: Any, actor: Any) -> Consultation:
    found = get_consultation(consultation_id, actor)
    if not policy.can_moderate_consultation(actor, found):
        if found.is_ended:
            raise ValidationError(_("This consultation has ended."))
        raise Forbidden(_("Only the moderator does this."))
    return found


def status_label(status: str) -> str:
    return {
        ConsultationStatus.SCHEDULED: _("Scheduled"),
        ConsultationStatus.LIVE: _("Live"),
        ConsultationStatus.ENDED: _("Ended"),
    }.get(status, status)


def state_label(state: str) -> str:
    return {
        ParticipantState.INVITED: _("Invited"),
        ParticipantState.ADMITTED: _("Admitted"),
        ParticipantState.REMOVED: _("Removed"),
    }.get(state, state)


def consultation_payload(consultation: Consultation, user: Any | None = None) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": consultation.id,
        "channel_id": consultation.channel_id,
        "title": consultation.title,
        "status": consultation.status,
        "case_id": consultation.case_id,
        "calendar_event_id": consultation.calendar_event_id,
        "moderator": (
            {"id": consultation.moderator.id, "name": consultation.moderator.name}
            if consultation.moderator
            else None
        ),
        "scheduled_at": _iso(consultation.scheduled_at),
        "started_at": _iso(consultation.started_at),
        "ended_at": _iso(consultation.ended_at),
        "participants": [
            {"id": p.user_id, "name": p.user.name, "state": p.state}
            for p in consultation.participants
        ],
    }
    if user is not None:
        payload["is_moderator"] = policy.can_moderate_consultation(user, consultation)
    return payload


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def consultations_for_channel(channel: Channel, user: Any) -> list[Consultation]:
    """The consultations started from a case channel or direct conversation that ``user``
    may read, newest first."""
    query = select(Consultation).order_by(Consultation.id.desc())
    case = db.session.scalar(select(Case).where(Case.channel_id == channel.id))
    if case is not None:
        query = query.where(Consultation.case_id == case.id)
    else:
        query = query.where(Consultation.origin_channel_id == channel.id)
    return [c for c in db.session.scalars(query) if policy.can_read_consultation(user, c)]


def consultation_of_channel(channel: Channel) -> Consultation | None:
    """The consultation whose room's channel this is (a consultation channel), or None."""
    if channel.kind != ChannelKind.CONSULTATION.value:
        return None
    return db.session.scalar(select(Consultation).where(Consultation.channel_id == channel.id))


def parse_instant(value: Any, field_name: str) -> datetime | None:
    """An ISO 8601 instant with its offset (API input), as UTC; None when absent."""
    if value in (None, ""):
        return None
    try:
        found = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        found = None
    if found is None or found.tzinfo is None:
        raise ValidationError(
            fields={field_name: _("Give an ISO 8601 date and time with its offset.")}
        )
    return found.astimezone(UTC)


# --- Creating and inviting ---------------------------------------------------------------


def _candidates(actor: Any, case: Case | None, origin: Channel | None) -> dict[int, User]:
    """Who may be invited: the members of the case or conversation it is started from,
    else the people the actor can reach (as for a direct conversation)."""
    if case is not None or origin is not None:
        channel = case.channel if case is not None else origin
        people = db.session.scalars(
            select(User)
            .join(ChannelMember, ChannelMember.user_id == User.id)
            .where(ChannelMember.channel_id == channel.id, User.is_active_account)  # type: ignore[union-attr]
        )
    else:
        people = db.session.scalars(messaging.reachable_people_query(actor))
    return {u.id: u for u in people if u.id != actor.id}


def invitable_people(consultation: Consultation, actor: Any) -> list[User]:
    """People the moderator may still invite (not invited or admitted now), by name."""
    present = {p.user_id for p in consultation.participants if p.state != ParticipantState.REMOVED}
    origin = (
        db.session.get(Channel, consultation.origin_channel_id)
        if consultation.origin_channel_id
        else None
    )
    pool = _candidates(actor, consultation.case, origin)
    found = [
        u
        for u in pool.values()
        if u.id not in present and policy.can_be_invited_to_consultation(u, consultation)
    ]
    return sorted(found, key=lambda u: (i18n.fold(u.name), u.id))


def people_to_start_with(actor: Any, origin: Channel) -> list[User]:
    case = db.session.scalar(select(Case).where(Case.channel_id == origin.id))
    people = _candidates(actor, case, origin)
    return sorted(people.values(), key=lambda u: (i18n.fold(u.name), u.id))


def _check_event_link(actor: Any, calendar_event_id: Any) -> None:
    """The room may be tied to this calendar event: only its organisers do that (else
    anyone could take the room of someone else's event). An event the actor may not see
    answers like a missing one. Raises ``ValidationError``, ``NotFound`` or ``Forbidden``."""
    if not is_database_int(calendar_event_id):
        raise ValidationError(fields={"calendar_event_id": _("An event id is a whole number.")})
    event = calendar.get_event(calendar_event_id, actor)
    if not policy.can_link_consultation_to_event(actor, event):
        raise Forbidden()


def create_consultation(
    actor: Any,
    title: Any,
    participant_ids: Any,
    *,
    case_id: Any = None,
    origin_channel_id: Any = None,
    calendar_event_id: Any = None,
    scheduled_at: datetime | None = None,
    notify: bool = True,
) -> Consultation:
    """Open a consultation with ``actor`` as its moderator and invite the participants
    (each gets a knock, and an e-mail when they have no live connection).

    From a case (``case_id``) or a case channel / direct conversation
    (``origin_channel_id``): the actor writes there and invites its members. Otherwise
    anyone who may start conversations invites people they can reach. A consultation with
    a ``scheduled_at`` in the future opens then (a calendar event's room: pass its
    ``calendar_event_id``, of an event the actor organises); ``notify=False`` knocks
    nobody (demo data). Raises ``ValidationError``, ``Forbidden`` or ``NotFound``.
    """
    from network.services import cases

    case: Case | None = None
    origin: Channel | None = None
    if case_id is not None:
        if not is_database_int(case_id):
            raise ValidationError(fields={"case_id": _("A case id is a whole number.")})
        case = cases.get_case(case_id, actor)
        origin = case.channel
    elif origin_channel_id is not None:
        origin = messaging.get_channel(origin_channel_id, actor)
        case = db.session.scalar(select(Case).where(Case.channel_id == origin.id))
    if origin is not None:
        if not policy.can_start_consultation_from(actor, origin):
            raise Forbidden(
                _("Consultations start from a case or a direct conversation you write in.")
            )
    elif not policy.can_start_consultation(actor):
        raise Forbidden(_("You may not start consultations."))
    if calendar_event_id is not None:
        _check_event_link(actor, calendar_event_id)
    errors: dict[str, str] = {}
    title = title.strip() if isinstance(title, str) else ""
    if not title or len(title) > MAX_TITLE:
        errors["title"] = _("A title of at most %(n)d characters is required.", n=MAX_TITLE)
    try:
        ids = [i for i in messaging._int_ids(participant_ids, "participants") if i != actor.id]
    except ValidationError as error:
        errors.update(error.fields or {})
        ids = []
    allowed = _candidates(actor, case, origin)
    if "participants" not in errors:
        if not ids:
            errors["participants"] = _("Invite at least one other person.")
        elif len(ids) + 1 > MAX_PARTICIPANTS:
            errors["participants"] = _(
                "A consultation has at most %(n)d people.", n=MAX_PARTICIPANTS
            )
        elif any(i not in allowed for i in ids):
            errors["participants"] = _("Some of the people chosen cannot be invited.")
    if errors:
        raise ValidationError(fields=errors)
    now = utcnow()
    later = scheduled_at is not None and scheduled_at > now
    channel = Channel(
        kind=ChannelKind.CONSULTATION.value,
        name=title,
        network_id=case.network_id if case is not None else None,
        created_by_id=actor.id,
    )
    channel.members = [ChannelMember(user_id=actor.id, is_owner=True)]
    db.session.add(channel)
    db.session.flush()
    consultation = Consultation(
        title=title,
        channel_id=channel.id,
        case_id=case.id if case is not None else None,
        origin_channel_id=origin.id if origin is not None else None,
        calendar_event_id=calendar_event_id,
        moderator_id=actor.id,
        status=(ConsultationStatus.SCHEDULED if later else ConsultationStatus.LIVE).value,
        scheduled_at=scheduled_at,
        started_at=None if later else now,
    )
    consultation.participants = [
        ConsultationParticipant(
            user_id=actor.id,
            state=ParticipantState.ADMITTED.value,
            invited_by_id=actor.id,
            admitted_at=now,
        )
    ] + [ConsultationParticipant(user_id=i, invited_by_id=actor.id) for i in ids]
    db.session.add(consultation)
    db.session.flush()
    audit.record_channel_event(actor, "channel.create", channel, kind=channel.kind)
    audit.record(
        actor,
        "consultation.create",
        "consultation",
        consultation.id,
        after={"title": title, "case_id": consultation.case_id, "invited": ids},
        network_id=channel.network_id,
        channel_id=channel.id,
    )
    db.session.commit()
    log.info("user %s opened consultation %s", actor.id, consultation.id)
    # A scheduled room knocks when it opens (``open_due``); the calendar invites before.
    for i in ids if notify and not later else []:
        knock(consultation, allowed[i], actor)
    return consultation


def _room_url(consultation: Consultation, external: bool = False) -> str:
    # The room's route (blueprints/consultations.py), also from outside a request.
    path = f"/consultations/{consultation.id}"
    if external:
        return current_app.config["BASE_URL"].rstrip("/") + path
    return path


def knock(consultation: Consultation, person: User, actor: Any) -> None:
    """Tell an invited person, wherever they are in the app (``knock`` on their sockets),
    or by e-mail when they have no live connection."""
    events.publish(
        "knock",
        {
            "consultation_id": consultation.id,
            "title": consultation.title,
            "from": {"id": actor.id, "name": actor.name},
            "url": _room_url(consultation),
        },
        events.user_room(person.id),
    )
    if events.is_connected(person.id):
        return
    with i18n_locale(person):
        subject = _("Consultation: %(title)s", title=consultation.title)
        body = _(
            "%(name)s invites you to a live consultation, “%(title)s”.\n\nJoin it here: %(url)s\n",
            name=actor.name,
            title=consultation.title,
            url=_room_url(consultation, external=True),
        )
    try:
        mail.send_mail(person.email, subject, body)
    except OSError:
        log.exception("could not e-mail the invitation of consultation %s", consultation.id)


def i18n_locale(person: User) -> Any:
    """The person's own language for what is written to them (e-mail)."""
    from flask_babel import force_locale

    return force_locale(getattr(person, "locale", None) or "en")


def invite(consultation_id: Any, actor: Any, user_ids: Any) -> list[User]:
    """Invite more people (or again, someone removed); each gets a knock."""
    consultation = _moderated(consultation_id, actor)
    ids = messaging._int_ids(user_ids, "participants")
    allowed = {u.id: u for u in invitable_people(consultation, actor)}
    if not ids or any(i not in allowed for i in ids):
        raise ValidationError(
            fields={"participants": _("Some of the people chosen cannot be invited.")}
        )
    current = [p for p in consultation.participants if p.state != ParticipantState.REMOVED]
    if len(current) + len(ids) > MAX_PARTICIPANTS:
        raise ValidationError(
            fields={
                "participants": _("A consultation has at most %(n)d people.", n=MAX_PARTICIPANTS)
            }
        )
    for i in ids:
        participant = consultation.participant_for(i)
        if participant is None:
            consultation.participants.append(
                ConsultationParticipant(user_id=i, invited_by_id=actor.id)
            )
        else:
            participant.state = ParticipantState.INVITED.value
            participant.invited_at, participant.removed_at = utcnow(), None
            participant.invited_by_id = actor.id
    audit.record(
        actor,
        "consultation.invite",
        "consultation",
        consultation.id,
        after={"invited": ids},
        network_id=consultation.channel.network_id,
        channel_id=consultation.channel_id,
    )
    db.session.commit()
    for i in ids:
        knock(consultation, allowed[i], actor)
    return [allowed[i] for i in ids]


def admit(consultation_id: Any, actor: Any, user_id: Any) -> None:
    """Let an invited person in: they become a member of the room's channel."""
    consultation = _moderated(consultation_id, actor)
    participant = consultation.participant_for(user_id) if is_database_int(user_id) else None
    if participant is None or participant.state != ParticipantState.INVITED.value:
        raise ValidationError(fields={"user_id": _("This person is not waiting to be admitted.")})
    if not policy.can_be_invited_to_consultation(participant.user, consultation):
        raise ValidationError(fields={"user_id": _("This person may no longer join.")})
    participant.state = ParticipantState.ADMITTED.value
    participant.admitted_at = utcnow()
    if consultation.channel.member_for(participant.user_id) is None:
        db.session.add(
            ChannelMember(
                channel_id=consultation.channel_id,
                user_id=participant.user_id,
                added_by_id=actor.id,
            )
        )
    audit.record_channel_event(
        actor, "channel.member_add", consultation.channel, user_id=participant.user_id
    )
    db.session.commit()
    log.info("user %s admitted user %s to consultation %s", actor.id, user_id, consultation.id)
    events.publish(
        "consultation_admitted",
        {"consultation_id": consultation.id, "channel_id": consultation.channel_id},
        events.user_room(participant.user_id),
    )


def remove(consultation_id: Any, actor: Any, user_id: Any) -> None:
    """Take someone out of the room: out of its channel, their sockets out of its rooms at
    once, and told (``consultation_removed``). Not the moderator themselves."""
    consultation = _moderated(consultation_id, actor)
    if user_id == actor.id:
        raise ValidationError(fields={"user_id": _("End the consultation instead.")})
    participant = consultation.participant_for(user_id) if is_database_int(user_id) else None
    if participant is None or participant.state == ParticipantState.REMOVED.value:
        raise NotFound(_("This person is not in the consultation."))
    participant.state = ParticipantState.REMOVED.value
    participant.removed_at = utcnow()
    db.session.execute(
        delete(ChannelMember).where(
            ChannelMember.channel_id == consultation.channel_id,
            ChannelMember.user_id == user_id,
        )
    )
    audit.record_channel_event(
        actor, "channel.member_remove", consultation.channel, user_id=user_id
    )
    db.session.commit()
    log.info("user %s removed user %s from consultation %s", actor.id, user_id, consultation.id)
    cut_off(consultation.id, consultation.channel_id, user_id)


def cut_off(consultation_id: int, channel_id: int, user_id: int) -> None:
    """After the commit that took ``user_id`` out of a room: their sockets leave its rooms
    on every process, their page is told, and the others see them gone. Uses no
    database (it also runs right after a commit, from the case-removal hook)."""
    presence.drop(consultation_id, user_id)
    events.evict(
        user_id,
        [events.channel_room(channel_id), events.watch_room(channel_id), room_of(consultation_id)],
    )
    events.publish(
        "consultation_removed",
        {"consultation_id": consultation_id, "channel_id": channel_id},
        events.user_room(user_id),
    )
    publish_presence(consultation_id, channel_id)


def end(consultation_id: Any, actor: Any) -> Consultation:
    """End the consultation: its channel is archived (read-only), everyone is told."""
    consultation = _moderated(consultation_id, actor)
    now = utcnow()
    consultation.status = ConsultationStatus.ENDED.value
    consultation.ended_at = now
    consultation.channel.archived_at = consultation.channel.archived_at or now
    audit.record(
        actor,
        "consultation.end",
        "consultation",
        consultation.id,
        network_id=consultation.channel.network_id,
        channel_id=consultation.channel_id,
    )
    db.session.commit()
    log.info("user %s ended consultation %s", actor.id, consultation.id)
    payload = {"consultation_id": consultation.id, "channel_id": consultation.channel_id}
    events.publish("consultation_ended", payload, room_of(consultation.id))
    for participant in consultation.participants:
        if participant.state == ParticipantState.INVITED.value:
            events.publish("consultation_ended", payload, events.user_room(participant.user_id))
    return consultation


# --- Entering the room ---------------------------------------------------------------------


def _open(consultation: Consultation) -> bool:
    """Open a scheduled room now (once, whoever gets there first) and knock its invited
    people; False when it was opened already."""
    now = utcnow()
    opened = db.session.execute(
        update(Consultation)
        .where(
            Consultation.id == consultation.id,
            Consultation.status == ConsultationStatus.SCHEDULED.value,
        )
        .values(status=ConsultationStatus.LIVE.value, started_at=now)
    ).rowcount
    db.session.commit()
    if not opened:
        return False
    log.info("consultation %s opened at its start time", consultation.id)
    actor = consultation.moderator
    if actor is not None:
        for participant in consultation.participants:
            if participant.state == ParticipantState.INVITED.value:
                knock(consultation, participant.user, actor)
    return True


def open_if_due(consultation: Consultation) -> None:
    """A scheduled consultation opens at its start time (the first person to come, or
    ``open_due`` on the server's clock, whichever is first)."""
    if consultation.status != ConsultationStatus.SCHEDULED.value:
        return
    if consultation.scheduled_at is not None and consultation.scheduled_at > utcnow():
        raise ValidationError(
            _(
                "This consultation opens at %(when)s.",
                when=i18n.format_instant(consultation.scheduled_at, "short"),
            )
        )
    _open(consultation)
    db.session.refresh(consultation)


def open_due() -> int:
    """Open every scheduled room whose start time has come (the server runs this every
    ``CONSULTATION_OPEN_SECONDS``); returns how many were opened."""
    due = list(
        db.session.scalars(
            select(Consultation).where(
                Consultation.status == ConsultationStatus.SCHEDULED.value,
                Consultation.scheduled_at <= utcnow(),
            )
        )
    )
    db.session.commit()
    return sum(_open(consultation) for consultation in due)


def entry(consultation_id: Any, user: Any) -> tuple[Consultation, str]:
    """Whether ``user`` comes into the room (``"admitted"``) or waits at its door
    (``"waiting"``). Raises ``NotFound``, ``Forbidden`` or ``ValidationError``."""
    consultation = get_consultation(consultation_id, user)
    if consultation.is_ended:
        raise ValidationError(_("This consultation has ended."))
    open_if_due(consultation)
    if policy.can_join_consultation(user, consultation):
        return consultation, "admitted"
    if policy.can_wait_for_consultation(user, consultation):
        return consultation, "waiting"
    raise Forbidden(_("You are not invited to this consultation."))


def post_line(consultation_id: int, channel_id: int, user: Any, joined: bool) -> None:
    """A join or leave line in the transcript, through the channels' message pipeline.
    Skipped quietly when the person may no longer write there (removed, ended)."""
    prefix = JOIN_PREFIX if joined else LEAVE_PREFIX
    body = _("joined the consultation") if joined else _("left the consultation")
    try:
        messaging.post_message(channel_id, user, f"_{body}_", prefix + uuid.uuid4().hex[:24])
    except (Forbidden, NotFound, ValidationError):
        db.session.rollback()
    except Exception:  # a line is not worth failing the join or the disconnect for
        db.session.rollback()
        log.exception("could not write a presence line in consultation %s", consultation_id)


def line_kind(message: Any) -> str | None:
    """``"join"`` / ``"leave"`` for a presence line, else None."""
    client_id = message["client_id"] if isinstance(message, dict) else message.client_id
    if client_id.startswith(JOIN_PREFIX):
        return "join"
    if client_id.startswith(LEAVE_PREFIX):
        return "leave"
    return None


# --- Signalling ------------------------------------------------------------------------------


def check_signal(data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """Validate a ``signal`` event's shape: ``{"consultation_id", "to": user id, "data":
    {"type": ready|offer|answer|candidate|bye, "sdp"?: str, "candidate"?: {...}}}``."""
    import json

    to = data.get("to")
    payload = data.get("data")
    if not is_database_int(to):
        raise ValidationError(fields={"to": _("Give the id of a person in the room.")})
    if not isinstance(payload, dict) or payload.get("type") not in SIGNAL_TYPES:
        raise ValidationError(fields={"data": _("Not a WebRTC signal.")})
    if set(payload) - {"type", "sdp", "candidate"}:
        raise ValidationError(fields={"data": _("Not a WebRTC signal.")})
    if "sdp" in payload and not isinstance(payload["sdp"], str):
        raise ValidationError(fields={"data": _("Not a WebRTC signal.")})
    candidate = payload.get("candidate")
    if candidate is not None and not _is_candidate(candidate):
        raise ValidationError(fields={"data": _("Not a WebRTC signal.")})
    if len(json.dumps(payload)) > MAX_SIGNAL_BYTES:
        raise ValidationError(fields={"data": _("This signal is too large.")})
    return to, payload


_CANDIDATE_FIELDS = {
    "candidate": str,
    "sdpMid": (str, type(None)),
    "sdpMLineIndex": (int, type(None)),
    "usernameFragment": (str, type(None)),
}


def _is_candidate(value: Any) -> bool:
    """An RTCIceCandidateInit: known fields of the right types only."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("candidate"), str)
        and all(
            key in _CANDIDATE_FIELDS and isinstance(item, _CANDIDATE_FIELDS[key])
            for key, item in value.items()
        )
    )


def signal_targets(consultation: Consultation, sender: Any, sid: str, to: int) -> list[str]:
    """The sockets a signal goes to: those of ``to`` in the room, when both the sender's
    socket and ``to`` are admitted members present in the same live room, and the room
    holds no more than ``MAX_MESH`` people. Raises ``Forbidden`` / ``ValidationError``."""
    if not policy.can_join_consultation(sender, consultation) or not presence.is_in(
        consultation.id, sender.id, sid
    ):
        raise Forbidden(_("Join the consultation first."))
    target = db.session.get(User, to)
    if (
        to == sender.id
        or target is None
        or not policy.can_join_consultation(target, consultation)
        or not presence.is_in(consultation.id, to)
    ):
        raise NotFound(_("This person is not in the consultation."))
    online, _waiting = presence.snapshot(consultation.id)
    if len(online) > MAX_MESH:
        raise ValidationError(
            _("Voice and video work with up to %(n)d people in the room.", n=MAX_MESH)
        )
    return presence.sids_of(consultation.id, to)


def ice_servers() -> list[dict[str, Any]]:
    """STUN/TURN servers for the browsers (``WEBRTC_ICE_SERVERS``); none by default, so no
    outside server is contacted (host candidates work on one network)."""
    servers = current_app.config.get("WEBRTC_ICE_SERVERS") or []
    return list(servers)


# --- The transcript ---------------------------------------------------------------------------


def transcript(consultation_id: Any, user: Any) -> tuple[Consultation, list[Message]]:
    """Every message of the room, in order, for someone who may read the transcript;
    audited (an export of a confidential record)."""
    consultation = get_consultation(consultation_id, user)
    if not policy.can_read_consultation_transcript(user, consultation):
        raise Forbidden(_("The transcript is for the people of the consultation."))
    found = list(
        db.session.scalars(
            select(Message)
            .where(Message.channel_id == consultation.channel_id)
            .order_by(Message.seq)
            .options(selectinload(Message.author))
        )
    )
    audit.record(
        user,
        "consultation.transcript",
        "consultation",
        consultation.id,
        network_id=consultation.channel.network_id,
        channel_id=consultation.channel_id,
    )
    db.session.commit()
    return consultation, found


def transcript_text(consultation: Consultation, found: list[Message], user: Any) -> str:
    """The transcript as plain text, times in the reader's time zone."""
    lines = [
        consultation.title,
        _(
            "Consultation of %(when)s",
            when=i18n.format_instant(consultation.started_at or consultation.created_at, "long"),
        ),
        _("Status: %(status)s", status=status_label(consultation.status)),
        "",
    ]
    for message in found:
        when = i18n.format_instant(message.created_at, "short")
        name = message.author.name if message.author else _("former member")
        kind = line_kind(message)
        if kind == "join":
            lines.append(f"[{when}] " + _("%(name)s joined", name=name))
        elif kind == "leave":
            lines.append(f"[{when}] " + _("%(name)s left", name=name))
        elif message.is_deleted:
            lines.append(f"[{when}] {name}: " + _("(deleted)"))
        else:
            body = messaging.message_body(message).replace("\n", "\n    ")
            lines.append(f"[{when}] {name}: {body}")
    return "\n".join(lines) + "\n"


# --- Removal from a case takes people out of its rooms ---------------------------------------

_DEPARTURES = "consultation_departures"


@event.listens_for(ChannelMember, "after_delete")
def _case_departure(_mapper: Any, connection: Any, member: ChannelMember) -> None:
    """A channel membership row went (removed from a case, or left it): in the same
    transaction, the person leaves the rooms of that case."""
    rooms = connection.execute(
        select(Consultation.id, Consultation.channel_id)
        .join(Case, Case.id == Consultation.case_id)
        .where(Case.channel_id == member.channel_id)
    ).all()
    if not rooms:
        return
    session = object_session(member)
    for consultation_id, room_channel_id in rooms:
        connection.execute(
            update(ConsultationParticipant)
            .where(
                ConsultationParticipant.consultation_id == consultation_id,
                ConsultationParticipant.user_id == member.user_id,
            )
            .values(state=ParticipantState.REMOVED.value, removed_at=utcnow())
        )
        connection.execute(
            delete(ChannelMember).where(
                ChannelMember.channel_id == room_channel_id,
                ChannelMember.user_id == member.user_id,
            )
        )
        if session is not None:
            session.info.setdefault(_DEPARTURES, []).append(
                (consultation_id, room_channel_id, member.user_id)
            )


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    for consultation_id, channel_id, user_id in session.info.pop(_DEPARTURES, []):
        try:
            cut_off(consultation_id, channel_id, user_id)
        except Exception:  # the commit stands; the policy refuses them on their next event
            log.exception("could not cut user %s off consultation %s", user_id, consultation_id)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_DEPARTURES, None)
