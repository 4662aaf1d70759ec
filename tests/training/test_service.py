"""Training rules: tests scored automatically, bad input refused with nothing written,
the certification rule, the cascade and the report."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import event, func, select

from network.errors import Conflict, Forbidden, ValidationError
from network.models.training import Answer, Attempt, Certificate
from network.services import training
from tests.training.conftest import Course, complete_all, score_two_cohorts


def _count(db: Any, model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_pre_test_is_scored_automatically(course: Course, db: Any) -> None:
    answers = course.answers(correct=False)
    first = training.test_questions(course.programme)[0]
    answers[str(first.id)] = str(next(o.id for o in first.options if o.is_correct))
    attempt = training.submit_test(course.trainee, course.enrolment, "pre", answers)
    assert (attempt.correct, attempt.total, attempt.score) == (1, 2, 50.0)


def test_answer_to_a_question_not_in_the_quiz_is_refused_and_nothing_written(
    course: Course, db: Any, make_network: Any, make_user: Any
) -> None:
    coordinator = make_user("coordinator", make_network("ejn"))
    foreign = training.create_programme(coordinator, make_network("ejn"), {"title": "Other"})
    module = training.add_module(coordinator, foreign, {"title": "Elsewhere"})
    stray = training.add_question(coordinator, module, "Not in the quiz?", ["a", "b"], "0")
    answers = course.answers()
    answers[str(stray.id)] = str(stray.options[0].id)
    before = (_count(db, Attempt), _count(db, Answer))
    with pytest.raises(ValidationError) as caught:
        training.submit_test(course.trainee, course.enrolment, "pre", answers)
    assert caught.value.fields[f"q{stray.id}"] == "This question is not part of the test."
    assert (_count(db, Attempt), _count(db, Answer)) == before


def test_option_of_another_question_and_missing_answers_are_refused(course: Course) -> None:
    first, second = training.test_questions(course.programme)
    with pytest.raises(ValidationError) as caught:
        training.submit_test(
            course.trainee, course.enrolment, "pre", {str(first.id): str(second.options[0].id)}
        )
    assert set(caught.value.fields) == {f"q{first.id}", f"q{second.id}"}
    assert training.attempt_of(course.enrolment, "pre") is None


def test_a_test_is_taken_once(course: Course) -> None:
    training.submit_test(course.trainee, course.enrolment, "pre", course.answers())
    with pytest.raises(Conflict):
        training.submit_test(course.trainee, course.enrolment, "pre", course.answers())


def test_trainee_cannot_take_a_classmates_test(course: Course) -> None:
    with pytest.raises(Forbidden):
        training.submit_test(course.trainee, course.classmate_enrolment, "pre", course.answers())


@pytest.mark.parametrize("score", ["101", "-1", "abc", "nan", ""])
def test_score_out_of_range_is_refused_and_nothing_written(
    course: Course, db: Any, score: str
) -> None:
    before = _count(db, Attempt)
    with pytest.raises(ValidationError) as caught:
        training.record_score(course.trainer, course.classmate_enrolment, "post", score)
    assert "score" in caught.value.fields
    assert _count(db, Attempt) == before


def test_trainer_records_a_paper_score_only_in_their_cohort(course: Course) -> None:
    attempt = training.record_score(course.trainer, course.classmate_enrolment, "pre", "62.5")
    assert (attempt.score, attempt.recorded_by_id) == (62.5, course.trainer.id)
    with pytest.raises(Forbidden):
        training.record_score(course.other_trainer, course.classmate_enrolment, "pre", "70")


def test_sign_off_records_date_and_trainer(course: Course) -> None:
    module = course.programme.modules[0]
    row = training.set_progress(
        course.trainer, course.enrolment, module.id, "completed", date(2026, 3, 5)
    )
    assert (row.status, row.completed_on, row.signed_off_by_id) == (
        "completed",
        date(2026, 3, 5),
        course.trainer.id,
    )
    with pytest.raises(Forbidden):
        training.set_progress(
            course.other_trainer, course.enrolment, module.id, "completed", date(2026, 3, 5)
        )
    with pytest.raises(ValidationError):
        training.set_progress(course.trainer, course.enrolment, module.id, "done", date(2026, 3, 5))


def test_certificate_for_someone_not_meeting_the_rule_is_refused_nothing_written(
    course: Course, db: Any
) -> None:
    training.submit_test(course.trainee, course.enrolment, "post", course.answers())
    before = _count(db, Certificate)
    with pytest.raises(ValidationError) as caught:
        training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))
    assert "0 of 2 modules completed." in caught.value.message
    complete_all(course, course.classmate_enrolment)
    training.record_score(course.trainer, course.classmate_enrolment, "post", "69.9")
    with pytest.raises(ValidationError) as caught:
        training.certify(course.coordinator, course.classmate_enrolment, date(2026, 3, 7))
    assert "below the threshold of 70%" in caught.value.message
    assert _count(db, Certificate) == before


def test_coordinator_certifies_a_trainee_meeting_the_rule(course: Course) -> None:
    complete_all(course, course.enrolment)
    training.submit_test(course.trainee, course.enrolment, "post", course.answers())
    with pytest.raises(Forbidden):
        training.certify(course.secretariat, course.enrolment, date(2026, 3, 7))
    certificate = training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))
    assert len(certificate.code) >= 20
    assert training.verify(certificate.code) is certificate
    with pytest.raises(Conflict):
        training.certify(course.coordinator, course.enrolment, date(2026, 3, 8))


def test_certificate_codes_are_random(course: Course) -> None:
    for enrolment in (course.enrolment, course.classmate_enrolment):
        complete_all(course, enrolment)
        training.record_score(course.trainer, enrolment, "post", "90")
    a = training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))
    b = training.certify(course.coordinator, course.classmate_enrolment, date(2026, 3, 7))
    assert a.code != b.code
    assert not a.code.isdigit()


def certify_trainee(course: Course) -> Certificate:
    complete_all(course, course.enrolment)
    training.submit_test(course.trainee, course.enrolment, "pre", course.answers(False))
    training.submit_test(course.trainee, course.enrolment, "post", course.answers())
    return training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))


def test_only_a_certified_trainer_records_a_cascade(course: Course) -> None:
    data = {"title": "Home session", "starts_on": "2026-05-04", "ends_on": "2026-05-05"}
    with pytest.raises(Forbidden):
        training.create_cohort(course.classmate, course.programme, data)
    certify_trainee(course)
    cascade = training.create_cohort(course.trainee, course.programme, data)
    assert cascade.parent_trainer_id == course.trainee.id
    training.enrol(
        course.trainee, cascade, {"name": "Home Colleague", "country": "SN", "profession": "judge"}
    )
    roots, generations = training.cascade_tree(course.programme)
    assert generations[cascade.id] == 2
    dakar = next(n for n in roots if n.cohort.id == course.cohort.id)
    assert [c.cohort.id for c in dakar.children] == [cascade.id]


def test_report_counts_direct_trainees_gain_and_cascade(course: Course) -> None:
    certify_trainee(course)
    training.record_score(course.trainer, course.classmate_enrolment, "pre", "50")
    training.record_score(course.trainer, course.classmate_enrolment, "post", "75")
    cascade = training.create_cohort(
        course.trainee,
        course.programme,
        {"title": "Home", "starts_on": "2026-05-04", "ends_on": "2026-05-05"},
    )
    training.enrol(course.trainee, cascade, {"name": "A", "country": "ML", "profession": "other"})
    report = training.report(course.programme)
    assert report["participants"] == 2
    assert report["by_country"] == {"GH": 1, "SN": 1}
    assert report["by_profession"] == {"judge": 1, "prosecutor": 1}
    assert report["by_gender"] == {"female": 1, "not_given": 1}
    assert report["completion_rate"] == 0.5
    gain = report["knowledge_gain"]
    assert (gain["pre_mean"], gain["post_mean"], gain["points"]) == (25.0, 87.5, 62.5)
    assert gain["percent"] == 250.0
    reach = report["cascade_reach"]
    assert (reach["direct_trainees"], reach["later_generations"], reach["total"]) == (2, 1, 3)
    assert reach["by_country"] == {"GH": 1, "ML": 1, "SN": 1}
    assert report["certified"] == 1


def test_csv_export_guards_formula_injection(course: Course) -> None:
    training.enrol(
        course.trainer,
        course.cohort,
        {"name": '=HYPERLINK("http://x")', "country": "SN", "profession": "judge"},
    )
    text = training.report_csv(course.programme)
    lines = text.splitlines()
    assert lines[0].startswith("Name,Cohort,Generation,Country,Profession,Gender")
    assert any(line.startswith("\"'=HYPERLINK") for line in lines)
    assert not any(line.startswith("=") for line in lines)


def test_report_gives_each_cohort_its_own_knowledge_gain(course: Course) -> None:
    score_two_cohorts(course)
    by_cohort = training.report(course.programme)["knowledge_gain_by_cohort"]
    assert [
        (c["title"], c["trainees"], c["pre_mean"], c["post_mean"], c["points"], c["percent"])
        for c in by_cohort
    ] == [
        ("Cohort Dakar", 2, 50.0, 85.0, 35.0, 70.0),
        ("Cohort Accra", 2, 40.0, 60.0, 20.0, 50.0),
    ]
    assert [c["cohort_id"] for c in by_cohort] == [course.cohort.id, course.other_cohort.id]
    assert {c["generation"] for c in by_cohort} == {1}


def test_a_cohort_without_both_tests_has_no_gain(course: Course) -> None:
    by_cohort = training.report(course.programme)["knowledge_gain_by_cohort"]
    assert [(c["trainees"], c["pre_mean"], c["post_mean"]) for c in by_cohort] == [
        (0, None, None),
        (0, None, None),
    ]


def test_report_queries_do_not_grow_with_the_cohorts(course: Course, db: Any) -> None:
    def statements() -> int:
        db.session.expire_all()
        seen: list[str] = []

        def count(*_args: Any) -> None:
            seen.append("statement")

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            training.report(course.programme)
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    score_two_cohorts(course)
    before = statements()
    for day in range(4, 8):
        cohort = training.create_cohort(
            course.coordinator,
            course.programme,
            {"title": f"Cohort {day}", "starts_on": f"2026-05-0{day}", "ends_on": "2026-05-09"},
        )
        training.add_trainer(course.coordinator, cohort, course.trainer.email)
        enrolment = training.enrol(
            course.trainer, cohort, {"name": f"T {day}", "country": "SN", "profession": "other"}
        )
        training.record_score(course.trainer, enrolment, "pre", "50")
        training.record_score(course.trainer, enrolment, "post", "70")
    assert before > 0
    assert statements() == before


def test_knowledge_gain_needs_both_scores() -> None:
    gain = training.gain_of([(50.0, None), (None, 80.0)])
    assert (gain.trainees, gain.percent) == (0, None)
    gain = training.gain_of([(60.0, 80.0), (30.0, 40.0)])
    assert (gain.pre_mean, gain.post_mean, gain.points, gain.percent) == (45.0, 60.0, 15.0, 33.3)


def test_material_files_survive_the_orphan_purge(course: Course) -> None:
    import os
    from datetime import timedelta

    from network.services import attachments

    module = course.programme.modules[0]
    material = training.add_material(course.coordinator, module, ("plan.txt", b"Day 1: MLA\n"))
    path = attachments.storage_path(material)  # type: ignore[arg-type]
    old = path.stat().st_mtime - 30 * 24 * 3600
    os.utime(path, (old, old))
    attachments.purge_stale_uploads(timedelta(days=1))
    assert path.exists()
    assert attachments.read_content(material) == b"Day 1: MLA\n"  # type: ignore[arg-type]
