"""A cascade cohort's calendar event (review finding): a certified trainer links their
cascade cohort only to an event they see in their own right. The programme page offers no
other event, one they may not see is refused like a missing one, and a link recorded by
someone who could not see the event shows it to nobody."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from network import policy
from network.errors import ValidationError
from network.models.training import Cohort
from network.services import calendar as cal
from network.services import training
from tests.calendar.conftest import event_data
from tests.conftest import csrf_token
from tests.training.conftest import Course, complete_all

SECRET_TITLE = "Bilateral consultation SN-GH on extradition of suspect K"


@pytest.fixture
def certified(course: Course) -> Any:
    """The trainee, certified, now leads cascade cohorts; they belong to no network."""
    complete_all(course, course.enrolment)
    training.record_score(course.trainer, course.enrolment, "post", "90")
    training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))
    assert course.trainee.memberships == []
    return course.trainee


@pytest.fixture
def secret(course: Course, make_user: Any) -> Any:
    """An invited-only consultation the programme's network organises, registration open."""
    event = cal.create_event(
        course.coordinator,
        event_data(
            title=SECRET_TITLE,
            kind="bilateral_consultation",
            format="virtual",
            visibility="invited",
            online_url="https://meet.example.org/secret",
            starts_at="2027-05-04T10:00",
            ends_at="2027-05-04T11:00",
        ),
    )
    cal.invite(course.coordinator, event, [make_user("contact_point", course.programme.network).id])
    return event


def _cascade(event_id: Any) -> dict[str, str]:
    return {"title": "Home", "starts_on": "2027-05-01", "ends_on": "2027-05-05",
            "event_id": str(event_id)}  # fmt: skip


def _cohort_count() -> int:
    from network.extensions import db

    return db.session.scalar(select(func.count()).select_from(Cohort)) or 0


def test_certified_trainer_is_not_offered_an_invited_only_event(
    course: Course, certified: Any, secret: Any, client: Any, login: Any
) -> None:
    assert training.linkable_events(course.programme, certified) == []
    login(client, certified)
    page = client.get(f"/training/programmes/{course.programme.id}").get_data(as_text=True)
    assert "Record a cascade session I lead" in page
    assert "extradition of suspect K" not in page


def test_linking_a_cascade_to_an_unseen_event_is_refused_like_a_missing_one(
    course: Course, certified: Any, secret: Any, client: Any, login: Any, db: Any
) -> None:
    before = _cohort_count()
    with pytest.raises(ValidationError) as unseen:
        training.create_cohort(certified, course.programme, _cascade(secret.id))
    db.session.rollback()
    with pytest.raises(ValidationError) as missing:
        training.create_cohort(certified, course.programme, _cascade(secret.id + 1000))
    db.session.rollback()
    assert unseen.value.fields == missing.value.fields
    assert "event_id" in unseen.value.fields
    assert _cohort_count() == before

    # Through the page too: nothing is stored, the event stays out of their sight.
    login(client, certified)
    token = csrf_token(client, f"/training/programmes/{course.programme.id}")
    response = client.post(
        f"/training/programmes/{course.programme.id}/cohorts",
        data={"csrf_token": token, **_cascade(secret.id)},
    )
    assert response.status_code == 302
    assert _cohort_count() == before
    assert not policy.can_view_event(certified, secret)
    assert client.get(f"/calendar/events/{secret.id}").status_code == 404
    assert client.get(f"/calendar/events/{secret.id}.ics").status_code == 404
    assert not policy.can_register_for_event(certified, secret)


def test_cascade_links_an_event_its_trainer_is_invited_to_and_shows_it_to_trainees(
    course: Course, certified: Any, secret: Any, make_user: Any, list_in_directory: Any, db: Any
) -> None:
    cal.invite(
        course.coordinator, secret, [list_in_directory(certified, course.programme.network.slug).id]
    )
    assert [e.id for e in training.linkable_events(course.programme, certified)] == [secret.id]
    cohort = training.create_cohort(certified, course.programme, _cascade(secret.id))
    trainee = make_user()
    training.enrol(certified, cohort, {"email": trainee.email, "country": "SN",
                                       "profession": "judge"})  # fmt: skip
    db.session.expire_all()
    assert cohort.event_id == secret.id
    assert policy.can_view_event(trainee, secret)
    assert training.cohort_event(cohort, trainee) == secret


def test_a_link_recorded_by_someone_who_could_not_see_the_event_shows_nothing(
    course: Course, certified: Any, secret: Any, make_user: Any, list_in_directory: Any, db: Any
) -> None:
    cohort = training.create_cohort(certified, course.programme, _cascade(""))
    trainee = make_user()
    training.enrol(certified, cohort, {"email": trainee.email, "country": "SN",
                                       "profession": "judge"})  # fmt: skip
    cohort.event_id = secret.id  # as stored before links were checked
    db.session.commit()
    db.session.expire_all()
    assert not policy.can_view_event(certified, secret)
    assert not policy.can_view_event(trainee, secret)
    assert training.cohort_event(cohort, trainee) is None
    # Once the leading trainer is invited, the link shows the session to their trainees.
    cal.invite(
        course.coordinator, secret, [list_in_directory(certified, course.programme.network.slug).id]
    )
    db.session.expire_all()
    assert policy.can_view_event(trainee, secret)


def test_coordinator_cannot_link_a_cascade_to_an_event_its_trainer_may_not_see(
    course: Course, certified: Any, secret: Any, db: Any
) -> None:
    cohort = training.create_cohort(certified, course.programme, _cascade(""))
    data = _cascade(secret.id)
    with pytest.raises(ValidationError) as caught:
        training.update_cohort(course.coordinator, cohort, data)
    assert "event_id" in caught.value.fields
    db.session.rollback()
    stored = db.session.scalar(select(Cohort.event_id).where(Cohort.id == cohort.id))
    assert stored is None
