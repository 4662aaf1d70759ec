"""Training pages and API through HTTP: who sees what (policy), forms, the public
verification page, the report and its CSV, the JSON API."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select

from network.errors import Forbidden
from network.models.training import Certificate
from network.services import training
from tests.conftest import csrf_token
from tests.training.conftest import Course, complete_all, score_two_cohorts


def _certified(course: Course) -> Certificate:
    complete_all(course, course.enrolment)
    training.submit_test(course.trainee, course.enrolment, "pre", course.answers(False))
    training.submit_test(course.trainee, course.enrolment, "post", course.answers())
    return training.certify(course.coordinator, course.enrolment, date(2026, 3, 7))


# --- Policy ---------------------------------------------------------------------------------


def test_trainee_sees_own_scores_not_a_classmates(course: Course, client: Any, login: Any) -> None:
    training.record_score(course.trainer, course.classmate_enrolment, "pre", "41.5")
    training.submit_test(course.trainee, course.enrolment, "pre", course.answers())
    login(client, course.trainee)
    mine = client.get("/training/mine").get_data(as_text=True)
    assert "100.0%" in mine
    assert "41.5" not in mine
    assert client.get(f"/training/enrolments/{course.enrolment.id}").status_code == 200
    assert client.get(f"/training/enrolments/{course.classmate_enrolment.id}").status_code == 404
    assert client.get(f"/training/cohorts/{course.cohort.id}").status_code == 404
    assert client.get(f"/training/programmes/{course.programme.id}/report").status_code == 403
    # The programme outline is visible to its trainee, without the cohorts' scores.
    page = client.get(f"/training/programmes/{course.programme.id}").get_data(as_text=True)
    assert "Mutual legal assistance" in page
    assert "41.5" not in page


def test_trainer_sees_only_their_cohorts(course: Course, client: Any, login: Any) -> None:
    login(client, course.other_trainer)
    assert client.get(f"/training/cohorts/{course.other_cohort.id}").status_code == 200
    assert client.get(f"/training/cohorts/{course.cohort.id}").status_code == 404
    assert client.get(f"/training/enrolments/{course.enrolment.id}").status_code == 404
    response = client.post(
        f"/training/enrolments/{course.enrolment.id}/progress",
        data={
            "csrf_token": csrf_token(client, "/training/"),
            "module_id": course.programme.modules[0].id,
            "status": "completed",
        },
    )
    assert response.status_code == 404
    assert training.completed_count(course.enrolment) == 0


def test_trainer_signs_off_a_module_from_the_grid(course: Course, client: Any, login: Any) -> None:
    login(client, course.trainer)
    grid = client.get(f"/training/cohorts/{course.cohort.id}").get_data(as_text=True)
    assert course.trainee.name in grid
    module = course.programme.modules[0]
    response = client.post(
        f"/training/enrolments/{course.enrolment.id}/progress",
        data={"csrf_token": csrf_token(client, "/training/"), "module_id": module.id,
              "status": "completed"},
    )  # fmt: skip
    assert response.status_code == 302
    assert training.completed_count(course.enrolment) == 1


def test_member_of_another_network_sees_nothing(course: Course, client: Any, login: Any) -> None:
    login(client, course.outsider)
    assert course.programme.title not in client.get("/training/").get_data(as_text=True)
    for path in (
        f"/training/programmes/{course.programme.id}",
        f"/training/programmes/{course.programme.id}/report",
        f"/training/programmes/{course.programme.id}/report.csv",
        f"/training/cohorts/{course.cohort.id}",
        f"/training/enrolments/{course.enrolment.id}",
        f"/training/modules/{course.programme.modules[0].id}",
        f"/api/v1/programmes/{course.programme.id}/report",
    ):
        assert client.get(path).status_code == 404, path
    assert client.get("/api/v1/programmes").get_json()["total"] == 0


def test_anonymous_sees_only_the_verification_page(course: Course, client: Any) -> None:
    certificate = _certified(course)
    for path in (
        "/training/",
        f"/training/programmes/{course.programme.id}",
        f"/training/cohorts/{course.cohort.id}",
        f"/training/certificates/{certificate.id}",
    ):
        assert client.get(path).status_code == 302, path
    assert client.get("/api/v1/programmes").status_code == 401
    page = client.get(f"/certificates/verify/{certificate.code}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert course.trainee.name in html
    assert course.programme.title in html
    assert "SN" not in html.split('id="verify-result"')[1].split("</section>")[0]
    assert course.trainee.email not in html


def test_unknown_code_is_a_clear_404(client: Any, db: Any) -> None:
    response = client.get("/certificates/verify/not-a-real-code-123456")
    assert response.status_code == 404
    assert "No certificate has this verification code." in response.get_data(as_text=True)


# --- Forms -----------------------------------------------------------------------------------


def test_trainee_takes_the_pre_test_through_the_form(
    course: Course, client: Any, login: Any
) -> None:
    login(client, course.trainee)
    path = f"/training/enrolments/{course.enrolment.id}/tests/pre"
    assert client.get(path).status_code == 200
    data = {f"q{k}": v for k, v in course.answers().items()}
    data["q999999"] = "1"
    data["csrf_token"] = csrf_token(client, path)
    refused = client.post(path, data=data)
    assert refused.status_code == 422
    assert "This question is not part of the test." in refused.get_data(as_text=True)
    del data["q999999"]
    assert client.post(path, data=data).status_code == 302
    assert training.attempt_of(course.enrolment, "pre").score == 100.0


def test_certifying_someone_not_meeting_the_rule_shows_a_clear_error(
    course: Course, client: Any, login: Any, db: Any
) -> None:
    login(client, course.coordinator)
    response = client.post(
        f"/training/enrolments/{course.enrolment.id}/certify",
        data={"csrf_token": csrf_token(client, "/training/")},
    )
    assert response.status_code == 422
    assert "does not meet the certification rule" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Certificate)) == 0


def test_coordinator_certifies_and_prints(course: Course, client: Any, login: Any) -> None:
    complete_all(course, course.enrolment)
    training.submit_test(course.trainee, course.enrolment, "post", course.answers())
    login(client, course.coordinator)
    response = client.post(
        f"/training/enrolments/{course.enrolment.id}/certify",
        data={"csrf_token": csrf_token(client, "/training/")},
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    certificate = course.enrolment.certificate
    assert certificate.code in page
    assert f"/certificates/verify/{certificate.code}" in page


def test_coordinator_builds_a_module_with_a_quiz_and_material(
    course: Course, client: Any, login: Any
) -> None:
    login(client, course.coordinator)
    token = csrf_token(client, "/training/")
    response = client.post(
        f"/training/programmes/{course.programme.id}/modules",
        data={"csrf_token": token, "title": "E-evidence", "duration_minutes": "120"},
    )
    module_path = response.headers["Location"]
    module_id = int(module_path.rsplit("/", 1)[1])
    client.post(
        f"/training/modules/{module_id}/questions",
        data={"csrf_token": token, "text": "Who preserves data?", "option": ["24/7", "Nobody"],
              "correct": "0"},
    )  # fmt: skip
    upload = client.post(
        f"/training/modules/{module_id}/materials",
        data={
            "csrf_token": token,
            "file": (__import__("io").BytesIO(b"Slides text\n"), "notes.txt"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    page = client.get(module_path).get_data(as_text=True)
    assert "Who preserves data?" in page
    assert "notes.txt" in page
    material = training.get_module(module_id, course.coordinator).materials[0]
    download = client.get(f"/training/materials/{material.id}")
    assert download.data == b"Slides text\n"
    bad = client.post(
        f"/training/modules/{module_id}/materials",
        data={"csrf_token": token, "file": (__import__("io").BytesIO(b"MZ\x90\x00"), "x.exe")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 302
    assert len(training.get_module(module_id, course.coordinator).materials) == 1


def test_report_page_and_csv(course: Course, client: Any, login: Any) -> None:
    _certified(course)
    login(client, course.secretariat)
    page = client.get(f"/training/programmes/{course.programme.id}/report")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'id="report-data"' in html
    assert "chart.umd.min.js" in html
    assert "<table" in html
    csv = client.get(f"/training/programmes/{course.programme.id}/report.csv")
    assert csv.mimetype == "text/csv"
    assert course.trainee.name in csv.get_data(as_text=True)
    # The export is audited (issue 8).
    from network.extensions import db
    from network.models.people import AuditEvent

    exported = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "training.report_export")
    ).all()
    assert [(e.actor_id, e.entity_id) for e in exported] == [
        (course.secretariat.id, course.programme.id)
    ]
    # The header row follows the reader's language (issue 9).
    spanish = client.get(
        f"/training/programmes/{course.programme.id}/report.csv",
        headers={"Accept-Language": "es"},
    ).get_data(as_text=True)
    header = spanish.splitlines()[0]
    assert header.startswith("Nombre,"), header
    assert "name" not in header.split(",")
    assert "Género" in header
    assert "Puntuación de la prueba inicial" in header


# --- API --------------------------------------------------------------------------------------


def test_api_lists_programmes_and_report(course: Course, client: Any, login: Any) -> None:
    _certified(course)
    login(client, course.coordinator)
    body = client.get("/api/v1/programmes").get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 1
    assert body["items"][0]["network"] == "wacap"
    report = client.get(f"/api/v1/programmes/{course.programme.id}/report").get_json()
    for key in ("participants", "by_country", "by_profession", "completion_rate",
                "knowledge_gain", "cascade_reach"):  # fmt: skip
        assert key in report
    assert report["participants"] == 2
    by_cohort = report["knowledge_gain_by_cohort"]
    assert [c["title"] for c in by_cohort] == ["Cohort Dakar", "Cohort Accra"]
    assert by_cohort[0]["trainees"] == 1


def test_api_report_is_for_managers_and_errors_are_enveloped(
    course: Course, client: Any, login: Any
) -> None:
    login(client, course.trainer)
    response = client.get(f"/api/v1/programmes/{course.programme.id}/report")
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"
    missing = client.get("/api/v1/programmes/999999/report")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    bad = client.get("/api/v1/programmes?per_page=1000")
    assert bad.status_code == 422
    assert "per_page" in bad.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/api/v1/openapi.json"])
def test_openapi_documents_the_training_routes(client: Any, db: Any, path: str) -> None:
    paths = client.get(path).get_json()["paths"]
    assert "/programmes" in paths
    assert "/programmes/{programme_id}/report" in paths


def test_coordinator_reorders_modules(course: Course, client: Any, login: Any) -> None:
    first, second = course.programme.modules
    login(client, course.coordinator)
    token = csrf_token(client, "/training/")
    response = client.post(
        f"/training/modules/{second.id}/move", data={"csrf_token": token, "direction": "up"}
    )
    assert response.status_code == 302
    assert [m.id for m in course.programme.modules] == [second.id, first.id]
    assert [q.module_id for q in training.test_questions(course.programme)] == [
        second.id,
        first.id,
    ]
    with pytest.raises(Forbidden):
        training.move_module(course.trainer, second, "down")


def test_programme_page_shows_reach_to_viewers_without_scores(
    course: Course, client: Any, login: Any
) -> None:
    _certified(course)
    login(client, course.classmate)
    html = client.get(f"/training/programmes/{course.programme.id}").get_data(as_text=True)
    assert 'id="reach-table"' in html
    assert "Generation 1" in html
    assert "see the report" not in html


def test_a_cohort_ending_before_it_starts_is_refused(course: Course) -> None:
    with pytest.raises(training.ValidationError):
        training.create_cohort(
            course.coordinator,
            course.programme,
            {"title": "Bad", "starts_on": "2026-06-03", "ends_on": "2026-06-01"},
        )


def test_trainee_declares_their_own_gender(course: Course, client: Any, login: Any) -> None:
    login(client, course.classmate)
    token = csrf_token(client, "/training/mine")
    response = client.post(
        f"/training/enrolments/{course.classmate_enrolment.id}/gender",
        data={"csrf_token": token, "gender": "prefer_not_to_say"},
    )
    assert response.status_code == 302
    assert course.classmate_enrolment.gender == "prefer_not_to_say"
    refused = client.post(
        f"/training/enrolments/{course.enrolment.id}/gender",
        data={"csrf_token": token, "gender": "male"},
    )
    assert refused.status_code == 404
    assert course.enrolment.gender == "female"


def test_coordinator_edits_a_cohort_and_bad_dates_change_nothing(
    course: Course, client: Any, login: Any
) -> None:
    login(client, course.coordinator)
    token = csrf_token(client, "/training/")
    path = f"/training/cohorts/{course.cohort.id}/edit"
    data = {
        "csrf_token": token,
        "title": "Cohort Dakar (hybrid)",
        "starts_on": "2026-03-02",
        "ends_on": "2026-03-06",
        "place": "Dakar",
        "online": "yes",
        "event_id": "",
    }
    assert client.post(path, data=data).status_code == 302
    assert (course.cohort.title, course.cohort.online, course.cohort.event_id) == (
        "Cohort Dakar (hybrid)",
        True,
        None,
    )
    # An event id the programme's network does not organise is refused; nothing changes.
    client.post(path, data={**data, "title": "Changed", "event_id": "4242"})
    assert (course.cohort.title, course.cohort.event_id) == ("Cohort Dakar (hybrid)", None)
    client.post(path, data={**data, "title": "Changed", "ends_on": "2026-01-01"})
    assert course.cohort.title == "Cohort Dakar (hybrid)"
    assert course.cohort.ends_on.isoformat() == "2026-03-06"


def test_coordinator_deletes_a_material(course: Course, client: Any, login: Any) -> None:
    from network.services import attachments

    module = course.programme.modules[0]
    material = training.add_material(course.coordinator, module, ("plan.txt", b"Plan\n"))
    path = attachments.storage_path(material)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        training.delete_material(course.trainer, material)
    assert path.exists()
    login(client, course.coordinator)
    token = csrf_token(client, "/training/")
    response = client.post(f"/training/materials/{material.id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert not path.exists()
    assert training.get_module(module.id, course.coordinator).materials == []


def test_programme_page_shows_reach_by_country_and_profession(
    course: Course, client: Any, login: Any
) -> None:
    login(client, course.trainee)
    html = client.get(f"/training/programmes/{course.programme.id}").get_data(as_text=True)
    table = html.split('id="reach-country"')[1].split("</table>")[0]
    assert "Senegal" in table
    assert "Ghana" in table


def test_report_figures_follow_the_readers_locale(course: Course, client: Any, login: Any) -> None:
    _certified(course)
    login(client, course.secretariat)
    path = f"/training/programmes/{course.programme.id}/report"
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    spanish = client.get(path, headers={"Accept-Language": "es"}).get_data(as_text=True)
    # A decimal comma in Spanish where English has a decimal point, in the same figures.
    assert re.search(r"<td>50\.0%</td>", english)  # completion rate: one of two trainees
    assert re.search(r"<td>50,0\s?%</td>", spanish)


def _chart_data(html: str) -> Any:
    found = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html)
    assert found, "the report carries its charts' data"
    return json.loads(found.group(1))


def test_knowledge_gain_chart_has_one_group_of_bars_per_cohort(
    course: Course, client: Any, login: Any
) -> None:
    score_two_cohorts(course)
    login(client, course.secretariat)
    html = client.get(f"/training/programmes/{course.programme.id}/report").get_data(as_text=True)
    gain = _chart_data(html)["charts"]["gain"]
    assert gain["labels"] == ["Cohort Dakar", "Cohort Accra"]
    assert gain["datasets"] == [
        {"label": "Pre-test", "values": [50.0, 40.0]},
        {"label": "Post-test", "values": [85.0, 60.0]},
    ]
    assert (gain["category_title"], gain["value_title"]) == ("Cohort", "Mean score, per cent")
    # The table beside the chart gives the same figures, one row per cohort.
    table = html.split('id="table-gain"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><th scope=\"row\"><bdi>(.*?)</bdi></th>(.*?)</tr>", table)
    assert [(name, re.findall(r"<td>(.*?)</td>", cells)) for name, cells in rows] == [
        ("Cohort Dakar", ["50.0%", "85.0%", "+70.0%"]),
        ("Cohort Accra", ["40.0%", "60.0%", "+50.0%"]),
    ]


def test_report_charts_take_their_words_and_number_locale_from_the_page(
    course: Course, client: Any, login: Any
) -> None:
    score_two_cohorts(course)
    login(client, course.secretariat)
    path = f"/training/programmes/{course.programme.id}/report"
    french = _chart_data(client.get(path, headers={"Accept-Language": "fr"}).get_data(as_text=True))
    assert french["locale"] == "fr-u-nu-latn"
    assert french["charts"]["country"]["value_title"] == "Stagiaires"
    assert french["charts"]["country"]["labels"] == ["Ghana", "Sénégal"]
    assert [d["label"] for d in french["charts"]["gain"]["datasets"]] == ["Pré-test", "Post-test"]
    # Arabic: the browser writes the server's Latin digits, not Arabic-Indic ones.
    arabic = client.get(path, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert 'dir="rtl"' in arabic
    assert _chart_data(arabic)["locale"] == "ar-u-nu-latn"


def test_signed_figures_keep_their_sign_before_the_number_on_arabic_pages(
    course: Course, client: Any, login: Any
) -> None:
    score_two_cohorts(course)
    login(client, course.secretariat)
    path = f"/training/programmes/{course.programme.id}/report"
    arabic = client.get(path, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    gain = arabic.split('id="gain-percent">')[1].split("</td>")[0]
    # A left-to-right mark ties "+" to the number after it ("+61.1%", not "61.1%+"): the
    # direct trainees' means are 45 and 72.5.
    assert gain.startswith("\u200e+61.1")
    assert "(\u200e+27.5 " in gain
    english = client.get(path, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "\u200e" not in english.split('id="gain-percent">')[1].split("</td>")[0]
