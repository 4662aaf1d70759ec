"""Live consultation pages and their API route.

Pages: start one from a case channel or a direct conversation, the room (presence,
messages, voice and video through ``static/js/consultation.js``; the door for an invited
person), and the transcript as text and as a printable page. API: ``POST
/api/v1/consultations`` (API.md) and ``GET /api/v1/consultations/<id>``.

Every view loads through ``network.services.consultations`` (404 for anyone the policy
does not let read the room), and the service asks the policy for every action.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_login import current_user, login_required
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from network import policy
from network.blueprints.auth import reauth_required
from network.blueprints.forms import Form
from network.blueprints.utils import apply_errors, download, require
from network.errors import Unauthorized, ValidationError
from network.models.consultations import ParticipantState
from network.services import consultations, messaging

bp = Blueprint("consultations", __name__, url_prefix="/consultations")
api_bp = Blueprint("api_consultations", __name__, url_prefix="/api/v1")


@bp.app_context_processor
def _consultation_helpers() -> dict[str, Any]:
    """For the case page and the channel page: the rooms started from there."""
    return {
        "consultations_of": lambda channel: consultations.consultations_for_channel(
            channel, current_user
        ),
        "consultation_status_label": consultations.status_label,
        "consultation_of_channel": consultations.consultation_of_channel,
    }


@bp.before_request
@login_required
def _signed_in() -> None:
    return None


@api_bp.before_request
def _authenticated() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized()


class StartForm(Form):
    title = StringField(
        lazy_pgettext("title of a thing", "Title"),
        validators=[Length(max=consultations.MAX_TITLE)],
        render_kw={"maxlength": consultations.MAX_TITLE, "autocomplete": "off"},
    )
    participants = SelectMultipleField(
        _l("Invite"),
        coerce=str,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    submit = SubmitField(_l("Open the room and invite"))


@bp.route("/new", methods=["GET", "POST"])
def start():  # type: ignore[no-untyped-def]
    """Start a consultation from a case channel or a direct conversation (``channel_id``)."""
    origin = messaging.get_channel(request.args.get("channel_id", type=int), current_user)
    require(policy.can_start_consultation_from(current_user, origin))
    people = consultations.people_to_start_with(current_user, origin)
    form = StartForm()
    form.participants.choices = [(str(p.id), p.name) for p in people]
    if request.method == "GET":
        form.title.data = _("Consultation: %(name)s", name=origin.name)[: consultations.MAX_TITLE]
        form.participants.data = [str(p.id) for p in people]
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        try:
            found = consultations.create_consultation(
                current_user,
                form.title.data,
                form.participants.data,
                origin_channel_id=origin.id,
            )
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            return redirect(url_for("consultations.room", consultation_id=found.id))
    elif request.method == "POST":
        status = 422
    return render_template("consultations/new.html", form=form, origin=origin), status


@bp.get("/<int:consultation_id>")
def room(consultation_id: int):  # type: ignore[no-untyped-def]
    found = consultations.get_consultation(consultation_id, current_user)
    can_join = policy.can_join_consultation(current_user, found)
    return render_template(
        "consultations/room.html",
        consultation=found,
        can_join=can_join,
        can_wait=policy.can_wait_for_consultation(current_user, found),
        can_moderate=policy.can_moderate_consultation(current_user, found),
        can_read_transcript=policy.can_read_consultation_transcript(current_user, found),
        invitable=(
            consultations.invitable_people(found, current_user)
            if policy.can_moderate_consultation(current_user, found)
            else []
        ),
        status_label=consultations.status_label,
        state_label=consultations.state_label,
        states=ParticipantState,
    )


@bp.get("/<int:consultation_id>/transcript")
def transcript(consultation_id: int):  # type: ignore[no-untyped-def]
    found, messages = consultations.transcript(consultation_id, current_user)
    return render_template(
        "consultations/transcript.html",
        consultation=found,
        messages=messages,
        payloads=messaging.payloads(messages),
        line_kind=consultations.line_kind,
        status_label=consultations.status_label,
    )


@bp.get("/<int:consultation_id>/transcript.txt")
@reauth_required
def transcript_text(consultation_id: int):  # type: ignore[no-untyped-def]
    found, messages = consultations.transcript(consultation_id, current_user)
    return download(
        consultations.transcript_text(found, messages, current_user),
        "text/plain; charset=utf-8",
        f"consultation-{found.id}.txt",
    )


@bp.post("/<int:consultation_id>/end")
def end(consultation_id: int):  # type: ignore[no-untyped-def]
    """The moderator ends the consultation (the page's button works without script)."""
    consultations.end(consultation_id, current_user)
    return redirect(url_for("consultations.room", consultation_id=consultation_id))


# --- API ------------------------------------------------------------------------------------


@api_bp.post("/consultations")
def api_create():  # type: ignore[no-untyped-def]
    data: Any = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("Send a JSON object."))
    found = consultations.create_consultation(
        current_user,
        data.get("title"),
        data.get("participants"),
        case_id=data.get("case_id"),
        calendar_event_id=data.get("calendar_event_id"),
        scheduled_at=consultations.parse_instant(data.get("scheduled_at"), "scheduled_at"),
    )
    body = {"id": found.id, "channel_id": found.channel_id}
    return jsonify(body), 201, {"Location": url_for("consultations.room", consultation_id=found.id)}


@api_bp.get("/consultations/<int:consultation_id>")
def api_get(consultation_id: int):  # type: ignore[no-untyped-def]
    found = consultations.get_consultation(consultation_id, current_user)
    return jsonify(consultations.consultation_payload(found, current_user))
