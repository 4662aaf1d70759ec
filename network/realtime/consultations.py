"""Socket events of live consultations (API.md's ``presence`` and ``signal``, and the
``consultation_*`` events below). Messages and typing use the channels' own ``send`` and
``typing`` events on the room's channel.

Client → server (each answers ``{"ok": …}``):
    ``consultation_join``   ``{"consultation_id", "after_seq"}`` → admitted: the room's
                            channel is joined as ``join`` does (missed messages after
                            ``after_seq``), presence and ICE servers; invited: waits at the
                            door (``state: "waiting"``) until the moderator admits them
    ``consultation_leave``  ``{"consultation_id"}``
    ``consultation_away``   ``{"consultation_id", "away": bool}`` (the page is hidden)
    ``consultation_invite`` ``{"consultation_id", "user_ids"}`` (moderator)
    ``consultation_admit`` / ``consultation_remove`` ``{"consultation_id", "user_id"}``
    ``consultation_end``    ``{"consultation_id"}`` (moderator)
    ``signal``              ``{"consultation_id", "to", "data"}``: relayed as ``{"consultation_id",
                            "from", "data"}`` to the sockets of ``to`` in the room only

Server → client: ``presence``, ``knock`` (to the invitee's every socket),
``consultation_admitted``, ``consultation_removed``, ``consultation_ended``, ``signal``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request
from flask_socketio import emit, join_room, leave_room

from network.extensions import db, socketio
from network.realtime import handler, run_every, socket_user
from network.realtime.messaging import CATCH_UP_LIMIT
from network.services import consultations, messaging

log = logging.getLogger(__name__)


def _leave(consultation_id: int, channel_id: int, user: Any, sid: str) -> None:
    """A socket leaves a room: the last one of the person writes the leave line."""
    if consultations.presence.depart(consultation_id, user.id, sid):
        consultations.post_line(consultation_id, channel_id, user, joined=False)
        consultations.publish_presence(consultation_id, channel_id)
    elif consultations.presence.depart(consultation_id, user.id, sid, waiting=True):
        consultations.publish_presence(consultation_id, channel_id)


def register() -> None:
    @handler("consultation_join")
    def join(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultation, state = consultations.entry(data.get("consultation_id"), user)
        cid, channel_id = consultation.id, consultation.channel_id
        room = consultations.room_of(cid)
        if state == "waiting":
            join_room(room)
            if consultations.presence.arrive(cid, user, request.sid, waiting=True):
                consultations.publish_presence(cid, channel_id)
            return {"consultation_id": cid, "state": state}
        channel, missed = messaging.join_and_catch_up(
            channel_id,
            user,
            data.get("after_seq", 0),
            CATCH_UP_LIMIT + 1,
            lambda found: join_room(found.room),
            lambda found: leave_room(found.room),
        )
        join_room(room)
        consultations.presence.depart(cid, user.id, request.sid, waiting=True)
        if consultations.presence.arrive(cid, user, request.sid):
            consultations.post_line(cid, channel_id, user, joined=True)
        consultations.publish_presence(cid, channel_id)
        return {
            "consultation_id": cid,
            "state": state,
            "channel_id": channel.id,
            "last_seq": channel.last_seq,
            "purged_through_seq": channel.purged_through_seq,
            "messages": messaging.payloads(missed[:CATCH_UP_LIMIT]),
            "more": len(missed) > CATCH_UP_LIMIT,
            "presence": consultations.presence_payload(cid, channel_id),
            "ice_servers": consultations.ice_servers(),
            "max_mesh": consultations.MAX_MESH,
        }

    @handler("consultation_leave")
    def leave(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultation = consultations.get_consultation(data.get("consultation_id"), user)
        leave_room(consultations.room_of(consultation.id))
        leave_room(consultation.channel.room)
        _leave(consultation.id, consultation.channel_id, user, request.sid)
        return {"consultation_id": consultation.id}

    @handler("consultation_away")
    def away(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultation = consultations.get_consultation(data.get("consultation_id"), user)
        if consultations.presence.set_away(
            consultation.id, user.id, request.sid, bool(data.get("away"))
        ):
            consultations.publish_presence(consultation.id, consultation.channel_id)
        return {}

    @handler("consultation_invite")
    def invite(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        people = consultations.invite(data.get("consultation_id"), user, data.get("user_ids"))
        return {"invited": [p.id for p in people]}

    @handler("consultation_admit")
    def admit(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultations.admit(data.get("consultation_id"), user, data.get("user_id"))
        return {}

    @handler("consultation_remove")
    def remove(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultations.remove(data.get("consultation_id"), user, data.get("user_id"))
        return {}

    @handler("consultation_end")
    def end(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        consultation = consultations.end(data.get("consultation_id"), user)
        return {"status": consultation.status}

    @handler("signal")
    def signal(user: Any, data: dict[str, Any]) -> dict[str, Any]:
        # A room the person may not read answers like a missing one (ids are not probed).
        consultation = consultations.get_consultation(data.get("consultation_id"), user)
        to, payload = consultations.check_signal(data)
        targets = consultations.signal_targets(consultation, user, request.sid, to)
        relayed = {"consultation_id": consultation.id, "from": user.id, "data": payload}
        for sid in targets:
            emit("signal", relayed, to=sid)
        return {"delivered": len(targets)}

    _chain_disconnect()
    _start_opener()


def _start_opener() -> None:
    """In the real server, open scheduled rooms at their start time: every
    ``CONSULTATION_OPEN_SECONDS`` (30 s)."""
    run_every(
        "CONSULTATION_OPEN_SECONDS", 30, consultations.open_due, "open the scheduled consultations"
    )


def _on_disconnect(*_args: Any) -> None:
    """A socket closed (or its heartbeat stopped): it leaves every room it was in."""
    gone = consultations.presence.depart_everywhere(request.sid)
    if not gone:
        return
    try:
        user = socket_user()
    except Exception:  # the account went meanwhile: presence is still put right
        user = None
    from network.models.consultations import Consultation

    for cid, uid, waiting in gone:
        consultation = db.session.get(Consultation, cid)
        if consultation is None:
            continue
        if not waiting and user is not None and user.id == uid:
            consultations.post_line(cid, consultation.channel_id, user, joined=False)
        consultations.publish_presence(cid, consultation.channel_id)


def _chain_disconnect() -> None:
    """Run ``_on_disconnect`` before the connection handler's own disconnect (which
    forgets how the socket authenticated): python-socketio keeps one handler per event."""
    server = socketio.server
    if server is None:
        return
    previous = server.handlers.get("/", {}).get("disconnect")
    socketio.on("disconnect")(_on_disconnect)
    mine = server.handlers["/"]["disconnect"]

    def both(sid: str, *args: Any) -> Any:
        try:
            mine(sid, *args)
        except Exception:
            log.exception("consultation presence: disconnect of %s failed", sid)
        return previous(sid, *args) if previous is not None else None

    server.handlers["/"]["disconnect"] = both
