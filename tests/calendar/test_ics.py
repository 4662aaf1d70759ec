"""Calendar files parsed back with ``icalendar``: VTIMEZONE per TZID, stable UID, SEQUENCE
raised on change, STATUS:CANCELLED, RRULE/EXDATE, ATTENDEE with PARTSTAT."""

from __future__ import annotations

from icalendar import Calendar

from network.services import calendar as cal


def _parse(data: bytes) -> Calendar:
    return Calendar.from_ical(data)


def _events(parsed: Calendar) -> list:
    return list(parsed.walk("VEVENT"))


def test_event_ics_has_vtimezone_local_times_and_attendees(client, login, people, make_event):
    event = make_event(timezone="Europe/Madrid", starts_at="2027-07-01T10:00",
                       ends_at="2027-07-01T12:00")  # fmt: skip
    cal.register(people.member, event, {"country": "SN", "status": "tentative"})
    cal.invite(people.coordinator, event, [people.observer.id])
    login(client, people.coordinator)
    response = client.get(f"/calendar/events/{event.id}.ics")
    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    parsed = _parse(response.data)
    assert [str(tz["TZID"]) for tz in parsed.walk("VTIMEZONE")] == ["Europe/Madrid"]
    (vevent,) = _events(parsed)
    assert str(vevent["UID"]) == event.uid
    assert vevent["SEQUENCE"] == 0
    assert str(vevent["STATUS"]) == "CONFIRMED"
    start = vevent["DTSTART"]
    assert start.params["TZID"] == "Europe/Madrid"
    assert (start.dt.hour, start.dt.minute, str(start.dt.tzinfo)) == (10, 0, "Europe/Madrid")
    attendees = vevent["ATTENDEE"]
    statuses = {str(a).removeprefix("mailto:"): a.params["PARTSTAT"] for a in attendees}
    assert statuses == {people.member.email: "TENTATIVE", people.observer.email: "NEEDS-ACTION"}


def test_uid_is_stable_and_sequence_rises_then_cancelled(client, login, people, make_event):
    event = make_event()
    login(client, people.coordinator)
    first = _events(_parse(client.get(f"/calendar/events/{event.id}.ics").data))[0]
    cal.update_event(people.coordinator, event, {**cal.form_values(event), "title": "Moved"})
    cal.cancel_event(people.coordinator, event)
    last = _events(_parse(client.get(f"/calendar/events/{event.id}.ics").data))[0]
    assert str(last["UID"]) == str(first["UID"])
    assert (first["SEQUENCE"], last["SEQUENCE"]) == (0, 2)
    assert str(last["STATUS"]) == "CANCELLED"
    assert str(last["SUMMARY"]) == "Moved"


def test_recurring_event_carries_rrule_and_exdate(client, login, people, make_event):
    event = make_event(timezone="Europe/Madrid", starts_at="2027-03-16T10:00",
                       ends_at="2027-03-16T11:00", rrule="FREQ=WEEKLY;COUNT=4",
                       exception_dates="2027-03-30")  # fmt: skip
    login(client, people.member)
    (vevent,) = _events(_parse(client.get(f"/calendar/events/{event.id}.ics").data))
    assert vevent["RRULE"]["FREQ"] == ["WEEKLY"]
    assert vevent["RRULE"]["COUNT"] == [4]
    exdate = vevent["EXDATE"]
    exdates = [d.dt for d in (exdate if isinstance(exdate, list) else [exdate])[0].dts]
    # After the change to summer time, still 10:00 in Madrid.
    assert [(d.date().isoformat(), d.hour, str(d.tzinfo)) for d in exdates] == [
        ("2027-03-30", 10, "Europe/Madrid")
    ]


def test_feed_has_one_vtimezone_per_zone_and_only_visible_events(db, client, people, make_event):
    make_event(title="Madrid", timezone="Europe/Madrid")
    make_event(title="Dakar", timezone="Africa/Dakar")
    make_event(title="Lima", timezone="America/Lima", visibility="invited")
    wacap_event = make_event()
    iberred = {**cal.form_values(wacap_event), "networks": ["iberred"], "title": "IberRed only"}
    cal.create_event(people.other_coordinator, iberred)
    secret = cal.regenerate_feed(people.member)
    response = client.get(f"/calendar/feed/{secret}.ics")
    parsed = _parse(response.data)
    titles = sorted(str(e["SUMMARY"]) for e in _events(parsed))
    assert titles == ["Dakar", "Madrid", "WACAP plenary"]
    assert sorted(str(t["TZID"]) for t in parsed.walk("VTIMEZONE")) == [
        "Africa/Dakar",
        "Europe/Madrid",
    ]
    assert client.get("/calendar/feed/not-a-secret.ics").status_code == 404
    cal.revoke_feed(people.member)
    assert client.get(f"/calendar/feed/{secret}.ics").status_code == 404


def test_every_vtimezone_has_an_observance_even_without_clock_changes(
    client, login, people, make_event
):
    login(client, people.member)
    for zone_name in ("America/Bogota", "Africa/Lagos", "UTC", "Europe/Madrid"):
        event = make_event(timezone=zone_name)
        parsed = _parse(client.get(f"/calendar/events/{event.id}.ics").data)
        (vtimezone,) = parsed.walk("VTIMEZONE")
        assert str(vtimezone["TZID"]) == zone_name
        parts = vtimezone.walk("STANDARD") + vtimezone.walk("DAYLIGHT")
        assert parts, zone_name
        # The parsed calendar gives the event the right UTC instant back.
        (vevent,) = _events(parsed)
        assert vevent["DTSTART"].dt.astimezone(event.starts_at.tzinfo) == event.starts_at
