"""The training section of ``network/policy.py`` for every kind of person: members of the
programme's network in each role, an administrator, a coordinator of another network, the
cohort's trainer, another cohort's trainer, the trainee, a classmate, and nobody signed in.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask_login import AnonymousUserMixin

from network import policy
from tests.training.conftest import Course

PEOPLE = (
    "anonymous", "admin", "contact_point", "observer", "coordinator", "secretariat",
    "other_network", "trainer", "other_trainer", "trainee", "classmate",
)  # fmt: skip
# 1 = allowed. Columns in the order of PEOPLE.
# fmt: off
MATRIX: dict[str, tuple[int, ...]] = {
    #                         anon adm cp obs coo sec oth trn otr tee cla
    "view programme":        (0,   1,  1, 1,  1,  1,  0,  1,  1,  1,  1),
    "manage programme":      (0,   1,  0, 0,  1,  1,  0,  0,  0,  0,  0),
    "read cohort":           (0,   1,  0, 0,  1,  1,  0,  1,  0,  0,  0),
    "update cohort":         (0,   0,  0, 0,  0,  0,  0,  1,  0,  0,  0),
    "read trainee's scores": (0,   1,  0, 0,  1,  1,  0,  1,  0,  1,  0),
    "take trainee's test":   (0,   0,  0, 0,  0,  0,  0,  0,  0,  1,  0),
    "certify":               (0,   1,  0, 0,  1,  0,  0,  0,  0,  0,  0),
    "lead a cascade":        (0,   0,  0, 0,  0,  0,  0,  0,  0,  0,  0),
    "declare gender":        (0,   0,  0, 0,  0,  0,  0,  0,  0,  1,  0),
    "manage cohort":         (0,   1,  0, 0,  1,  1,  0,  0,  0,  0,  0),
}
# fmt: on


@pytest.fixture
def people(course: Course, make_user: Any) -> dict[str, Any]:
    network = course.programme.network
    return {
        "anonymous": AnonymousUserMixin(),
        "admin": make_user(admin=True),
        "contact_point": make_user("contact_point", network),
        "observer": make_user("observer", network),
        "coordinator": course.coordinator,
        "secretariat": course.secretariat,
        "other_network": course.outsider,
        "trainer": course.trainer,
        "other_trainer": course.other_trainer,
        "trainee": course.trainee,
        "classmate": course.classmate,
    }


def _answers(course: Course, user: Any) -> dict[str, int]:
    return {
        "view programme": policy.can_view_programme(user, course.programme),
        "manage programme": policy.can_manage_programme(user, course.programme),
        "read cohort": policy.can_read_cohort(user, course.cohort),
        "update cohort": policy.can_update_cohort(user, course.cohort),
        "read trainee's scores": policy.can_read_enrolment(user, course.enrolment),
        "take trainee's test": policy.can_take_test(user, course.enrolment),
        "certify": policy.can_certify(user, course.programme),
        "lead a cascade": policy.can_lead_cascade(user, course.programme),
        "declare gender": policy.can_declare_gender(user, course.enrolment),
        "manage cohort": policy.can_manage_cohort(user, course.cohort),
    }


@pytest.mark.parametrize("person", PEOPLE)
def test_training_policy_matrix(course: Course, people: dict[str, Any], person: str) -> None:
    column = PEOPLE.index(person)
    expected = {action: bool(row[column]) for action, row in MATRIX.items()}
    got = {action: bool(value) for action, value in _answers(course, people[person]).items()}
    assert got == expected
