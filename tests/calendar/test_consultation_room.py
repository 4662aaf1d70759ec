"""A bilateral consultation event opens a live consultation room (issues 4 and 6): its
organiser prepares it once; the invited and registered people are invited; the room is
scheduled for the event's start; the event's page leads there."""

from __future__ import annotations

import pytest

from network.errors import Forbidden, ValidationError
from network.services import accounts, consultations
from network.services import calendar as cal
from tests.conftest import csrf_token


@pytest.fixture
def bilateral(people, make_event):
    event = make_event(
        title="Bilateral consultation Senegal-Ghana",
        kind="bilateral_consultation",
        format="virtual",
        visibility="invited",
        starts_at="2027-05-04T10:00",
        ends_at="2027-05-04T11:00",
    )
    cal.invite(people.coordinator, event, [people.member.id])
    return event


def test_the_organiser_prepares_the_room_once_for_the_invited(people, bilateral, db):
    room = cal.open_consultation_room(people.coordinator, bilateral)
    assert room.calendar_event_id == bilateral.id
    assert room.status == "scheduled"
    assert room.scheduled_at == bilateral.starts_at
    invited = {p.user_id for p in room.participants if p.user_id != people.coordinator.id}
    assert invited == {people.member.id}
    assert cal.open_consultation_room(people.coordinator, bilateral).id == room.id
    assert consultations.find(room.id) is not None


def test_only_organisers_of_a_bilateral_consultation_prepare_a_room(people, make_event, bilateral):
    with pytest.raises(Forbidden):
        cal.open_consultation_room(people.member, bilateral)
    plenary = make_event(title="Plenary")
    with pytest.raises(ValidationError):
        cal.open_consultation_room(people.coordinator, plenary)
    alone = make_event(title="Nobody invited", kind="bilateral_consultation", visibility="invited")
    with pytest.raises(ValidationError):
        cal.open_consultation_room(people.coordinator, alone)
    assert cal.consultation_of(plenary) is None
    assert cal.consultation_of(alone) is None


def test_the_event_page_leads_to_the_room(people, bilateral, client, login, db):
    login(client, people.coordinator)
    page = f"/calendar/events/{bilateral.id}"
    assert "Prepare the live consultation room" in client.get(page).get_data(as_text=True)
    token = csrf_token(client, page)
    response = client.post(f"{page}/consultation", data={"csrf_token": token})
    room = cal.consultation_of(bilateral)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultations/{room.id}")
    client.post("/logout", data={"csrf_token": csrf_token(client, page)})
    login(client, people.member)
    assert f"/consultations/{room.id}" in client.get(page).get_data(as_text=True)


def _api_room(client, user, event_id, participant):  # type: ignore[no-untyped-def]
    _token, plain = accounts.create_token(user, "consultations")
    return client.post(
        "/api/v1/consultations",
        json={
            "title": "Bilateral consultation Senegal-Ghana",
            "participants": [participant.id],
            "calendar_event_id": event_id,
        },
        headers={"Authorization": f"Bearer {plain}"},
    )


def test_nobody_takes_the_room_of_an_event_they_cannot_see(people, bilateral, client, db):
    """An IberRed contact point cannot tie their own room to WACAP's invitation-only event:
    the event answers as if it did not exist, and the organiser's room stays theirs."""
    hidden = _api_room(client, people.outsider, bilateral.id, people.other_coordinator)
    missing = _api_room(client, people.outsider, bilateral.id + 1000, people.other_coordinator)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json() == missing.get_json()
    assert cal.consultation_of(bilateral) is None
    room = cal.open_consultation_room(people.coordinator, bilateral)
    assert room.moderator_id == people.coordinator.id


def test_only_the_organisers_tie_a_room_to_an_event_they_see(people, bilateral, client, db):
    refused = _api_room(client, people.member, bilateral.id, people.coordinator)
    assert refused.status_code == 403
    assert cal.consultation_of(bilateral) is None
    made = _api_room(client, people.coordinator, bilateral.id, people.member)
    assert made.status_code == 201
    assert cal.consultation_of(bilateral).id == made.get_json()["id"]
