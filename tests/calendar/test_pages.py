"""Calendar pages through the HTTP client: views, the event page in two time zones, forms
that refuse bad input with field messages and write nothing, access per role."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from network.models.calendar import Event
from network.services import calendar as cal
from tests.calendar.conftest import event_data
from tests.conftest import csrf_token


def _html(response) -> str:
    return response.get_data(as_text=True)


def test_list_month_and_week_views_show_the_event(client, login, people, make_event):
    make_event(title="Plenary in Dakar")
    login(client, people.member)
    assert "Plenary in Dakar" in _html(client.get("/calendar/?past=1"))
    month = client.get("/calendar/month?month=2027-03")
    assert month.status_code == 200
    assert "Plenary in Dakar" in _html(month)
    assert "Plenary in Dakar" in _html(client.get("/calendar/week?date=2027-03-10"))
    assert "Plenary in Dakar" not in _html(client.get("/calendar/week?date=2027-03-17"))
    filtered = client.get("/calendar/month?month=2027-03&kind=workshop")
    assert "Plenary in Dakar" not in _html(filtered)
    assert client.get("/calendar/month?month=2027-03&kind=party").status_code == 400


def test_outsider_does_not_see_a_members_event(client, login, people, make_event):
    event = make_event(title="Members only")
    login(client, people.outsider)
    assert "Members only" not in _html(client.get("/calendar/month?month=2027-03"))
    assert client.get(f"/calendar/events/{event.id}").status_code == 404
    assert client.get(f"/calendar/events/{event.id}.ics").status_code == 404


def test_public_event_is_seen_signed_out(client, people, make_event):
    event = make_event(title="Open webinar", visibility="public", kind="webinar")
    page = client.get(f"/calendar/events/{event.id}")
    assert page.status_code == 200
    assert "Open webinar" in _html(page)
    assert "meet.example.org" not in _html(page)  # the link is for registered people


def test_event_page_shows_both_times_and_a_warning_when_they_differ(
    client, login, db, people, make_event
):
    event = make_event(timezone="Europe/Madrid", starts_at="2027-07-01T10:00",
                       ends_at="2027-07-01T12:00")  # fmt: skip
    people.member.timezone = "America/Bogota"
    db.session.commit()
    login(client, people.member)
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "3:00" in html
    assert "(America/Bogota)" in html
    assert "10:00" in html
    assert "(Europe/Madrid)" in html
    assert "tz-warning" in html
    people.member.timezone = "Europe/Madrid"
    db.session.commit()
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "tz-warning" not in html


def test_create_form_saves_an_event(client, login, db, people):
    login(client, people.coordinator)
    token = csrf_token(client, "/calendar/events/new")
    response = client.post("/calendar/events/new", data={**event_data(), "csrf_token": token})
    assert response.status_code == 302
    event = db.session.scalar(select(Event).order_by(Event.id.desc()))
    assert response.headers["Location"].endswith(f"/calendar/events/{event.id}")


def test_create_form_with_bad_input_shows_errors_and_writes_nothing(client, login, db, people):
    login(client, people.coordinator)
    before = db.session.scalar(select(func.count()).select_from(Event))
    token = csrf_token(client, "/calendar/events/new")
    response = client.post(
        "/calendar/events/new",
        data={
            **event_data(ends_at="2027-03-09T09:00", timezone="Nowhere/City"),
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    html = _html(response)
    assert "Unknown time zone" in html
    assert 'value="WACAP plenary"' in html  # the input is kept
    assert db.session.scalar(select(func.count()).select_from(Event)) == before


def test_members_cannot_open_the_create_or_edit_forms(client, login, people, make_event):
    event = make_event()
    login(client, people.member)
    assert client.get("/calendar/events/new").status_code == 403
    assert client.get(f"/calendar/events/{event.id}/edit").status_code == 403
    token = csrf_token(client, f"/calendar/events/{event.id}")
    assert (
        client.post(f"/calendar/events/{event.id}/cancel", data={"csrf_token": token}).status_code
        == 403
    )


def test_edit_and_cancel_through_the_pages(client, login, people, make_event):
    event = make_event()
    login(client, people.secretariat)
    form = _html(client.get(f"/calendar/events/{event.id}/edit"))
    assert 'value="2027-03-10T09:00"' in form  # local time in the event's zone
    token = csrf_token(client, f"/calendar/events/{event.id}/edit")
    data = {**cal.form_values(event), "title": "Renamed", "csrf_token": token}
    data["registration_open"] = "1"
    assert client.post(f"/calendar/events/{event.id}/edit", data=data).status_code == 302
    assert event.title == "Renamed"
    assert event.sequence == 1
    client.post(f"/calendar/events/{event.id}/cancel", data={"csrf_token": token})
    assert event.status == "cancelled"
    assert "This event is cancelled." in _html(client.get(f"/calendar/events/{event.id}"))


def test_overlapping_session_from_the_page_is_refused(client, login, people, make_event):
    event = make_event()
    item = cal.add_agenda_item(people.coordinator, event, "1", "Opening")
    cal.add_session(people.coordinator, event, "2027-03-10", "10:00", "13:00", [item.id])
    login(client, people.coordinator)
    token = csrf_token(client, f"/calendar/events/{event.id}")
    response = client.post(
        f"/calendar/events/{event.id}/sessions",
        data={"day": "2027-03-10", "start": "12:00", "end": "14:00", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "overlaps the session" in _html(response)
    assert len(event.sessions) == 1


def test_register_page_flow_participants_and_statistics(client, login, people, make_event):
    event = make_event()
    login(client, people.member)
    token = csrf_token(client, f"/calendar/events/{event.id}")
    response = client.post(
        f"/calendar/events/{event.id}/register",
        data={"status": "accepted", "attendance_mode": "remote", "country": "SN",
              "capital_based": "1", "csrf_token": token},
    )  # fmt: skip
    assert response.status_code == 302
    participants = _html(client.get(f"/calendar/events/{event.id}/participants"))
    assert "Senegal" in participants
    assert people.member.name in participants
    assert "Check in" not in participants  # members do not check people in
    stats = client.get(f"/calendar/events/{event.id}/statistics")
    assert stats.status_code == 200
    assert "participation-chart" in _html(stats)
    assert "<table" in _html(stats)


def test_upcoming_events_on_the_home_page(client, login, people, make_event):
    from datetime import UTC, datetime, timedelta

    soon = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT10:00")
    later = (datetime.now(UTC) + timedelta(days=3)).strftime("%Y-%m-%dT12:00")
    make_event(title="Soon in Abuja", starts_at=soon, ends_at=later)
    login(client, people.member)
    html = _html(client.get("/"))
    assert "Upcoming events" in html
    assert "Soon in Abuja" in html


def test_planner_page_lists_local_times(client, login, people, make_event):
    event = make_event(status="draft")
    cal.invite(people.coordinator, event, [people.member.id])
    login(client, people.coordinator)
    html = _html(
        client.get(
            f"/calendar/events/{event.id}/planner?first_day=2027-03-08&last_day=2027-03-09&minutes=60"
        )
    )
    assert people.member.name in html
    assert "within office hours" in html
    assert client.get(f"/calendar/events/{event.id}/planner?minutes=5").status_code == 422


def test_feed_settings_regenerate_revoke(client, login, people, make_event):
    make_event(title="In my feed")
    login(client, people.member)
    token = csrf_token(client, "/calendar/settings")
    page = _html(
        client.post("/calendar/settings", data={"action": "regenerate", "csrf_token": token})
    )
    url = re.search(r'value="(http[^"]+/calendar/feed/[^"]+\.ics)"', page).group(1)
    path = url.split("localhost", 1)[-1]
    feed = client.get(path)
    assert feed.status_code == 200
    assert b"In my feed" in feed.data
    token = csrf_token(client, "/calendar/settings")
    client.post("/calendar/settings", data={"action": "regenerate", "csrf_token": token})
    assert client.get(path).status_code == 404  # the old address no longer works
    client.post("/calendar/settings", data={"action": "revoke", "csrf_token": token})
    assert cal.profile_of(people.member).feed_secret_hash is None


def test_no_one_out_of_reach_appears_in_an_organisers_event(client, login, people):
    """An IberRed coordinator cannot harvest a WACAP member's name and address by
    inviting their account id to an event of their own (participants, .ics)."""
    event = cal.create_event(
        people.other_coordinator,
        event_data(networks=["iberred"], visibility="invited", status="draft"),
    )
    login(client, people.other_coordinator)
    page = f"/calendar/events/{event.id}"
    response = client.post(
        f"{page}/invitations",
        data={"csrf_token": csrf_token(client, page), "users": [str(people.member.id)]},
    )
    assert response.status_code == 422
    assert "Some of the people chosen cannot be invited." in _html(response)
    ics = client.get(f"{page}.ics").get_data(as_text=True).replace("\r\n ", "")
    assert people.member.email not in ics
    assert people.member.name not in ics
