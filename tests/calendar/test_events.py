"""Events through the service: creation, editing, cancellation, bad input that writes
nothing, time zones across daylight-saving changes, recurrence with exceptions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from network.errors import Forbidden, ValidationError
from network.models.calendar import Event
from network.services import calendar as cal
from tests.calendar.conftest import event_data


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def test_coordinator_creates_an_event_stored_in_utc_with_its_zone(db, people, make_event):
    event = make_event(timezone="Europe/Madrid", starts_at="2027-07-01T10:00",
                       ends_at="2027-07-01T12:00")  # fmt: skip
    assert event.starts_at == datetime(2027, 7, 1, 8, 0, tzinfo=UTC)  # CEST = UTC+2
    assert event.timezone == "Europe/Madrid"
    assert event.sequence == 0
    assert [n.slug for n in event.networks] == ["wacap"]
    assert "@" in event.uid


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"ends_at": "2027-03-10T08:00"}, "ends_at"),
        ({"ends_at": "2027-03-10T09:00"}, "ends_at"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"title": ""}, "title"),
        ({"kind": "party"}, "kind"),
        ({"format": "hybrid", "online_url": ""}, "online_url"),
        ({"online_url": "javascript:alert(1)"}, "online_url"),
        ({"starts_at": "not a date"}, "starts_at"),
        ({"networks": []}, "networks"),
        ({"networks": ["iberred"]}, "networks"),
        ({"rrule": "FREQ=SECONDLY"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;COUNT=abc"}, "rrule"),
        ({"rrule": "FREQ=DAILY;COUNT=5000"}, "rrule"),
        ({"rrule": "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11"}, "rrule"),
        ({"rrule": "FREQ=DAILY\nDTSTART:20200101T000000"}, "rrule"),
        ({"exception_dates": "2027-13-45", "rrule": "FREQ=WEEKLY;COUNT=3"}, "exception_dates"),
        # 02:30 does not exist in Madrid on 28 March 2027 (clocks go from 02:00 to 03:00).
        ({"timezone": "Europe/Madrid", "starts_at": "2027-03-28T02:30"}, "starts_at"),
    ],
)
def test_bad_input_is_refused_with_a_field_message_and_nothing_written(
    db, people, overrides, field
):
    before = _count(db)
    with pytest.raises(ValidationError) as caught:
        cal.create_event(people.coordinator, event_data(**overrides))
    assert field in caught.value.fields
    assert caught.value.fields[field]
    assert _count(db) == before


def test_a_member_cannot_create_an_event(db, people):
    with pytest.raises(Forbidden):
        cal.create_event(people.member, event_data())


def test_editing_raises_the_sequence_and_cancelling_raises_it_again(db, people, make_event):
    event = make_event()
    cal.update_event(people.secretariat, event, event_data(title="WACAP plenary (revised)"))
    assert event.sequence == 1
    assert event.title == "WACAP plenary (revised)"
    cal.cancel_event(people.coordinator, event)
    assert event.status == "cancelled"
    assert event.sequence == 2
    assert event.cancelled_at
    with pytest.raises(ValidationError):
        cal.update_event(people.coordinator, event, event_data())
    with pytest.raises(ValidationError):
        cal.cancel_event(people.coordinator, event)


def test_another_networks_coordinator_cannot_edit_or_cancel(db, people, make_event):
    event = make_event()
    for user in (people.other_coordinator, people.member, people.observer):
        with pytest.raises(Forbidden):
            cal.update_event(user, event, event_data(title="x"))
        with pytest.raises(Forbidden):
            cal.cancel_event(user, event)
    assert event.status == "scheduled"
    assert event.sequence == 0


def test_madrid_event_seen_from_lagos_and_bogota_across_the_dst_change(db, people, make_event):
    # A weekly Madrid meeting at 10:00 from mid-March into April: Spain moves to summer
    # time on 28 March 2027; Lagos (UTC+1) and Bogotá (UTC-5) never change.
    event = make_event(timezone="Europe/Madrid", starts_at="2027-03-18T10:00",
                       ends_at="2027-03-18T11:00", rrule="FREQ=WEEKLY;COUNT=3")  # fmt: skip
    found = cal.occurrences(
        event, datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 5, 1, tzinfo=UTC)
    )
    madrid = [o.starts_at.astimezone(cal.zone("Europe/Madrid")).strftime("%d %H:%M") for o in found]
    lagos = [o.starts_at.astimezone(cal.zone("Africa/Lagos")).strftime("%d %H:%M") for o in found]
    bogota = [
        o.starts_at.astimezone(cal.zone("America/Bogota")).strftime("%d %H:%M") for o in found
    ]
    assert madrid == ["18 10:00", "25 10:00", "01 10:00"]  # same wall clock in Madrid
    assert lagos == ["18 10:00", "25 10:00", "01 09:00"]  # one hour earlier after the change
    assert bogota == ["18 04:00", "25 04:00", "01 03:00"]
    # The page warns only when the clocks differ: Lagos = Madrid in winter, not in summer.
    assert not cal.zones_differ(event, "Africa/Lagos", found[0].starts_at)
    assert cal.zones_differ(event, "Africa/Lagos", found[2].starts_at)
    assert cal.zones_differ(event, "America/Bogota", found[0].starts_at)
    assert not cal.zones_differ(event, "Europe/Madrid", found[2].starts_at)


def test_recurrence_leaves_out_the_exception_dates(db, people, make_event):
    event = make_event(starts_at="2027-01-05T10:00", ends_at="2027-01-05T11:00",
                       rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=5",
                       exception_dates="2027-01-12, 2027-01-26")  # fmt: skip
    found = cal.occurrences(
        event, datetime(2027, 1, 1, tzinfo=UTC), datetime(2027, 3, 1, tzinfo=UTC)
    )
    assert [o.starts_at.date().isoformat() for o in found] == [
        "2027-01-05",
        "2027-01-19",
        "2027-02-02",
    ]
    assert event.recurrence_ends_at == datetime(2027, 2, 2, 11, 0, tzinfo=UTC)


def test_unbounded_recurrence_is_found_in_any_later_range(db, people, make_event):
    make_event(title="Monthly call", starts_at="2027-01-05T15:00", ends_at="2027-01-05T16:00",
               rrule="FREQ=MONTHLY;BYDAY=1TU", timezone="UTC")  # fmt: skip
    start = datetime(2029, 6, 1, tzinfo=UTC)
    found = cal.events_between(people.member, start, start + timedelta(days=30))
    assert [o.starts_at for o in found] == [datetime(2029, 6, 5, 15, 0, tzinfo=UTC)]


def test_cancelled_events_stay_in_the_calendar_marked_cancelled(db, people, make_event):
    event = make_event()
    cal.cancel_event(people.coordinator, event)
    found = cal.events_between(
        people.member, datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC)
    )
    assert [(o.event.id, o.event.status) for o in found] == [(event.id, "cancelled")]


def test_filters_by_network_kind_and_format(db, people, make_event):
    make_event(title="A", kind="workshop", format="virtual", venue="")
    make_event(title="B", kind="plenary", format="in_person", online_url="")
    window = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 4, 1, tzinfo=UTC))

    def titles(**kw):
        return [
            o.event.title for o in cal.events_between(people.member, *window, cal.Filters(**kw))
        ]

    assert titles(kinds=["workshop"]) == ["A"]
    assert titles(formats=["in_person"]) == ["B"]
    assert titles(networks=["iberred"]) == []
    assert sorted(titles(networks=["wacap"])) == ["A", "B"]
    with pytest.raises(ValidationError):
        cal.parse_filters({"kind": ["party"]})
