"""Training pages: programmes and their modules (materials, quiz questions), cohorts with
the trainer's progress grid, a trainee's "my training" page and tests, certification and
the printable certificate, the cascade, the programme report with its CSV export; and the
public certificate verification page (``certificates`` blueprint, no sign-in).

Every view loads (404), checks the policy (403), then acts through
``network.services.training``.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from network import i18n, policy
from network.blueprints.auth import reauth_required
from network.blueprints.utils import download, require
from network.errors import Conflict, DomainError, NotFound, ValidationError
from network.extensions import db, limiter
from network.models.directory import Network
from network.models.training import Question
from network.services import training

bp = Blueprint("training", __name__, url_prefix="/training")
public = Blueprint("certificates", __name__, url_prefix="/certificates")


def _today() -> Any:
    try:
        zone = ZoneInfo(getattr(current_user, "timezone", None) or "UTC")
    except (KeyError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.now(zone).date()


def _flash(error: DomainError) -> None:
    details = " ".join(v for v in error.fields.values() if v not in error.message)
    flash(f"{error.message} {details}".strip(), "error")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Training pages are for signed-in people; only certificate verification is public."""


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "training_labels": SimpleNamespace(
            profession=training.profession_label,
            gender=training.gender_label,
            status=training.status_label,
            kind=training.kind_label,
        )
    }


# --- Programmes --------------------------------------------------------------------------------


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "training/index.html",
        programmes=training.visible_programmes(current_user),
        networks=training.creatable_networks(current_user),
        mine=training.my_enrolments(current_user),
        trainer_cohorts=training.my_trainer_cohorts(current_user),
    )


@bp.post("/programmes")
def create_programme():  # type: ignore[no-untyped-def]
    network = db.session.scalar(
        db.select(Network).where(Network.slug == request.form.get("network", ""))
    )
    if network is None:
        raise NotFound(_("No such network."))
    try:
        programme = training.create_programme(current_user, network, request.form)
    except ValidationError as error:
        _flash(error)
        return redirect(url_for("training.index"))
    flash(_("The programme is created. Add its modules."), "success")
    return redirect(url_for("training.programme", programme_id=programme.id))


@bp.get("/programmes/<int:programme_id>")
def programme(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_programme(programme_id, current_user)
    manages = policy.can_manage_programme(current_user, found)
    roots, _generations = training.cascade_tree(found)
    readable = {c.id for c in training.visible_cohorts(current_user, found)}
    return render_template(
        "training/programme.html",
        linkable_events=training.linkable_events(found, current_user),
        programme=found,
        manages=manages,
        roots=roots,
        readable=readable,
        reach=training.reach(found),
        can_cascade=policy.can_lead_cascade(current_user, found),
    )


@bp.post("/modules/<int:module_id>/move")
def move_module(module_id: int):  # type: ignore[no-untyped-def]
    found = training.get_module(module_id, current_user)
    training.move_module(current_user, found, request.form.get("direction"))
    return redirect(url_for("training.programme", programme_id=found.programme_id) + "#modules")


@bp.post("/programmes/<int:programme_id>/edit")
def edit_programme(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_managed_programme(programme_id, current_user)
    try:
        training.update_programme(current_user, found, request.form)
    except ValidationError as error:
        _flash(error)
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("training.programme", programme_id=found.id))


@bp.post("/programmes/<int:programme_id>/modules")
def add_module(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_managed_programme(programme_id, current_user)
    try:
        module = training.add_module(current_user, found, request.form)
    except ValidationError as error:
        _flash(error)
        return redirect(url_for("training.programme", programme_id=found.id))
    return redirect(url_for("training.module", module_id=module.id))


@bp.post("/programmes/<int:programme_id>/cohorts")
def create_cohort(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_programme(programme_id, current_user)
    try:
        cohort = training.create_cohort(current_user, found, request.form)
    except ValidationError as error:
        _flash(error)
        return redirect(url_for("training.programme", programme_id=found.id))
    flash(_("The cohort is created. Enrol its trainees."), "success")
    return redirect(url_for("training.cohort", cohort_id=cohort.id))


# --- Modules -----------------------------------------------------------------------------------


@bp.route("/modules/<int:module_id>", methods=["GET", "POST"])
def module(module_id: int):  # type: ignore[no-untyped-def]
    found = training.get_module(module_id, current_user)
    manages = policy.can_manage_programme(current_user, found.programme)
    if request.method == "POST":
        require(manages)
        try:
            training.update_module(current_user, found, request.form)
        except ValidationError as error:
            _flash(error)
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("training.module", module_id=found.id))
    return render_template("training/module.html", module=found, manages=manages)


@bp.post("/modules/<int:module_id>/questions")
def add_question(module_id: int):  # type: ignore[no-untyped-def]
    found = training.get_module(module_id, current_user)
    try:
        training.add_question(
            current_user,
            found,
            request.form.get("text"),
            request.form.getlist("option"),
            request.form.get("correct"),
        )
    except ValidationError as error:
        _flash(error)
    else:
        flash(_("The question is added."), "success")
    return redirect(url_for("training.module", module_id=found.id) + "#quiz")


@bp.post("/questions/<int:question_id>/delete")
def delete_question(question_id: int):  # type: ignore[no-untyped-def]
    question = db.session.get(Question, question_id)
    if question is None:
        raise NotFound()
    found = training.get_module(question.module_id, current_user)
    training.delete_question(current_user, question)
    flash(_("The question is deleted."), "success")
    return redirect(url_for("training.module", module_id=found.id) + "#quiz")


@bp.post("/modules/<int:module_id>/materials")
def add_material(module_id: int):  # type: ignore[no-untyped-def]
    found = training.get_module(module_id, current_user)
    upload = request.files.get("file")
    try:
        training.add_material(current_user, found, upload)
    except ValidationError as error:
        _flash(error)
    else:
        flash(_("The file is added."), "success")
    return redirect(url_for("training.module", module_id=module_id))


@bp.post("/materials/<int:material_id>/delete")
def delete_material(material_id: int):  # type: ignore[no-untyped-def]
    found = training.get_material(material_id, current_user)
    module_id = found.module_id
    training.delete_material(current_user, found)
    flash(_("The file is deleted."), "success")
    return redirect(url_for("training.module", module_id=module_id))


@bp.get("/materials/<int:material_id>")
def material(material_id: int):  # type: ignore[no-untyped-def]
    found, data = training.material_for_download(material_id, current_user)
    response = Response(data, mimetype=found.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Cohorts -----------------------------------------------------------------------------------


@bp.get("/cohorts/<int:cohort_id>")
def cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    found = training.get_cohort(cohort_id, current_user)
    # Alphabetical as a reader expects: "Émile" with the Es, not after "Sophie".
    enrolments = sorted(found.enrolments, key=lambda e: (i18n.fold(e.name), e.name))
    ids = [e.id for e in enrolments]
    scores = training.scores_by_enrolment(ids)
    return render_template(
        "training/cohort.html",
        cohort=found,
        event=training.cohort_event(found, current_user),
        linkable_events=training.linkable_events(
            found.programme, current_user, found.parent_trainer
        ),
        programme=found.programme,
        enrolments=enrolments,
        progress=training.progress_map(enrolments),
        scores=scores,
        gain=training.gain_of(
            (scores.get(i, {}).get("pre"), scores.get(i, {}).get("post")) for i in ids
        ),
        can_update=policy.can_update_cohort(current_user, found),
        can_manage=policy.can_manage_cohort(current_user, found),
        can_certify=policy.can_certify(current_user, found.programme),
        countries=i18n.country_choices(),
        professions=training.profession_choices(),
        genders=training.gender_choices(),
        statuses=[(s.value, training.status_label(s)) for s in training.ProgressStatus],
    )


@bp.post("/cohorts/<int:cohort_id>/edit")
def edit_cohort(cohort_id: int):  # type: ignore[no-untyped-def]
    found = training.get_cohort(cohort_id, current_user)
    try:
        training.update_cohort(current_user, found, request.form)
    except ValidationError as error:
        _flash(error)
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("training.cohort", cohort_id=found.id))


@bp.post("/cohorts/<int:cohort_id>/trainers")
def add_trainer(cohort_id: int):  # type: ignore[no-untyped-def]
    found = training.get_cohort(cohort_id, current_user)
    try:
        training.add_trainer(current_user, found, request.form.get("email"))
    except ValidationError as error:
        _flash(error)
    return redirect(url_for("training.cohort", cohort_id=found.id))


@bp.post("/cohorts/<int:cohort_id>/enrolments")
def enrol(cohort_id: int):  # type: ignore[no-untyped-def]
    found = training.get_cohort(cohort_id, current_user)
    try:
        training.enrol(current_user, found, request.form)
    except (ValidationError, Conflict) as error:
        _flash(error)
    else:
        flash(_("The trainee is enrolled."), "success")
    return redirect(url_for("training.cohort", cohort_id=found.id))


@bp.post("/enrolments/<int:enrolment_id>/progress")
def set_progress(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = training.get_enrolment(enrolment_id, current_user)
    training.set_progress(
        current_user,
        enrolment,
        request.form.get("module_id"),
        request.form.get("status"),
        _today(),
    )
    flash(
        _("Progress of %(name)s saved.", name=i18n.isolate(enrolment.name, markup=False)), "success"
    )
    return redirect(url_for("training.cohort", cohort_id=enrolment.cohort_id) + "#grid")


@bp.post("/enrolments/<int:enrolment_id>/scores")
def record_score(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = training.get_enrolment(enrolment_id, current_user)
    training.record_score(
        current_user, enrolment, request.form.get("kind"), request.form.get("score")
    )
    flash(_("Score of %(name)s saved.", name=i18n.isolate(enrolment.name, markup=False)), "success")
    return redirect(url_for("training.cohort", cohort_id=enrolment.cohort_id) + "#grid")


@bp.post("/enrolments/<int:enrolment_id>/certify")
def certify(enrolment_id: int):  # type: ignore[no-untyped-def]
    enrolment = training.get_enrolment(enrolment_id, current_user)
    certificate = training.certify(current_user, enrolment, _today())
    flash(
        _("%(name)s is certified as a trainer.", name=i18n.isolate(enrolment.name, markup=False)),
        "success",
    )
    return redirect(url_for("training.certificate", certificate_id=certificate.id))


@bp.get("/certificates/<int:certificate_id>")
def certificate(certificate_id: int):  # type: ignore[no-untyped-def]
    found = training.get_certificate(certificate_id, current_user)
    return render_template(
        "training/certificate.html",
        certificate=found,
        verify_url=url_for("certificates.verify", code=found.code, _external=True),
    )


# --- A trainee ---------------------------------------------------------------------------------


@bp.get("/mine")
def mine():  # type: ignore[no-untyped-def]
    enrolments = training.my_enrolments(current_user)
    return render_template(
        "training/mine.html",
        enrolments=enrolments,
        progress=training.progress_map(enrolments),
        attempt_of=training.attempt_of,
        genders=training.gender_choices(),
    )


@bp.post("/enrolments/<int:enrolment_id>/gender")
def declare_gender(enrolment_id: int):  # type: ignore[no-untyped-def]
    found = training.get_enrolment(enrolment_id, current_user)
    try:
        training.declare_gender(current_user, found, request.form.get("gender"))
    except ValidationError as error:
        _flash(error)
    else:
        flash(_("Saved."), "success")
    return redirect(url_for("training.mine"))


@bp.get("/enrolments/<int:enrolment_id>")
def enrolment(enrolment_id: int):  # type: ignore[no-untyped-def]
    found = training.get_enrolment(enrolment_id, current_user)
    return render_template(
        "training/enrolment.html",
        enrolment=found,
        progress=training.progress_map([found]),
        attempt_of=training.attempt_of,
        unmet=training.unmet_requirements(found),
        can_certify=policy.can_certify(current_user, found.cohort.programme),
    )


@bp.route("/enrolments/<int:enrolment_id>/tests/<kind>", methods=["GET", "POST"])
def take_test(enrolment_id: int, kind: str):  # type: ignore[no-untyped-def]
    found = training.get_enrolment(enrolment_id, current_user)
    require(policy.can_take_test(current_user, found))
    taken = training.attempt_of(found, kind) if kind in {"pre", "post"} else None
    if kind not in {"pre", "post"}:
        raise NotFound(_("No such test."))
    errors: dict[str, str] = {}
    status = 200
    if request.method == "POST" and taken is None:
        answers = {
            key[1:]: value
            for key, value in request.form.items()
            if key.startswith("q") and key != "csrf_token"
        }
        try:
            attempt = training.submit_test(current_user, found, kind, answers)
        except ValidationError as error:
            shown = {f"q{q.id}" for q in training.test_questions(found.cohort.programme)}
            leftover = sorted({v for k, v in error.fields.items() if k not in shown})
            flash(" ".join([error.message, *leftover]), "error")
            errors, status = error.fields, 422
        else:
            flash(
                _("Your score: %(score)s%%.", score=f"{attempt.score:g}"),
                "success",
            )
            return redirect(url_for("training.mine"))
    return render_template(
        "training/test.html",
        enrolment=found,
        kind=kind,
        taken=taken,
        questions=training.test_questions(found.cohort.programme),
        errors=errors,
        chosen=request.form if request.method == "POST" else {},
    ), status


# --- Report ------------------------------------------------------------------------------------


@bp.get("/programmes/<int:programme_id>/report")
def report(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_managed_programme(programme_id, current_user)
    data = training.report(found)
    return render_template(
        "training/report.html",
        programme=found,
        report=data,
        chart_data=_chart_data(data),
    )


def _chart_data(data: dict[str, Any]) -> dict[str, Any]:
    """What the report's charts draw (static/js/training-report.js): per chart its
    category labels, its datasets, its axis titles, every word in the reader's language,
    and whether its bars lie across; and the locale the browser writes numbers in, with the
    server's digits."""

    def counts(
        title: str, counted: dict[str, int], name: Any, *, horizontal: bool = False
    ) -> dict[str, Any]:
        return {
            "labels": [name(k) for k in counted],
            "datasets": [{"label": _("Trainees"), "values": list(counted.values())}],
            "category_title": title,
            "value_title": _("Trainees"),
            "horizontal": horizontal,
        }

    cohorts = data["knowledge_gain_by_cohort"]
    return {
        "locale": i18n.number_locale_tag(),
        "charts": {
            # Names, long in some languages, read across beside their bars, not slanted.
            "country": counts(_("Country"), data["by_country"], i18n.country_name, horizontal=True),
            "profession": counts(
                _("Profession"), data["by_profession"], training.profession_label, horizontal=True
            ),
            "gender": counts(_("Gender"), data["by_gender"], training.gender_label),
            "generation": counts(_("Generation"), data["cascade_reach"]["by_generation"], str),
            # One group of bars per cohort, its mean pre-test and post-test scores, as in the
            # table beside the chart.
            "gain": {
                "labels": [c["title"] for c in cohorts],
                "datasets": [
                    {"label": _("Pre-test"), "values": [c["pre_mean"] for c in cohorts]},
                    {"label": _("Post-test"), "values": [c["post_mean"] for c in cohorts]},
                ],
                "category_title": _("Cohort"),
                "value_title": _("Mean score, per cent"),
                "percent": True,
                "horizontal": True,
            },
        },
    }


@bp.get("/programmes/<int:programme_id>/report.csv")
@reauth_required
def report_csv(programme_id: int):  # type: ignore[no-untyped-def]
    found = training.get_managed_programme(programme_id, current_user)
    body = training.export_report_csv(current_user, found)
    return download(body, "text/csv; charset=utf-8", f"programme-{found.id}-report.csv")


# --- Public verification -----------------------------------------------------------------------


@public.get("/verify/<code>")
@limiter.limit("60 per minute")  # codes carry 120 random bits; this only slows scanners
def verify(code: str):  # type: ignore[no-untyped-def]
    try:
        found = training.verify(code)
    except NotFound as error:
        return render_template("training/verify.html", certificate=None, message=error.message), 404
    return render_template("training/verify.html", certificate=found, message=None)
