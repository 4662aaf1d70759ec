"""Consultations through the service and the policy: opening from a case or a direct
conversation, who may be invited, admit, remove, end (read-only), the transcript, the
knock by e-mail, and a person removed from the case losing the room at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from network import policy
from network.errors import Forbidden, NotFound, ValidationError
from network.extensions import db
from network.models.consultations import ConsultationStatus, ParticipantState
from network.models.messaging import ChannelKind
from network.services import consultations, messaging
from tests.messaging.conftest import client_id


def _open(desk, **extra):  # type: ignore[no-untyped-def]
    return consultations.create_consultation(
        desk.owner, "Before refusing", [desk.member.id], case_id=desk.case.id, **extra
    )


def test_a_consultation_from_a_case_owns_a_consultation_channel(desk):
    found = _open(desk)
    assert found.status == ConsultationStatus.LIVE.value
    assert found.started_at is not None
    assert found.channel.kind == ChannelKind.CONSULTATION.value
    assert found.case_id == desk.case.id
    assert found.moderator_id == desk.owner.id
    assert found.channel.network_id == desk.network.id
    states = {p.user_id: p.state for p in found.participants}
    assert states == {desk.owner.id: "admitted", desk.member.id: "invited"}
    # The moderator is in the room's channel; the invitee only once admitted.
    assert policy.can_join_consultation(desk.owner, found)
    assert not policy.can_join_consultation(desk.member, found)
    assert policy.can_wait_for_consultation(desk.member, found)
    assert policy.is_consultation_moderator(desk.owner, found)


@pytest.mark.parametrize("who", ["bystander", "coordinator", "admin", "outsider"])
def test_only_the_case_people_open_one_and_are_invited(desk, who):
    person = desk.role(who)
    with pytest.raises((NotFound, Forbidden)):
        consultations.create_consultation(person, "X", [desk.owner.id], case_id=desk.case.id)
    with pytest.raises(ValidationError) as error:
        consultations.create_consultation(desk.owner, "X", [person.id], case_id=desk.case.id)
    assert "participants" in error.value.fields


def test_the_title_and_at_least_one_person_are_required(desk):
    with pytest.raises(ValidationError) as error:
        consultations.create_consultation(desk.owner, " ", [], case_id=desk.case.id)
    assert set(error.value.fields) == {"title", "participants"}


@pytest.mark.parametrize("who", ["bystander", "coordinator", "admin", "outsider"])
def test_people_outside_the_case_do_not_see_the_room(desk, who):
    found = _open(desk)
    person = desk.role(who)
    assert not policy.can_read_consultation(person, found)
    assert not policy.can_join_consultation(person, found)
    with pytest.raises(NotFound):
        consultations.get_consultation(found.id, person)


def test_admit_remove_and_end(desk):
    found = _open(desk)
    with pytest.raises(Forbidden):
        consultations.admit(found.id, desk.member, desk.member.id)
    consultations.admit(found.id, desk.owner, desk.member.id)
    assert policy.can_join_consultation(desk.member, found)
    message, _created = messaging.post_message(found.channel_id, desk.member, "Yes", client_id())
    assert message.seq == 1
    consultations.remove(found.id, desk.owner, desk.member.id)
    db.session.expire_all()
    assert found.participant_for(desk.member.id).state == ParticipantState.REMOVED.value
    assert not policy.can_join_consultation(desk.member, found)
    assert not policy.can_read_channel(desk.member, found.channel)
    # Still a member of the case: the record stays readable with the case.
    assert policy.can_read_consultation_transcript(desk.member, found)
    consultations.end(found.id, desk.owner)
    db.session.expire_all()
    assert found.is_ended
    assert found.channel.archived_at is not None
    with pytest.raises(Forbidden):
        messaging.post_message(found.channel_id, desk.owner, "Too late", client_id())
    with pytest.raises(ValidationError):
        consultations.entry(found.id, desk.owner)
    with pytest.raises(ValidationError):
        consultations.admit(found.id, desk.owner, desk.member.id)


def test_a_person_removed_from_the_case_loses_the_room_at_once(desk):
    found = _open(desk)
    consultations.admit(found.id, desk.owner, desk.member.id)
    messaging.remove_member(desk.case.channel_id, desk.owner, desk.member.id)
    db.session.expire_all()
    assert found.participant_for(desk.member.id).state == ParticipantState.REMOVED.value
    assert found.channel.member_for(desk.member.id) is None
    assert not policy.can_read_consultation(desk.member, found)
    with pytest.raises(NotFound):
        consultations.entry(found.id, desk.member)


def test_the_transcript_holds_messages_and_presence_lines(desk, app):
    found = _open(desk)
    consultations.admit(found.id, desk.owner, desk.member.id)
    consultations.post_line(found.id, found.channel_id, desk.member, joined=True)
    messaging.post_message(found.channel_id, desk.member, "The request is complete.", client_id())
    consultations.post_line(found.id, found.channel_id, desk.member, joined=False)
    with app.test_request_context():
        consultation, messages = consultations.transcript(found.id, desk.owner)
        text = consultations.transcript_text(consultation, messages, desk.owner)
    assert [consultations.line_kind(m) for m in messages] == ["join", None, "leave"]
    assert f"{desk.member.name} joined" in text
    assert f"{desk.member.name}: The request is complete." in text
    assert f"{desk.member.name} left" in text
    # An invitee who was never admitted sees the door, not the transcript.
    other = consultations.create_consultation(
        desk.owner, "Second", [desk.member.id], case_id=desk.case.id
    )
    messaging.remove_member(desk.case.channel_id, desk.owner, desk.member.id)
    assert not policy.can_read_consultation_transcript(desk.member, other)


def test_an_invitee_without_a_live_connection_gets_an_e_mail(desk, app):
    outbox = Path(app.config["MAIL_OUTBOX"])
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    _open(desk)
    sent = [p.read_text() for p in set(outbox.glob("*.eml")) - before]
    assert len(sent) == 1
    assert desk.member.email in sent[0]
    assert "Before refusing" in sent[0]
    assert "/consultations/" in sent[0]


def test_a_scheduled_consultation_opens_at_its_start(desk):
    from datetime import timedelta

    from network.models.base import utcnow

    found = _open(desk, scheduled_at=utcnow() + timedelta(hours=1))
    assert found.status == ConsultationStatus.SCHEDULED.value
    with pytest.raises(ValidationError):
        consultations.entry(found.id, desk.owner)
    found.scheduled_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    consultation, state = consultations.entry(found.id, desk.owner)
    assert state == "admitted"
    assert consultation.status == ConsultationStatus.LIVE.value


def test_from_a_direct_conversation(desk):
    direct = messaging.create_direct_conversation(desk.owner, [desk.bystander.id])
    found = consultations.create_consultation(
        desk.owner, "Informal", [desk.bystander.id], origin_channel_id=direct.id
    )
    assert found.case_id is None
    assert found.origin_channel_id == direct.id
    assert found.channel.network_id is None
    with pytest.raises(ValidationError):
        consultations.create_consultation(
            desk.owner, "Informal", [desk.member.id], origin_channel_id=direct.id
        )
    with pytest.raises(Forbidden):
        consultations.create_consultation(
            desk.owner,
            "Network",
            [desk.member.id],
            origin_channel_id=messaging.ensure_network_channel(desk.network).id,
        )


def test_signals_are_checked_for_shape_and_size():
    good = {"consultation_id": 1, "to": 2, "data": {"type": "offer", "sdp": "v=0"}}
    assert consultations.check_signal(good) == (2, good["data"])
    candidate = {
        "type": "candidate",
        "candidate": {
            "candidate": "candidate:1 1 udp 1 10.0.0.1 5000 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
            "usernameFragment": None,
        },
    }
    assert consultations.check_signal({"to": 3, "data": candidate}) == (3, candidate)
    for bad in (
        {"to": "2", "data": {"type": "offer"}},
        {"to": 2, "data": {"type": "script"}},
        {"to": 2, "data": {"type": "offer", "sdp": 5}},
        {"to": 2, "data": {"type": "offer", "extra": 1}},
        {"to": 2, "data": {"type": "candidate", "candidate": "x"}},
        {"to": 2, "data": {"type": "candidate", "candidate": {"candidate": 1}}},
        {"to": 2, "data": {"type": "candidate", "candidate": {"candidate": "", "x": "y"}}},
        {"to": 2, "data": {"type": "offer", "sdp": "x" * (consultations.MAX_SIGNAL_BYTES + 1)}},
    ):
        with pytest.raises(ValidationError):
            consultations.check_signal(bad)
