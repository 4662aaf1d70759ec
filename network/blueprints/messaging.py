"""Channel pages: the list with unread counts, and a channel with its history and
composer. The page works without script (the composer posts a form); static/js/channel.js
makes it live over Socket.IO."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from network import policy
from network.errors import ValidationError
from network.services import messaging

bp = Blueprint("messaging", __name__, url_prefix="/channels")
PAGE = 50


class ComposerForm(FlaskForm):
    body = TextAreaField(
        _l("Message"),
        validators=[DataRequired(), Length(max=messaging.MAX_BODY_CHARS)],
        render_kw={"rows": 3, "maxlength": messaging.MAX_BODY_CHARS},
    )
    # Made when the page is drawn: submitting the same form twice stores one message.
    client_id = HiddenField()
    submit = SubmitField(_l("Send"))


@bp.before_request
@login_required
def _signed_in() -> None:
    """Channels are for signed-in members only."""


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template("messaging/index.html", summaries=messaging.channels_for(current_user))


def _render_channel(channel, form, status=200):  # type: ignore[no-untyped-def]
    latest = messaging.list_messages(
        channel, current_user, before_seq=channel.last_seq + 1, limit=PAGE
    )
    if latest:
        messaging.mark_read(channel, current_user, latest[-1].seq)
    form.client_id.data = uuid.uuid4().hex
    return render_template(
        "messaging/channel.html",
        channel=channel,
        messages=[messaging.message_payload(m) for m in latest],
        form=form,
        can_write=policy.can_write_channel(current_user, channel),
        has_earlier=bool(latest) and latest[0].seq > 1,
    ), status


@bp.route("/<int:channel_id>", methods=["GET", "POST"])
def channel(channel_id: int):  # type: ignore[no-untyped-def]
    found = messaging.get_channel(channel_id, current_user)
    form = ComposerForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                messaging.post_message(
                    found.id, current_user, form.body.data, form.client_id.data or ""
                )
            except ValidationError as error:
                flash(" ".join(error.fields.values()) or error.message, "error")
                return _render_channel(found, form, 422)
            return redirect(url_for("messaging.channel", channel_id=found.id) + "#composer")
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _render_channel(found, form, 422)
    return _render_channel(found, form)
