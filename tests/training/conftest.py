"""Fixtures for the training tracker: a WACAP programme of two modules with a quiz, a
cohort with its trainer and two trainees with accounts, a coordinator, a secretariat, an
outsider of another network."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

from network.models.people import User
from network.models.training import Cohort, Enrolment, Programme
from network.services import training


@dataclass
class Course:
    programme: Programme
    cohort: Cohort
    other_cohort: Cohort
    coordinator: User
    secretariat: User
    trainer: User
    other_trainer: User
    trainee: User
    classmate: User
    outsider: User
    enrolment: Enrolment
    classmate_enrolment: Enrolment

    def answers(self, correct: bool = True) -> dict[str, str]:
        """Answers to every question of the test: all right, or all wrong."""
        return {
            str(q.id): str(next(o.id for o in q.options if o.is_correct == correct))
            for q in training.test_questions(self.programme)
        }


@pytest.fixture
def course(db: Any, make_network: Any, make_user: Any) -> Course:
    wacap = make_network("wacap", states="SN GH ML")
    other = make_network("iberred", states="ES PT")
    coordinator = make_user("coordinator", wacap)
    programme = training.create_programme(
        coordinator,
        wacap,
        {"title": "ToT on MLA", "description": "Peer training", "pass_threshold": "70"},
    )
    for title in ("Mutual legal assistance", "Extradition"):
        module = training.add_module(
            coordinator,
            programme,
            {"title": title, "objectives": "Know it", "duration_minutes": "90"},
        )
        training.add_question(
            coordinator, module, f"About {title}?", ["Right", "Wrong", "Also wrong"], "0"
        )
    trainer = make_user()
    other_trainer = make_user()
    trainee = make_user()
    classmate = make_user()
    cohort = training.create_cohort(
        coordinator,
        programme,
        {
            "title": "Cohort Dakar",
            "starts_on": "2026-03-02",
            "ends_on": "2026-03-06",
            "place": "Dakar",
        },
    )
    other_cohort = training.create_cohort(
        coordinator,
        programme,
        {
            "title": "Cohort Accra",
            "starts_on": "2026-04-06",
            "ends_on": "2026-04-10",
            "online": "yes",
        },
    )
    training.add_trainer(coordinator, cohort, trainer.email)
    training.add_trainer(coordinator, other_cohort, other_trainer.email)
    enrolment = training.enrol(
        trainer, cohort,
        {"email": trainee.email, "country": "SN", "profession": "prosecutor", "gender": "female"},
    )  # fmt: skip
    classmate_enrolment = training.enrol(
        trainer, cohort, {"email": classmate.email, "country": "GH", "profession": "judge"}
    )
    return Course(
        programme=programme,
        cohort=cohort,
        other_cohort=other_cohort,
        coordinator=coordinator,
        secretariat=make_user("secretariat", wacap),
        trainer=trainer,
        other_trainer=other_trainer,
        trainee=trainee,
        classmate=classmate,
        outsider=make_user("coordinator", other),
        enrolment=enrolment,
        classmate_enrolment=classmate_enrolment,
    )


def complete_all(course: Course, enrolment: Enrolment) -> None:
    for module in course.programme.modules:
        training.set_progress(course.trainer, enrolment, module.id, "completed", date(2026, 3, 6))


def score_two_cohorts(course: Course) -> None:
    """Paper scores that differ by cohort. Dakar: pre 40 and 60, post 80 and 90 (means 50
    and 85). Accra: pre 30 and 50, post 45 and 75 (means 40 and 60), and a third trainee
    with a pre-test only, who counts in neither mean."""
    for enrolment, pre, post in (
        (course.enrolment, "40", "80"),
        (course.classmate_enrolment, "60", "90"),
    ):
        training.record_score(course.trainer, enrolment, "pre", pre)
        training.record_score(course.trainer, enrolment, "post", post)
    for name, pre, post in (("Kofi Example", "30", "45"), ("Adjoa Example", "50", "75")):
        enrolment = training.enrol(
            course.other_trainer,
            course.other_cohort,
            {"name": name, "country": "GH", "profession": "judge"},
        )
        training.record_score(course.other_trainer, enrolment, "pre", pre)
        training.record_score(course.other_trainer, enrolment, "post", post)
    absent = training.enrol(
        course.other_trainer,
        course.other_cohort,
        {"name": "Ama Example", "country": "GH", "profession": "judge"},
    )
    training.record_score(course.other_trainer, absent, "pre", "10")
