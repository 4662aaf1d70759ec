"""WTForms for the HTML pages; the services hold the rules, the forms hold the fields."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields import MultipleFileField
from wtforms.validators import DataRequired, Email, Length, Optional


class Form(FlaskForm):
    """The base of every form of the app (bad input, issue 8, ASVS V5.1.4).

    Flask-WTF hands a form the uploaded files mixed with the text fields, so a file part
    named like a text field became that field's value and its validators failed with a
    500. Here a file reaches only the file fields; under any other name it is ignored
    (and a required text field then says it is missing).
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: Any, formdata: Any) -> Any:
            wrapped = super().wrap_formdata(form, formdata)
            if not isinstance(wrapped, CombinedMultiDict):
                return wrapped
            file_fields = {
                name
                for name, bound in form._fields.items()
                if isinstance(bound, FileField | MultipleFileField)
            }
            files = MultiDict(
                [(k, v) for k, v in request.files.items(multi=True) if k in file_fields]
            )
            return CombinedMultiDict((files, request.form))


class LoginForm(Form):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])
    remember = BooleanField(_l("Keep me signed in on this device"))
    submit = SubmitField(_l("Sign in"))


class TotpForm(Form):
    code = StringField(
        _l("Six-digit code"),
        validators=[DataRequired(), Length(min=6, max=7)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Verify"))


class PreferencesForm(Form):
    locale = SelectField(_l("Language"))
    timezone = SelectField(_l("Time zone"))
    submit = SubmitField(_l("Save"))


class SignInCodeForm(Form):
    """The second step of a sign-in or a re-authentication: a code from the app, or
    one of the recovery codes (issue 8)."""

    code = StringField(
        _l("Six-digit code or recovery code"),
        validators=[DataRequired(), Length(min=6, max=20)],
        render_kw={"autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Verify"))


class ReauthForm(Form):
    """Confirm who you are before a sensitive action (issue 8)."""

    password = PasswordField(
        _l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"}
    )
    code = StringField(
        _l("Six-digit code or recovery code"),
        validators=[Length(max=20)],
        render_kw={"autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Confirm"))


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=12, max=1024)]
    )
    submit = SubmitField(_l("Change password"))


class TokenForm(Form):
    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=100)])
    submit = SubmitField(_l("Create token"))


class EmptyForm(Form):
    """A form with only its CSRF token, for one-button actions."""

    submit = SubmitField()


class ContactPointForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    title = StringField(_l("Title"), validators=[Length(max=200)])
    institution = StringField(_l("Institution"), validators=[Length(max=300)])
    authority_type = SelectField(_l("Authority type"), validators=[DataRequired()])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    networks = SelectMultipleField(_l("Networks"))
    languages = SelectMultipleField(_l("Languages spoken"))
    request_languages = SelectMultipleField(_l("Languages in which requests are accepted"))
    channels = SelectMultipleField(_l("Accepted transmission channels"))
    expertise = SelectMultipleField(_l("Areas of expertise"))
    e_signature_accepted = BooleanField(_l("Electronic signature accepted"))
    available_24_7 = BooleanField(_l("Available 24/7 for urgent requests"))
    office_hours = StringField(_l("Office hours"), validators=[Length(max=200)])
    office_timezone = SelectField(_l("Time zone of the office"))
    email = StringField(_l("E-mail"), validators=[Optional(), Email(), Length(max=254)])
    phones = StringField(
        _l("Phones (international format, separated by ;)"), validators=[Length(max=400)]
    )
    postal_address = TextAreaField(_l("Postal address"), validators=[Length(max=1000)])
    notes = TextAreaField(_l("Notes"), validators=[Length(max=5000)])
    last_confirmed = DateField(_l("Last confirmed"), validators=[Optional()])
    submit = SubmitField(_l("Save"))


class NetworkForm(Form):
    acronym = StringField(_l("Acronym"), validators=[DataRequired(), Length(max=40)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    region = StringField(_l("Region"), validators=[Length(max=120)])
    languages = SelectMultipleField(_l("Working languages"))
    member_states = SelectMultipleField(_l("Member states"))
    secretariat = TextAreaField(_l("Secretariat"), validators=[Length(max=2000)])
    # Issue 8: members must sign in with a second factor.
    require_2fa = BooleanField(_l("Members must use two-factor sign-in"))
    submit = SubmitField(_l("Save"))


class HandoverForm(Form):
    successor = SelectField(_l("Successor"), coerce=int)
    submit = SubmitField(_l("Hand over"))


class LinkAccountForm(Form):
    user_email = StringField(_l("Account e-mail (empty to unlink)"), validators=[Length(max=254)])
    submit = SubmitField(_l("Link"))


class ImportForm(Form):
    network = SelectField(_l("Network"))
    file = FileField(_l("CSV file"), validators=[FileRequired()])
    dry_run = BooleanField(_l("Dry run: check the file without writing anything"), default=True)
    submit = SubmitField(_l("Import"))


class FinderForm(Form):
    class Meta:
        csrf = False  # a GET search form

    measure = SelectField(_l("Measure"))
    country = SelectField(_l("Country"))
    submit = SubmitField(_l("Find"))
