"""A training cohort linked to a calendar event (issue 4, "Links to the rest"): only to an
event its programme's network organises; the cohort's page links to the event and the
event's page lists the cohorts its reader may see."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from network.errors import ValidationError
from network.models.training import Cohort
from network.services import calendar as cal
from network.services import training
from tests.calendar.conftest import event_data


@pytest.fixture
def sessions(course: Any, make_user: Any) -> dict[str, Any]:
    wacap = course.programme.network
    ours = cal.create_event(
        course.coordinator,
        event_data(title="ToT week, Dakar", kind="training", networks=[wacap.slug]),
    )
    iberred_coordinator = course.outsider
    theirs = cal.create_event(
        iberred_coordinator,
        event_data(title="IberRed course", kind="training", networks=["iberred"]),
    )
    return {"ours": ours, "theirs": theirs}


def _cohort_data(cohort: Cohort, event_id: Any) -> dict[str, str]:
    return {
        "title": cohort.title,
        "starts_on": cohort.starts_on.isoformat(),
        "ends_on": cohort.ends_on.isoformat(),
        "place": cohort.place or "",
        "event_id": str(event_id),
    }


def test_a_cohort_links_to_an_event_of_its_network(course, sessions, db):
    training.update_cohort(
        course.coordinator, course.cohort, _cohort_data(course.cohort, sessions["ours"].id)
    )
    assert course.cohort.event_id == sessions["ours"].id
    # The cohort's trainer and trainee are in no network: the link shows them the event.
    assert training.cohort_event(course.cohort, course.trainer) == sessions["ours"]
    assert training.cohort_event(course.cohort, course.trainee) == sessions["ours"]
    assert training.cohort_event(course.other_cohort, course.other_trainer) is None
    assert training.cohorts_of_event(sessions["ours"].id, course.trainer) == [course.cohort]
    linkable = training.linkable_events(course.programme, course.coordinator)
    assert [e.id for e in linkable] == [sessions["ours"].id]


def test_an_event_of_another_network_is_refused_and_nothing_changes(course, sessions, db):
    with pytest.raises(ValidationError) as caught:
        training.update_cohort(
            course.coordinator, course.cohort, _cohort_data(course.cohort, sessions["theirs"].id)
        )
    assert "event_id" in caught.value.fields
    db.session.rollback()
    stored = db.session.scalar(select(Cohort.event_id).where(Cohort.id == course.cohort.id))
    assert stored is None


def test_the_pages_link_both_ways_for_those_who_may_see(course, sessions, client, db, login):
    training.update_cohort(
        course.coordinator, course.cohort, _cohort_data(course.cohort, sessions["ours"].id)
    )
    login(client, course.trainer)
    cohort_page = client.get(f"/training/cohorts/{course.cohort.id}").get_data(as_text=True)
    assert f'/calendar/events/{sessions["ours"].id}"' in cohort_page
    assert "ToT week, Dakar" in cohort_page
    event_page = client.get(f"/calendar/events/{sessions['ours'].id}").get_data(as_text=True)
    assert f"/training/cohorts/{course.cohort.id}" in event_page
    # A trainer of another cohort may not read this one: the event names no cohort to them.
    assert training.cohorts_of_event(sessions["ours"].id, course.other_trainer) == []
