"""Channel pages: the list with unread and mention counts, new topic channels and
conversations, a channel with its history and composer, threads, editing and deleting,
the members page, and certified receipts.

Every page works without script (forms post and redirect); static/js/channel.js and
static/js/channels.js make them live over Socket.IO.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import (
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from network import i18n, policy
from network.blueprints.forms import EmptyForm, Form
from network.blueprints.utils import apply_errors
from network.errors import DomainError, NotFound, TooLarge, ValidationError
from network.models.messaging import Channel, ChannelKind, Message
from network.services import attachments, messaging, notifications

bp = Blueprint("messaging", __name__, url_prefix="/channels")
PAGE = 50


class ComposerForm(Form):
    body = TextAreaField(
        _l("Message"),
        validators=[Optional(), Length(max=messaging.MAX_BODY_CHARS)],
        render_kw={"rows": 3, "maxlength": messaging.MAX_BODY_CHARS},
    )
    files = MultipleFileField(_l("Attach files"))
    # Made when the page is drawn: submitting the same form twice stores one message.
    client_id = HiddenField()
    parent_id = HiddenField()
    submit = SubmitField(_l("Send"))


class TopicForm(Form):
    network = SelectField(_l("Network"), validators=[DataRequired()])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(
        _l("Description"),
        validators=[Length(max=messaging.MAX_DESCRIPTION)],
        render_kw={"rows": 3},
    )
    members = SelectMultipleField(_l("Members"), coerce=str, validate_choice=False)
    submit = SubmitField(_l("Create the channel"))


class ConversationForm(Form):
    members = SelectMultipleField(_l("People"), coerce=str, validate_choice=False)
    name = StringField(_l("Name (optional)"), validators=[Length(max=200)])
    submit = SubmitField(_l("Start the conversation"))


class AddPeopleForm(Form):
    people = SelectMultipleField(_l("People to add"), coerce=str, validate_choice=False)
    submit = SubmitField(_l("Add"))


class RetentionForm(Form):
    days = IntegerField(
        _l("Keep messages for (days)"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
        render_kw={"min": 1, "max": 3650},
    )
    submit = SubmitField(_l("Save"))


class EditForm(Form):
    body = TextAreaField(
        _l("Message"),
        validators=[Length(max=messaging.MAX_BODY_CHARS)],
        render_kw={"rows": 5, "maxlength": messaging.MAX_BODY_CHARS},
    )
    submit = SubmitField(_l("Save"))


@bp.before_request
@login_required
def _signed_in() -> None:
    """Channels are for signed-in members only."""


@bp.app_context_processor
def _notification_badge() -> dict[str, Any]:
    """The header's unread-notification badge, counted only when a page draws it."""
    return {"unread_notification_count": lambda: notifications.unread_count(current_user)}


def _person_label(user: Any) -> str:
    networks = [n.acronym for n in messaging.shown_networks(user, current_user)]
    return f"{user.name} ({', '.join(networks)})" if networks else user.name


# --- The list and new channels ---------------------------------------------------------------


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    return render_template(
        "messaging/index.html",
        groups=messaging.grouped_channels(current_user),
        can_create_topic=bool(messaging.topic_networks(current_user)),
        can_start_conversation=policy.can_start_direct_conversation(current_user),
    )


@bp.route("/new/topic", methods=["GET", "POST"])
def new_topic():  # type: ignore[no-untyped-def]
    networks = messaging.topic_networks(current_user)
    if not networks:
        raise NotFound()
    form = TopicForm()
    form.network.choices = [(n.slug, f"{n.acronym}: {n.name}") for n in networks]
    # Everyone of those networks, grouped by network; the service checks the choice
    # against the network chosen (the page's script hides the other groups).
    form.members.choices = {
        n.acronym: [
            (str(u.id), u.name) for u in messaging.network_people(n, exclude=current_user.id)
        ]
        for n in networks
    }
    status = 200
    if form.validate_on_submit():
        network = next(n for n in networks if n.slug == form.network.data)
        try:
            channel = messaging.create_topic_channel(
                current_user,
                network,
                form.name.data or "",
                form.description.data or "",
                form.members.data,
            )
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            flash(
                _(
                    "The channel %(name)s was created.",
                    name=i18n.isolate(channel.name, markup=False),
                ),
                "success",
            )
            return redirect(url_for("messaging.channel", channel_id=channel.id))
    elif request.method == "POST":
        status = 422
    return render_template("messaging/new_topic.html", form=form), status


@bp.route("/new/conversation", methods=["GET", "POST"])
def new_conversation():  # type: ignore[no-untyped-def]
    if not policy.can_start_direct_conversation(current_user):
        raise NotFound()
    form = ConversationForm()
    form.members.choices = [
        (str(u.id), _person_label(u)) for u in messaging.reachable_people(current_user)
    ]
    status = 200
    if form.validate_on_submit():
        try:
            channel = messaging.create_direct_conversation(
                current_user, form.members.data, form.name.data or ""
            )
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            return redirect(url_for("messaging.channel", channel_id=channel.id))
    elif request.method == "POST":
        status = 422
    return render_template("messaging/new_conversation.html", form=form), status


# --- A channel ------------------------------------------------------------------------------


def _page_context(channel: Channel, shown: list[Message]) -> dict[str, Any]:
    """What every page showing messages of a channel needs to draw their actions."""
    return {
        "channel": channel,
        "messages": messaging.payloads(shown),
        "can_write": policy.can_write_channel(current_user, channel),
        "can_manage": policy.can_manage_channel(current_user, channel),
        "receipts": messaging.receipt_summaries(channel, current_user, shown),
        "mention_handle": notifications.mention_handle(current_user.name),
    }


def _render_channel(channel: Channel, form: ComposerForm, status: int = 200):  # type: ignore[no-untyped-def]
    latest = messaging.list_messages(
        channel, current_user, before_seq=channel.last_seq + 1, limit=PAGE
    )
    if latest:
        messaging.mark_read(channel, current_user, latest[-1].seq)
    form.client_id.data = uuid.uuid4().hex
    form.parent_id.data = ""
    return render_template(
        "messaging/channel.html",
        form=form,
        has_earlier=bool(latest) and latest[0].seq > channel.purged_through_seq + 1,
        **_page_context(channel, latest),
    ), status


def _store_files(channel: Channel, form: ComposerForm) -> list[int]:
    """The files of a form post, stored as pending uploads (sent with the message)."""
    uploads = [f for f in (form.files.data or []) if getattr(f, "filename", "")]
    if not uploads:
        return []
    return [a.id for a in attachments.store_uploads(channel, current_user, uploads)]


def _post_from_form(channel: Channel, form: ComposerForm) -> Message:
    parent_id = form.parent_id.data
    message, _created = messaging.post_message(
        channel.id,
        current_user,
        form.body.data or "",
        form.client_id.data or "",
        int(parent_id) if parent_id and parent_id.isdigit() else None,
        _store_files(channel, form) or None,
    )
    return message


def _form_failed(form: ComposerForm, error: DomainError | None = None) -> None:
    if error is not None:
        flash(" ".join(error.fields.values()) or error.message, "error")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")


@bp.route("/<int:channel_id>", methods=["GET", "POST"])
def channel(channel_id: int):  # type: ignore[no-untyped-def]
    found = messaging.get_channel(channel_id, current_user)
    form = ComposerForm()
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                message = _post_from_form(found, form)
            except (ValidationError, TooLarge) as error:
                _form_failed(form, error)
                return _render_channel(found, form, 422)
            if message.parent_id:
                return redirect(
                    url_for("messaging.thread", channel_id=found.id, message_id=message.parent_id)
                )
            return redirect(url_for("messaging.channel", channel_id=found.id) + "#composer")
        _form_failed(form)
        return _render_channel(found, form, 422)
    return _render_channel(found, form)


def _message_of(channel_id: int, message_id: int) -> tuple[Channel, Message]:
    """A message of the channel in the URL (404 for one of another channel)."""
    channel = messaging.get_channel(channel_id, current_user)
    message = messaging.get_message(message_id, current_user)
    if message.channel_id != channel.id:
        raise NotFound(_("No such message."))
    return channel, message


@bp.route("/<int:channel_id>/thread/<int:message_id>", methods=["GET", "POST"])
def thread(channel_id: int, message_id: int):  # type: ignore[no-untyped-def]
    found, _message = _message_of(channel_id, message_id)
    root, replies = messaging.thread(message_id, current_user)
    form = ComposerForm()
    status = 200
    if request.method == "POST":
        form.parent_id.data = str(root.id)
        if form.validate_on_submit():
            try:
                _post_from_form(found, form)
            except (ValidationError, TooLarge) as error:
                _form_failed(form, error)
                status = 422
            else:
                return redirect(
                    url_for("messaging.thread", channel_id=found.id, message_id=root.id)
                    + "#composer"
                )
        else:
            _form_failed(form)
            status = 422
    messaging.mark_thread_read(found, current_user, [root, *replies])
    form.client_id.data = uuid.uuid4().hex
    form.parent_id.data = str(root.id)
    context = _page_context(found, [root, *replies])
    return render_template(
        "messaging/thread.html", form=form, root=context["messages"][0], **context
    ), status


@bp.route("/<int:channel_id>/messages/<int:message_id>/edit", methods=["GET", "POST"])
def edit(channel_id: int, message_id: int):  # type: ignore[no-untyped-def]
    found, message = _message_of(channel_id, message_id)
    if not messaging.can_edit(current_user, message):
        raise NotFound(_("No such message."))
    form = EditForm()
    status = 200
    if form.validate_on_submit():
        try:
            messaging.edit_message(message.id, current_user, form.body.data or "")
        except ValidationError as error:
            apply_errors(form, error)
            status = 422
        else:
            return redirect(url_for("messaging.channel", channel_id=found.id) + f"#m{message.seq}")
    elif request.method == "POST":
        status = 422
    else:
        form.body.data = messaging.message_body(message)
    return render_template("messaging/edit.html", form=form, channel=found, message=message), status


@bp.route("/<int:channel_id>/messages/<int:message_id>/delete", methods=["GET", "POST"])
def delete(channel_id: int, message_id: int):  # type: ignore[no-untyped-def]
    found, message = _message_of(channel_id, message_id)
    if not messaging.can_delete(current_user, message):
        raise NotFound(_("No such message."))
    form = EmptyForm()
    if form.validate_on_submit():
        messaging.delete_message(message.id, current_user)
        flash(_("The message was deleted."), "success")
        return redirect(url_for("messaging.channel", channel_id=found.id) + f"#m{message.seq}")
    return render_template(
        "messaging/delete.html",
        form=form,
        channel=found,
        message=messaging.message_payload(message),
    )


@bp.get("/<int:channel_id>/messages/<int:message_id>/history")
def history(channel_id: int, message_id: int):  # type: ignore[no-untyped-def]
    found, message = _message_of(channel_id, message_id)
    return render_template(
        "messaging/history.html",
        channel=found,
        message=messaging.message_payload(message),
        revisions=messaging.revision_payloads(message, current_user),
    )


@bp.get("/<int:channel_id>/messages/<int:message_id>/receipts")
def receipts(channel_id: int, message_id: int):  # type: ignore[no-untyped-def]
    found, _message = _message_of(channel_id, message_id)
    message, rows = messaging.receipts(message_id, current_user)
    return render_template(
        "messaging/receipts.html",
        channel=found,
        message=messaging.message_payload(message),
        rows=rows,
        summary=messaging.receipt_summary(rows),
    )


# --- Members and settings -----------------------------------------------------------------


def _members_page(channel: Channel, add_form: AddPeopleForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    can_manage = policy.can_manage_channel(current_user, channel)
    add_form = add_form or AddPeopleForm(formdata=None)
    add_form.people.choices = [
        (str(u.id), _person_label(u)) for u in messaging.addable_people(channel, current_user)
    ]
    retention_form = RetentionForm(formdata=None, days=channel.retention_days)
    explicit = channel.kind != ChannelKind.NETWORK.value
    return render_template(
        "messaging/members.html",
        channel=channel,
        members=messaging.channel_members(channel, current_user),
        can_manage=can_manage,
        can_manage_members=policy.can_manage_channel_members(current_user, channel),
        can_archive=policy.can_archive_channel(current_user, channel),
        can_leave=policy.can_leave_channel(current_user, channel),
        explicit=explicit,
        add_form=add_form,
        retention_form=retention_form,
        action_form=EmptyForm(formdata=None),
        mention_handle=notifications.mention_handle,
    ), status


@bp.get("/<int:channel_id>/members")
def members(channel_id: int):  # type: ignore[no-untyped-def]
    return _members_page(messaging.get_channel(channel_id, current_user))


def _back_to_members(channel_id: int):  # type: ignore[no-untyped-def]
    return redirect(url_for("messaging.members", channel_id=channel_id))


@bp.post("/<int:channel_id>/members/add")
def add_members(channel_id: int):  # type: ignore[no-untyped-def]
    found = messaging.get_channel(channel_id, current_user)
    form = AddPeopleForm()
    form.validate_on_submit()
    try:
        added = messaging.add_members(found.id, current_user, form.people.data)
    except ValidationError as error:
        apply_errors(form, error)
        return _members_page(found, form, 422)
    flash(
        _("Added: %(names)s.", names=", ".join(i18n.isolate(u.name, markup=False) for u in added)),
        "success",
    )
    return _back_to_members(found.id)


@bp.post("/<int:channel_id>/members/<int:user_id>/remove")
def remove_member(channel_id: int, user_id: int):  # type: ignore[no-untyped-def]
    try:
        messaging.remove_member(channel_id, current_user, user_id)
    except ValidationError as error:
        flash(error.message, "error")
        return _back_to_members(channel_id)
    flash(_("The member was removed."), "success")
    return _back_to_members(channel_id)


@bp.post("/<int:channel_id>/members/<int:user_id>/owner")
def make_owner(channel_id: int, user_id: int):  # type: ignore[no-untyped-def]
    owner = request.form.get("owner", "1") == "1"
    try:
        messaging.set_owner(channel_id, current_user, user_id, owner)
    except ValidationError as error:
        flash(error.message, "error")
    return _back_to_members(channel_id)


@bp.post("/<int:channel_id>/leave")
def leave(channel_id: int):  # type: ignore[no-untyped-def]
    try:
        messaging.leave_channel(channel_id, current_user)
    except ValidationError as error:
        flash(error.message, "error")
        return _back_to_members(channel_id)
    flash(_("You left the channel."), "success")
    return redirect(url_for("messaging.index"))


@bp.post("/<int:channel_id>/archive")
def archive(channel_id: int):  # type: ignore[no-untyped-def]
    archived = request.form.get("archived", "1") == "1"
    messaging.archive_channel(channel_id, current_user, archived)
    flash(
        _("The channel was archived.") if archived else _("The channel is open again."),
        "success",
    )
    return _back_to_members(channel_id)


@bp.post("/<int:channel_id>/retention")
def retention(channel_id: int):  # type: ignore[no-untyped-def]
    found = messaging.get_channel(channel_id, current_user)
    form = RetentionForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return _back_to_members(found.id)
    try:
        messaging.set_retention(found.id, current_user, form.days.data)
    except ValidationError as error:
        flash(" ".join(error.fields.values()) or error.message, "error")
        return _back_to_members(found.id)
    flash(_("The retention period was saved."), "success")
    return _back_to_members(found.id)
