"""Case pages: a central authority's case list sorted by priority, a new case, the case
page (facts, priority with its reasons, status workflow, the timeline of status changes
and messages together) and its edit form.

Every view loads (404 for anyone outside the case channel), checks (403), then acts
through ``network.services.cases``; the forms hold the fields, the service the rules.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from network import i18n, policy
from network.blueprints.forms import Form
from network.blueprints.utils import apply_errors, require
from network.errors import ValidationError
from network.models.cases import Case
from network.services import cases

bp = Blueprint("cases", __name__, url_prefix="/cases")


# --- Forms ----------------------------------------------------------------------------------


class CaseForm(Form):
    """The fields of a case that can be edited after it is opened."""

    reference = StringField(
        _l("Reference"),
        validators=[Length(max=cases.MAX_REFERENCE)],
        render_kw={"maxlength": cases.MAX_REFERENCE, "autocomplete": "off"},
    )
    case_type = SelectField(_l("Type of case"))
    requesting_state = SelectField(_l("Requesting state"))
    requested_state = SelectField(_l("Requested state"))
    legal_basis = StringField(
        _l("Legal basis"),
        validators=[Length(max=cases.MAX_LEGAL_BASIS)],
        render_kw={
            "maxlength": cases.MAX_LEGAL_BASIS,
            "placeholder": _l("e.g. UNTOC art. 18; bilateral treaty of 2015"),
        },
    )
    summary = TextAreaField(
        _l("Summary of the facts (confidential)"),
        validators=[Length(max=cases.MAX_SUMMARY)],
        render_kw={"rows": 4, "maxlength": cases.MAX_SUMMARY},
    )
    deadline = DateField(_l("Deadline"), validators=[Optional()])
    urgent = BooleanField(_l("Urgent"))
    urgency_reason = StringField(
        _l("Why it is urgent"),
        validators=[Length(max=cases.MAX_URGENCY_REASON)],
        render_kw={"maxlength": cases.MAX_URGENCY_REASON},
    )
    offence_seriousness = SelectField(_l("Seriousness of the offence"))
    pretrial_detention = BooleanField(_l("A person is in pre-trial detention"))
    evidence_at_risk = BooleanField(_l("Key evidence is at risk of being lost"))
    proceedings_stage = SelectField(_l("Stage of proceedings"))
    submit = SubmitField(_l("Save"))


class NewCaseForm(CaseForm):
    network = SelectField(_l("Network"))
    status = SelectField(_l("Status"))
    members = SelectMultipleField(_l("Members of the case channel"), coerce=int)
    submit = SubmitField(_l("Open the case"))


class StatusForm(Form):
    status = SelectField(_l("New status"))
    note = TextAreaField(
        _l("Note"),
        validators=[Length(max=cases.MAX_NOTE)],
        render_kw={"rows": 2, "maxlength": cases.MAX_NOTE},
    )
    submit = SubmitField(_l("Change the status"))


def _fill_choices(form: CaseForm) -> None:
    blank = [("", _("Choose…"))]
    form.case_type.choices = blank + cases.case_type_choices()
    countries = i18n.country_choices()
    form.requesting_state.choices = blank + countries
    form.requested_state.choices = blank + countries
    form.offence_seriousness.choices = cases.seriousness_choices()
    form.proceedings_stage.choices = cases.stage_choices()
    if isinstance(form, NewCaseForm):
        form.network.choices = [
            (n.slug, f"{n.acronym} — {n.name}") for n in cases.creatable_networks(current_user)
        ]
        form.status.choices = cases.status_choices(cases.INITIAL_STATUSES)
        form.members.choices = [
            (person.id, f"{person.name} ({', '.join(acronyms)})")
            for person, acronyms in cases.member_candidates(current_user)
        ]


def _form_data(form: CaseForm) -> dict[str, Any]:
    return {
        name: field.data
        for name, field in form._fields.items()
        if name not in {"submit", "csrf_token", "network"}
    }


def _status_form(found: Case) -> StatusForm | None:
    if not policy.can_update_case(current_user, found) or not cases.allowed_transitions(found):
        return None
    form = StatusForm()
    next_statuses = cases.status_choices(cases.allowed_transitions(found))
    form.status.choices = [("", _("Choose…")), *next_statuses]
    return form


@bp.before_request
@login_required
def _signed_in() -> None:
    """Cases are for signed-in members of their case channel only."""


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "case_labels": SimpleNamespace(
            type=cases.case_type_label,
            status=cases.status_label,
            seriousness=cases.seriousness_label,
            stage=cases.stage_label,
        )
    }


# --- Views ----------------------------------------------------------------------------------


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    status = 200
    try:
        filters = cases.parse_filters(request.args)
    except ValidationError as error:
        # Drop what was not understood, say so, and still show the list.
        flash(error.message + " " + " ".join(error.fields.values()), "error")
        clean = MultiDict(
            [(k, v) for k, v in request.args.items(multi=True) if k not in error.fields]
        )
        filters = cases.parse_filters(clean)
        status = 400
    page = cases.list_cases(current_user, filters)

    def page_url(number: int) -> str:
        args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
        return url_for("cases.index", **MultiDict([*args, ("page", str(number))]).to_dict(False))

    return render_template(
        "cases/index.html",
        page=page,
        page_url=page_url,
        networks=cases.filter_networks(current_user),
        statuses=cases.status_choices(),
        case_types=cases.case_type_choices(),
        sort_labels={
            "priority": _("Priority"),
            "deadline": _("Deadline"),
            "reference": _("Reference"),
            "updated": _("Recently updated"),
        },
        can_create=bool(cases.creatable_networks(current_user)),
        selected_state=(filters.state[0] if filters.state else ""),
        country_choices=i18n.country_choices(),
    ), status


@bp.route("/new", methods=["GET", "POST"])
def create():  # type: ignore[no-untyped-def]
    require(bool(cases.creatable_networks(current_user)))
    form = NewCaseForm()
    _fill_choices(form)
    if request.method == "GET" and len(form.network.choices) == 1:
        form.network.data = form.network.choices[0][0]
    if form.validate_on_submit():
        try:
            network = cases.network_for_new_case(form.network.data, current_user)
            found = cases.create_case(current_user, network, _form_data(form))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(
                _(
                    "The case %(reference)s is open.",
                    reference=i18n.isolate(found.reference, markup=False),
                ),
                "success",
            )
            return redirect(url_for("cases.show", case_id=found.id))
    elif request.method == "POST":
        flash(_("Some values are not valid."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("cases/edit.html", form=form, case=None), status


def _render_case(found: Case, status_form: StatusForm | None, code: int = 200):  # type: ignore[no-untyped-def]
    today = cases.today_for(current_user)
    return render_template(
        "cases/show.html",
        case=found,
        summary=cases.case_summary(found),
        priority=cases.priority(found, today),
        overdue=cases.is_overdue(found, today),
        final=cases.is_final(found),
        timeline=cases.timeline(found, current_user),
        members=sorted(
            found.channel.members, key=lambda m: (not m.is_owner, i18n.fold(m.user.name))
        ),
        can_update=policy.can_update_case(current_user, found),
        status_form=status_form,
    ), code


@bp.get("/<int:case_id>")
def show(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    return _render_case(found, _status_form(found))


@bp.post("/<int:case_id>/status")
def change_status(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    require(policy.can_update_case(current_user, found))
    form = _status_form(found)
    if form is None:
        flash(_("The status of this case can no longer change."), "error")
        return _render_case(found, None, 422)
    if form.validate_on_submit():
        try:
            change = cases.change_status(current_user, found, form.status.data, form.note.data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(
                _("The case is now: %(status)s.", status=cases.status_label(change.to_status)),
                "success",
            )
            return redirect(url_for("cases.show", case_id=found.id))
    else:
        flash(_("Some values are not valid."), "error")
    return _render_case(found, form, 422)


@bp.route("/<int:case_id>/edit", methods=["GET", "POST"])
def edit(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    require(policy.can_update_case(current_user, found))
    if request.method == "GET":
        form = CaseForm(
            data={
                **cases.criteria_of(found),
                "reference": found.reference,
                "case_type": found.case_type,
                "requesting_state": found.requesting_state,
                "requested_state": found.requested_state,
                "legal_basis": found.legal_basis,
                "summary": cases.case_summary(found),
                "deadline": found.deadline,
            }
        )
    else:
        form = CaseForm()
    _fill_choices(form)
    if form.validate_on_submit():
        try:
            cases.update_case(current_user, found, _form_data(form))
        except ValidationError as error:
            apply_errors(form, error)
        else:
            flash(_("The case is saved."), "success")
            return redirect(url_for("cases.show", case_id=found.id))
    elif request.method == "POST":
        flash(_("Some values are not valid."), "error")
    status = 422 if request.method == "POST" else 200
    return render_template("cases/edit.html", form=form, case=found), status
