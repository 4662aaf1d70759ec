"""A bilateral consultation event opens a live consultation room (issues 4 and 6): its
organiser prepares it once; the invited and registered people are invited; the room is
scheduled for the event's start; the event's page leads there."""

from __future__ import annotations

import pytest

from network.errors import Forbidden, ValidationError
from network.services import calendar as cal
from network.services import consultations
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
