"""The event form's recurrence picker through the real pages: each choice stored as its RRULE,
a stored rule read back into the picker, a rule the picker cannot say kept as a "custom
rule", every bad combination refused with its field message and nothing written, and the
description of a rule in the reader's language on the event page."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from flask_babel import force_locale
from icalendar import Calendar
from sqlalchemy import func, select

from network.models.calendar import Event
from network.services import calendar as cal
from network.services import recurrence
from tests.calendar.conftest import event_data
from tests.conftest import csrf_token

NEW = "/calendar/events/new"


def _html(response) -> str:
    return response.get_data(as_text=True)


def _count(db) -> int:
    return db.session.scalar(select(func.count()).select_from(Event))


def _post_new(client, **fields: Any):  # type: ignore[no-untyped-def]
    data = {**event_data(), "repeat": "none", **fields, "csrf_token": csrf_token(client, NEW)}
    return client.post(NEW, data=data)


def _latest(db) -> Event:
    return db.session.scalar(select(Event).order_by(Event.id.desc()))


# --- Each choice of the picker gives its rule -----------------------------------------------------


# 2027-03-09 is the second Tuesday of March; 2027-03-26 the last Friday; 2027-03-31 the fifth
# Wednesday.
@pytest.mark.parametrize(
    ("start", "fields", "rule"),
    [
        ("2027-03-09", {"repeat": "none", "repeat_interval": "3"}, ""),
        ("2027-03-09", {"repeat": "daily"}, "FREQ=DAILY"),
        (
            "2027-03-09",
            {"repeat": "daily", "repeat_interval": "3", "repeat_ends": "count",
             "repeat_count": "10"},
            "FREQ=DAILY;COUNT=10;INTERVAL=3",
        ),
        (
            "2027-03-09",
            {"repeat": "weekly", "repeat_interval": "2", "repeat_weekdays": ["TH", "TU"],
             "repeat_ends": "until", "repeat_until": "2027-06-30"},
            "FREQ=WEEKLY;UNTIL=20270630T235959;INTERVAL=2;BYDAY=TU,TH",
        ),
        # No day ticked: the weekday of the start (a Tuesday).
        ("2027-03-09", {"repeat": "weekly"}, "FREQ=WEEKLY;BYDAY=TU"),
        (
            "2027-03-09",
            {"repeat": "monthly", "repeat_monthly": "day", "repeat_ends": "count",
             "repeat_count": "6"},
            "FREQ=MONTHLY;COUNT=6",
        ),
        (
            "2027-03-09",
            {"repeat": "monthly", "repeat_monthly": "nth", "repeat_ends": "count",
             "repeat_count": "6"},
            "FREQ=MONTHLY;COUNT=6;BYDAY=2TU",
        ),
        ("2027-03-26", {"repeat": "monthly", "repeat_monthly": "last"}, "FREQ=MONTHLY;BYDAY=-1FR"),
        ("2027-03-31", {"repeat": "monthly", "repeat_monthly": "last"}, "FREQ=MONTHLY;BYDAY=-1WE"),
        ("2027-03-09", {"repeat": "yearly", "repeat_interval": "2"}, "FREQ=YEARLY;INTERVAL=2"),
        # The fields of another frequency are not read.
        (
            "2027-03-09",
            {"repeat": "daily", "repeat_weekdays": ["MO"], "repeat_monthly": "last",
             "repeat_until": "2020-01-01", "repeat_count": "0"},
            "FREQ=DAILY",
        ),
    ],
)  # fmt: skip
def test_each_choice_of_the_form_is_stored_as_its_rule(
    client, login, db, people, start, fields, rule
):
    login(client, people.coordinator)
    response = _post_new(client, starts_at=f"{start}T09:00", ends_at=f"{start}T11:00", **fields)
    assert response.status_code == 302, _html(response)
    assert _latest(db).rrule == rule


def test_an_end_date_includes_its_day_and_the_series_stops_there(client, login, db, people):
    login(client, people.coordinator)
    response = _post_new(
        client,
        starts_at="2027-03-09T09:00",
        ends_at="2027-03-09T11:00",
        timezone="Europe/Madrid",
        repeat="weekly",
        repeat_weekdays=["TU", "TH"],
        repeat_ends="until",
        repeat_until="2027-03-18",
    )
    assert response.status_code == 302
    event = _latest(db)
    found = cal.occurrences(event, event.starts_at, datetime.fromisoformat("2027-12-31T00:00Z"))
    local = [o.starts_at.astimezone(cal.zone("Europe/Madrid")) for o in found]
    assert [t.strftime("%d %H:%M") for t in local] == [
        "09 09:00",
        "11 09:00",
        "16 09:00",
        "18 09:00",
    ]
    assert event.recurrence_ends_at == found[-1].ends_at


def test_the_html_form_does_not_take_a_raw_rule(client, login, db, people):
    login(client, people.coordinator)
    response = _post_new(client, rrule="FREQ=DAILY;COUNT=3")
    assert response.status_code == 302
    assert _latest(db).rrule == ""


def test_the_service_still_takes_a_raw_rule(db, people, make_event):
    event = make_event(rrule="RRULE:FREQ=WEEKLY;COUNT=4")
    assert event.rrule == "FREQ=WEEKLY;COUNT=4"


# --- A stored rule read back into the picker ------------------------------------------------------


def test_a_stored_rule_fills_the_picker_and_saves_unchanged(client, login, db, people, make_event):
    event = make_event(
        starts_at="2027-01-05T10:00",
        ends_at="2027-01-05T11:00",
        rrule="FREQ=MONTHLY;BYDAY=1TU;COUNT=6",
    )
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    form = _html(client.get(page))
    assert '<option value="monthly" selected>' in form
    assert '<option value="nth" selected>on the first Tuesday</option>' in form
    assert 'id="repeat_ends_count" name="repeat_ends" value="count" checked' in form
    assert (
        'name="repeat_count" type="number" min="1" max="500" inputmode="numeric" value="6"' in form
    )
    assert "Custom rule" not in form
    data = {
        **cal.form_values(event),
        "title": "Monthly call",
        "csrf_token": csrf_token(client, page),
    }
    assert client.post(page, data=data).status_code == 302
    assert event.title == "Monthly call"
    assert event.rrule == "FREQ=MONTHLY;BYDAY=1TU;COUNT=6"  # the stored text, not rewritten


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;INTERVAL=4;COUNT=6",  # the demo's call: BYDAY left to the start
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T235959",
        "FREQ=DAILY;UNTIL=20270630",
        "FREQ=MONTHLY",
        "FREQ=MONTHLY;BYMONTHDAY=5;COUNT=3",
        "FREQ=YEARLY;BYMONTH=1;BYMONTHDAY=5",
    ],
)
def test_saving_the_form_unchanged_keeps_the_stored_rule(
    client, login, db, people, make_event, rule
):
    event = make_event(starts_at="2027-01-05T10:00", ends_at="2027-01-05T11:00", rrule=rule)
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    assert "Custom rule" not in _html(client.get(page))
    data = {**cal.form_values(event), "csrf_token": csrf_token(client, page)}
    assert data["repeat"] != "custom"
    assert client.post(page, data=data).status_code == 302
    assert event.sequence == 1
    assert event.rrule == rule


@pytest.mark.parametrize(
    ("rule", "start", "picker"),
    [
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T235959", "2027-03-09T09:00",
         {"repeat": "weekly", "repeat_interval": "2", "repeat_weekdays": ["TU", "TH"],
          "repeat_ends": "until", "repeat_until": "2027-06-30"}),
        # A bare UNTIL date is midnight: a 09:00 meeting that day is not in the series.
        ("FREQ=DAILY;UNTIL=20270630", "2027-03-09T09:00",
         {"repeat": "daily", "repeat_ends": "until", "repeat_until": "2027-06-29"}),
        ("FREQ=WEEKLY;INTERVAL=4;COUNT=6", "2027-03-10T09:00",
         {"repeat": "weekly", "repeat_interval": "4", "repeat_weekdays": ["WE"],
          "repeat_ends": "count", "repeat_count": "6"}),
        ("FREQ=MONTHLY;BYMONTHDAY=26", "2027-03-26T09:00",
         {"repeat": "monthly", "repeat_monthly": "day"}),
        ("FREQ=MONTHLY;BYDAY=-1FR", "2027-03-26T09:00",
         {"repeat": "monthly", "repeat_monthly": "last"}),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=26", "2027-03-26T09:00", {"repeat": "yearly"}),
    ],
)  # fmt: skip
def test_rules_the_picker_can_say_are_read_into_it(rule, start, picker):
    values = recurrence.picker_of(rule, datetime.fromisoformat(start)).form_values()
    assert {key: values[key] for key in picker} == picker


# --- A rule the picker cannot say -----------------------------------------------------------------

CUSTOM = "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1"


@pytest.mark.parametrize(
    "rule",
    [
        CUSTOM,
        "FREQ=YEARLY;BYMONTH=1,7",
        "FREQ=WEEKLY;BYDAY=TU",  # the start (2027-03-31) is a Wednesday
        "FREQ=MONTHLY;BYDAY=2TU",  # not the start's weekday of the month
        "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR",
        "FREQ=WEEKLY;WKST=SU;INTERVAL=2",
        "FREQ=DAILY;INTERVAL=120",
    ],
)
def test_rules_the_picker_cannot_say_are_custom(rule):
    assert recurrence.picker_of(rule, datetime.fromisoformat("2027-03-31T09:00")).repeat == "custom"


def test_a_custom_rule_is_shown_described_and_kept(client, login, db, people, make_event):
    event = make_event(starts_at="2027-03-31T09:00", ends_at="2027-03-31T10:00", rrule=CUSTOM)
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    form = _html(client.get(page))
    assert '<option value="custom" selected>Custom rule (kept as it is)</option>' in form
    assert (
        "Monthly on Monday, Tuesday, Wednesday, Thursday, and Friday (only the last of them)"
        in form
    )
    data = {
        **cal.form_values(event),
        "title": "Month-end call",
        "csrf_token": csrf_token(client, page),
    }
    assert data["repeat"] == "custom"
    assert client.post(page, data=data).status_code == 302
    assert (event.title, event.rrule) == ("Month-end call", CUSTOM)


def test_choosing_another_option_replaces_a_custom_rule(client, login, db, people, make_event):
    event = make_event(starts_at="2027-03-31T09:00", ends_at="2027-03-31T10:00", rrule=CUSTOM)
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    data = {
        **cal.form_values(event),
        "repeat": "weekly",
        "repeat_weekdays": ["WE"],
        "csrf_token": csrf_token(client, page),
    }
    assert client.post(page, data=data).status_code == 302
    assert event.rrule == "FREQ=WEEKLY;BYDAY=WE"
    assert "Custom rule" not in _html(client.get(page))


def test_custom_cannot_be_chosen_for_a_new_event(client, login, db, people):
    login(client, people.coordinator)
    before = _count(db)
    response = _post_new(client, repeat="custom")
    assert response.status_code == 422
    assert "Choose how often the event repeats." in _html(response)
    assert _count(db) == before


# --- Bad combinations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"repeat": "hourly"}, "repeat", "Choose how often the event repeats."),
        ({"repeat": "daily", "repeat_interval": "0"}, "repeat_interval",
         "Repeat every 1 to 99 days, weeks, months or years."),
        ({"repeat": "daily", "repeat_interval": "100"}, "repeat_interval", "Repeat every 1 to 99"),
        ({"repeat": "weekly", "repeat_interval": "two"}, "repeat_interval", "Repeat every 1 to 99"),
        ({"repeat": "daily", "repeat_ends": "someday"}, "repeat_ends",
         "Choose when the series ends."),
        ({"repeat": "daily", "repeat_ends": "until", "repeat_until": ""}, "repeat_until",
         "Give the date of the last occurrence (YYYY-MM-DD)."),
        ({"repeat": "daily", "repeat_ends": "until", "repeat_until": "2027-13-45"},
         "repeat_until", "Give the date of the last occurrence"),
        ({"repeat": "daily", "repeat_ends": "until", "repeat_until": "2027-03-09"},
         "repeat_until", "The series cannot end before its first occurrence (March 10, 2027)."),
        ({"repeat": "daily", "repeat_ends": "until", "repeat_until": "2030-01-01"},
         "repeat_until", "A series may have at most 500 occurrences."),
        ({"repeat": "daily", "repeat_ends": "count", "repeat_count": "0"}, "repeat_count",
         "Give a number of occurrences from 1 to 500."),
        ({"repeat": "daily", "repeat_ends": "count", "repeat_count": "501"}, "repeat_count",
         "Give a number of occurrences from 1 to 500."),
        ({"repeat": "daily", "repeat_ends": "count", "repeat_count": ""}, "repeat_count",
         "Give a number of occurrences from 1 to 500."),
        # 2027-03-10, the start, is a Wednesday.
        ({"repeat": "weekly", "repeat_weekdays": ["TU", "TH"]}, "repeat_weekdays",
         "The first occurrence is on a Wednesday: tick Wednesday as well, or start the event "
         "on one of the days you ticked."),
        ({"repeat": "weekly", "repeat_weekdays": ["WE", "XX"]}, "repeat_weekdays",
         "Tick days of the week from the list."),
        ({"repeat": "monthly", "repeat_monthly": "last"}, "repeat_monthly",
         "The start is not the last Wednesday of its month: choose another option."),
        ({"repeat": "monthly", "repeat_monthly": "sometimes"}, "repeat_monthly",
         "Choose on which day of the month the event repeats."),
        ({"repeat": "monthly", "repeat_monthly": "nth", "starts_at": "2027-03-31T09:00",
          "ends_at": "2027-03-31T10:00"}, "repeat_monthly",
         "The start is the fifth Wednesday of its month"),
        ({"repeat": "none", "exception_dates": "2027-03-17"}, "exception_dates",
         "Exception dates need a recurrence rule."),
    ],
)  # fmt: skip
def test_a_bad_combination_is_refused_with_its_message_and_nothing_written(
    client, login, db, people, fields, field, message
):
    login(client, people.coordinator)
    before = _count(db)
    response = _post_new(client, **fields)
    assert response.status_code == 422
    html = _html(response)
    assert f'<p class="field-error" id="{field}-error">{message}' in html.replace("&#39;", "'")
    assert 'value="WACAP plenary"' in html  # what was entered comes back
    assert _count(db) == before


def test_what_was_entered_comes_back_with_the_error(client, login, db, people):
    login(client, people.coordinator)
    response = _post_new(
        client,
        repeat="weekly",
        repeat_interval="2",
        repeat_weekdays=["TU", "TH"],
        repeat_ends="count",
        repeat_count="900",
    )
    assert response.status_code == 422
    html = _html(response)
    assert '<option value="weekly" selected>' in html
    assert (
        'name="repeat_interval" type="number" min="1" max="99" inputmode="numeric" value="2"'
        in html
    )
    assert 'value="TU" checked' in html
    assert 'value="TH" checked' in html
    assert 'value="WE" checked' not in html
    assert 'value="900"' in html


def test_a_refused_change_leaves_the_stored_rule_as_it_was(client, login, db, people, make_event):
    event = make_event(rrule="FREQ=WEEKLY;COUNT=4")
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    data = {
        **cal.form_values(event),
        "repeat_ends": "count",
        "repeat_count": "0",
        "title": "Changed",
        "csrf_token": csrf_token(client, page),
    }
    assert client.post(page, data=data).status_code == 422
    db.session.refresh(event)
    assert (event.title, event.rrule, event.sequence) == ("WACAP plenary", "FREQ=WEEKLY;COUNT=4", 0)


def test_a_custom_rule_that_no_longer_fits_a_moved_start_is_refused(
    client, login, db, people, make_event
):
    event = make_event(
        starts_at="2027-03-10T09:00",
        ends_at="2027-03-10T10:00",
        rrule="FREQ=DAILY;UNTIL=20270320T235959;BYDAY=MO,WE",
    )
    login(client, people.coordinator)
    page = f"/calendar/events/{event.id}/edit"
    data = {
        **cal.form_values(event),
        "starts_at": "2027-04-10T09:00",
        "ends_at": "2027-04-10T10:00",
        "csrf_token": csrf_token(client, page),
    }
    assert data["repeat"] == "custom"
    response = client.post(page, data=data)
    assert response.status_code == 422
    assert "This rule gives no occurrence." in _html(response)
    db.session.refresh(event)
    assert event.rrule == "FREQ=DAILY;UNTIL=20270320T235959;BYDAY=MO,WE"


# --- Descriptions ---------------------------------------------------------------------------------

DESCRIPTIONS = [
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T235959", "2027-03-09T09:00",
     "Every 2 weeks on Tuesday and Thursday, until June 30, 2027",
     ["mardi et jeudi", "30 juin 2027"]),
    ("FREQ=MONTHLY;BYDAY=1TU;COUNT=6", "2027-01-05T10:00",
     "Monthly on the first Tuesday, 6 times", ["mardi"]),
    ("FREQ=MONTHLY;COUNT=1", "2027-01-05T10:00", "Monthly on day 5, 1 time", []),
    ("FREQ=DAILY", "2027-01-05T10:00", "Daily", []),
    ("FREQ=DAILY;INTERVAL=3;UNTIL=20270201", "2027-01-05T10:00",
     "Every 3 days, until January 31, 2027", ["31 janvier 2027"]),
    ("FREQ=WEEKLY;COUNT=4", "2027-03-10T09:00", "Weekly on Wednesday, 4 times", ["mercredi"]),
    ("FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR", "2027-03-26T09:00",
     "Every 2 months on the last Friday", ["vendredi"]),
    ("FREQ=YEARLY", "2027-03-10T09:00", "Yearly on March 10", ["10 mars"]),
    ("FREQ=YEARLY;BYMONTH=1,7", "2027-03-10T09:00", "Yearly on day 10 in January and July",
     ["janvier et juillet"]),
    (CUSTOM, "2027-03-31T09:00",
     "Monthly on Monday, Tuesday, Wednesday, Thursday, and Friday (only the last of them)",
     ["lundi, mardi, mercredi, jeudi et vendredi"]),
    ("FREQ=WEEKLY;BYDAY=MO;WKST=SU", "2027-03-08T09:00", "Weekly on Monday (and WKST=SU)", []),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "start", "english", "french"), DESCRIPTIONS)
def test_a_rule_is_described_in_english_and_in_french(app, rule, start, english, french):
    with app.test_request_context():
        with force_locale("en"):
            assert recurrence.describe(rule, datetime.fromisoformat(start)) == english
        with force_locale("fr"):
            # CLDR's days, months, dates and lists; the phrases follow once translated.
            text = recurrence.describe(rule, datetime.fromisoformat(start))
            assert all(part in text for part in french), text


def test_a_rule_is_described_in_arabic_with_arabic_days_and_dates(app):
    with app.test_request_context(), force_locale("ar"):
        text = recurrence.describe(
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270630T235959",
            datetime.fromisoformat("2027-03-09T09:00"),
        )
    assert "الثلاثاء" in text
    assert "الخميس" in text
    assert "يونيو" in text


def test_the_event_page_describes_the_rule_in_the_readers_language(
    client, login, db, people, make_event
):
    event = make_event(
        starts_at="2027-01-05T10:00",
        ends_at="2027-01-05T11:00",
        rrule="FREQ=MONTHLY;BYDAY=1TU;COUNT=6",
    )
    login(client, people.member)
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "Monthly on the first Tuesday, 6 times" in html
    assert "FREQ=" not in html
    people.member.locale = "fr"
    db.session.commit()
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "Tous les mois le premier mardi, 6 fois" in html
    assert "FREQ=" not in html


def test_the_event_page_gives_exception_dates_in_the_readers_words(
    client, login, db, people, make_event
):
    event = make_event(
        starts_at="2027-01-05T10:00",
        ends_at="2027-01-05T11:00",
        rrule="FREQ=WEEKLY;COUNT=6",
    )
    event.exception_dates = ["2027-02-02", "2027-01-19"]
    db.session.commit()
    login(client, people.member)
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "Jan 19, 2027 and Feb 2, 2027" in html
    assert "2027-02-02" not in html
    people.member.locale = "fr"
    db.session.commit()
    html = _html(client.get(f"/calendar/events/{event.id}"))
    assert "19 janv. 2027 et 2 févr. 2027" in html


def test_the_ics_file_keeps_the_rule_with_its_end_in_utc(client, login, db, people, make_event):
    # RFC 5545: with a DTSTART in a time zone, UNTIL is given in UTC.
    event = make_event(
        starts_at="2027-03-09T09:00",
        ends_at="2027-03-09T10:00",
        timezone="Europe/Madrid",
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20270630T235959",
    )
    login(client, people.member)
    body = client.get(f"/calendar/events/{event.id}.ics").get_data()
    vevent = next(c for c in Calendar.from_ical(body).walk("VEVENT"))
    assert vevent["RRULE"]["FREQ"] == ["WEEKLY"]
    assert vevent["RRULE"]["BYDAY"] == ["TU", "TH"]
    assert b"UNTIL=20270630T215959Z" in body  # 23:59:59 in Madrid (CEST, UTC+2)
    assert event.rrule.endswith("UNTIL=20270630T235959")  # stored on the local clock


# --- The picker's choices in the reader's language ------------------------------------------------


@pytest.mark.parametrize(
    ("code", "first", "monday"),
    [("en", "SU", "Monday"), ("fr", "MO", "lundi"), ("ar", "SA", "الاثنين")],
)
def test_the_weekdays_start_where_the_readers_week_starts(app, code, first, monday):
    with app.test_request_context(), force_locale(code):
        choices = recurrence.picker_choices({})
    assert choices.weekdays[0][0] == first
    assert dict(choices.weekdays)["MO"] == monday


def test_the_monthly_choices_follow_the_start(app):
    with app.test_request_context(), force_locale("en"):
        second_tuesday = recurrence.picker_choices(
            {}, start_local=datetime.fromisoformat("2027-03-09T09:00")
        )
        fifth_wednesday = recurrence.picker_choices(
            {}, start_local=datetime.fromisoformat("2027-03-31T09:00")
        )
    assert second_tuesday.monthly == [("day", "on day 9"), ("nth", "on the second Tuesday")]
    assert fifth_wednesday.monthly == [("day", "on day 31"), ("last", "on the last Wednesday")]
