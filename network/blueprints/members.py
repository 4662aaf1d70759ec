"""Network members (for coordinators and secretariats) and accepting an invitation."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from wtforms import EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from network import i18n, policy
from network.blueprints.auth import reauth_required
from network.blueprints.forms import EmptyForm, Form
from network.blueprints.utils import apply_errors, require
from network.errors import Conflict, ValidationError
from network.services import accounts, directory, membership

bp = Blueprint("members", __name__)


class AddMemberForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    name = StringField(_l("Name (for a new account)"), validators=[Length(max=200)])
    role = SelectField(_l("Role"))
    submit = SubmitField(_l("Add member"))


class RoleForm(Form):
    role = SelectField(_l("Role"))
    submit = SubmitField(_l("Change"))


class SetPasswordForm(Form):
    password = PasswordField(
        _l("Choose a password (at least 12 characters)"),
        validators=[DataRequired(), Length(min=12, max=1024)],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Save my password"))


def _render(network, form, status=200):  # type: ignore[no-untyped-def]
    role_form = RoleForm()
    role_form.role.choices = membership.role_choices()
    return render_template(
        "members/list.html",
        network=network,
        members=membership.members(network, current_user),
        form=form,
        role_form=role_form,
        empty_form=EmptyForm(),
    ), status


@bp.route("/networks/<slug>/members", methods=["GET", "POST"])
@login_required
def members(slug: str):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_members(current_user, network))
    form = AddMemberForm()
    form.role.choices = membership.role_choices()
    if form.validate_on_submit():
        try:
            added = membership.add_member(
                network,
                form.email.data or "",
                form.name.data or "",
                form.role.data or "",
                current_user,
            )
        except ValidationError as error:
            apply_errors(form, error)
            return _render(network, form, 422)
        except Conflict as error:
            flash(error.message, "error")
            return _render(network, form, 409)
        flash(
            _("%(name)s is now a member.", name=i18n.isolate(added.user.name, markup=False)),
            "success",
        )
        return redirect(url_for("members.members", slug=slug))
    if request.method == "POST":
        flash(_("Some values are not valid."), "error")
        return _render(network, form, 422)
    return _render(network, form)


@bp.post("/networks/<slug>/members/<int:membership_id>/role")
@login_required
@reauth_required
def change_role(slug: str, membership_id: int):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_members(current_user, network))
    form = RoleForm()
    form.role.choices = membership.role_choices()
    if form.validate_on_submit():
        try:
            membership.change_role(network, membership_id, form.role.data or "", current_user)
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("The role is changed."), "success")
    else:
        flash(_("Choose a role from the list."), "error")
    return redirect(url_for("members.members", slug=slug))


@bp.post("/networks/<slug>/members/<int:membership_id>/remove")
@login_required
@reauth_required
def remove(slug: str, membership_id: int):  # type: ignore[no-untyped-def]
    network = directory.get_network(slug)
    require(policy.can_manage_members(current_user, network))
    if EmptyForm().validate_on_submit():
        try:
            membership.remove_member(network, membership_id, current_user)
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("The member is removed."), "success")
    return redirect(url_for("members.members", slug=slug))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def invitation(token: str):  # type: ignore[no-untyped-def]
    try:
        user = membership.user_for_invitation(token)
    except ValidationError as error:
        return render_template("members/invitation.html", error=error.message, form=None), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = membership.accept_invitation(token, form.password.data or "")
        except ValidationError as error:
            apply_errors(form, error)
        else:
            from network.blueprints.auth import begin_session

            begin_session(user)
            accounts.record_login(user)
            flash(
                _(
                    "Welcome, %(name)s: your password is saved.",
                    name=i18n.isolate(user.name, markup=False),
                ),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("members/invitation.html", form=form, user=user, error=None)
