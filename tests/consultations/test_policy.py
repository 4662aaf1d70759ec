"""The consultation predicates of ``network/policy.py`` for every kind of person around a
case's room: the moderator, an admitted member, an invited person at the door, a person
the moderator removed (still in the case), a member of the case who was not invited, a
contact point, a coordinator and an administrator of the network outside the case, a
member of another network, and nobody signed in; then the same after the room ended."""

from __future__ import annotations

import pytest

from network import policy
from network.services import consultations

PREDICATES = (
    "can_read_consultation",
    "can_read_consultation_transcript",
    "can_join_consultation",
    "can_wait_for_consultation",
    "can_moderate_consultation",
)
# Columns in the order of PREDICATES: read, transcript, join, wait, moderate.
# fmt: off
LIVE = {
    "moderator":     (1, 1, 1, 0, 1),
    "admitted":      (1, 1, 1, 0, 0),
    "invited":       (1, 1, 0, 1, 0),  # transcript: a member of the case reads the record
    "removed":       (1, 1, 0, 0, 0),  # removed from the room, still in the case
    "case_member":   (1, 1, 0, 0, 0),
    "bystander":     (0, 0, 0, 0, 0),
    "coordinator":   (0, 0, 0, 0, 0),
    "admin":         (0, 0, 0, 0, 0),
    "outsider":      (0, 0, 0, 0, 0),
    "anonymous":     (0, 0, 0, 0, 0),
}
ENDED = {
    "moderator":     (1, 1, 0, 0, 0),
    "admitted":      (1, 1, 0, 0, 0),
    "invited":       (1, 1, 0, 0, 0),
    "removed":       (1, 1, 0, 0, 0),
    "case_member":   (1, 1, 0, 0, 0),
    "bystander":     (0, 0, 0, 0, 0),
    "coordinator":   (0, 0, 0, 0, 0),
    "admin":         (0, 0, 0, 0, 0),
    "outsider":      (0, 0, 0, 0, 0),
    "anonymous":     (0, 0, 0, 0, 0),
}
# fmt: on


@pytest.fixture
def people(desk, make_user):  # type: ignore[no-untyped-def]
    from network.services import messaging

    invited = make_user("contact_point", desk.network)
    removed = make_user("contact_point", desk.network)
    case_member = make_user("contact_point", desk.network)
    messaging.add_members(
        desk.case.channel_id, desk.owner, [invited.id, removed.id, case_member.id]
    )
    room = consultations.create_consultation(
        desk.owner, "Matrix", [desk.member.id, invited.id, removed.id], case_id=desk.case.id
    )
    consultations.admit(room.id, desk.owner, desk.member.id)
    consultations.admit(room.id, desk.owner, removed.id)
    consultations.remove(room.id, desk.owner, removed.id)
    return room, {
        "moderator": desk.owner,
        "admitted": desk.member,
        "invited": invited,
        "removed": removed,
        "case_member": case_member,
        "bystander": desk.bystander,
        "coordinator": desk.coordinator,
        "admin": desk.admin,
        "outsider": desk.outsider,
        "anonymous": None,
    }


def _answers(room, person):  # type: ignore[no-untyped-def]
    return tuple(int(getattr(policy, name)(person, room)) for name in PREDICATES)


def test_the_live_room_answers_the_matrix(people):
    room, who = people
    got = {name: _answers(room, person) for name, person in who.items()}
    assert got == LIVE


def test_the_ended_room_answers_the_matrix(people, desk):
    room, who = people
    consultations.end(room.id, desk.owner)
    got = {name: _answers(room, person) for name, person in who.items()}
    assert got == ENDED


def test_leaving_the_case_takes_every_right_away(people, desk):
    from network.services import messaging

    room, who = people
    for name in ("admitted", "invited", "case_member"):
        messaging.remove_member(desk.case.channel_id, desk.owner, who[name].id)
        assert _answers(room, who[name]) == (0, 0, 0, 0, 0), name


def test_nobody_changes_the_room_channel_through_the_channel_operations(people):
    """The room's people come and go only through the consultation (invite, admit,
    remove): the generic channel operations refuse everyone, the moderator included."""
    room, who = people
    for name, person in who.items():
        assert not policy.can_manage_channel_members(person, room.channel), name
        assert not policy.can_leave_channel(person, room.channel), name
        assert not policy.can_be_added_to_channel(person, room.channel), name
    assert policy.can_manage_channel(who["moderator"], room.channel)  # archive, retention
