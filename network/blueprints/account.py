"""The signed-in person's own settings: language, time zone, password, 2FA, tokens and
the browsers they are signed in with."""

from __future__ import annotations

import io

import segno
from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from network import i18n
from network.blueprints.auth import begin_session, reauth_required
from network.blueprints.forms import (
    EmptyForm,
    PasswordForm,
    PreferencesForm,
    SignInCodeForm,
    TokenForm,
    TotpForm,
)
from network.blueprints.utils import apply_errors
from network.errors import ValidationError
from network.services import accounts, sessions

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Every page here is for the signed-in person only."""


@bp.route("/", methods=["GET", "POST"])
def settings():  # type: ignore[no-untyped-def]
    form = PreferencesForm(
        locale=current_user.locale or i18n.current_locale_code(), timezone=current_user.timezone
    )
    form.locale.choices = i18n.available_languages()
    form.timezone.choices = [(z, z.replace("_", " ")) for z in i18n.timezone_names()]
    password_form = PasswordForm(prefix="pw")
    if form.submit.data and form.validate_on_submit():
        try:
            accounts.update_preferences(
                current_user, locale=form.locale.data, timezone=form.timezone.data
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            session["locale"] = current_user.locale
            flash(_("Your settings are saved."), "success")
            return redirect(url_for("account.settings"))
    page = render_template(
        "account/settings.html",
        form=form,
        password_form=password_form,
        tokens=accounts.active_tokens(current_user),
        token_form=TokenForm(prefix="tok"),
        empty_form=EmptyForm(),
        recovery_left=accounts.recovery_codes_left(current_user),
        live_sessions=sessions.live_sessions(current_user.id),
        current_session_id=sessions.current_id(),
        device_label=sessions.device_label,
    )
    return page, 422 if form.submit.data else 200


@bp.post("/password")
def change_password():  # type: ignore[no-untyped-def]
    form = PasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            accounts.change_password(
                current_user, form.current_password.data or "", form.new_password.data or ""
            )
        except ValidationError as error:
            flash(" ".join(error.fields.values()) or error.message, "error")
        else:
            # Every session ended (server side too); this browser gets a new one.
            user = current_user._get_current_object()
            begin_session(user, bool(sessions.current() and sessions.current().remember))
            flash(_("Your password is changed. Other devices are signed out."), "success")
    else:
        flash(_("Use at least 12 characters for the new password."), "error")
    return redirect(url_for("account.settings"))


def _renew_session() -> None:
    """After a change of the second factor every session ended; this browser gets a
    new one (with the re-authentication it just made)."""
    record = sessions.current()
    begin_session(current_user._get_current_object(), bool(record and record.remember))


@bp.route("/2fa", methods=["GET", "POST"])
def two_factor():  # type: ignore[no-untyped-def]
    if current_user.totp_enabled:
        return _two_factor_off()
    return _two_factor_on()


@reauth_required
def _two_factor_off():  # type: ignore[no-untyped-def]
    form = SignInCodeForm()
    status = 422 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            accounts.disable_totp(current_user, form.code.data or "")
        except ValidationError as error:
            apply_errors(form, error)
        else:
            _renew_session()
            flash(_("Two-factor sign-in is turned off."), "success")
            return redirect(url_for("account.settings"))
    return render_template("account/two_factor.html", form=form, enabled=True), status


def _two_factor_on():  # type: ignore[no-untyped-def]
    form = TotpForm()
    status = 422 if request.method == "POST" else 200
    secret = accounts.open_setup_secret(current_user, session.get("totp_setup"))
    if secret is None:
        secret = accounts.new_totp_secret()
        session["totp_setup"] = accounts.seal_setup_secret(current_user, secret)
    if form.validate_on_submit():
        try:
            accounts.enable_totp(current_user, secret, form.code.data or "")
        except ValidationError as error:
            apply_errors(form, error)
        else:
            session.pop("totp_setup", None)
            _renew_session()
            codes = accounts.new_recovery_codes(current_user)
            flash(_("Two-factor sign-in is on."), "success")
            return render_template("account/recovery_codes.html", codes=codes)
    page = render_template("account/two_factor.html", form=form, enabled=False, secret=secret)
    return page, status


@bp.get("/2fa/qr.svg")
def two_factor_qr():  # type: ignore[no-untyped-def]
    secret = accounts.open_setup_secret(current_user, session.get("totp_setup"))
    if not secret or current_user.totp_enabled:
        return Response(status=404)
    buffer = io.BytesIO()
    segno.make(accounts.totp_uri(current_user, secret), error="m").save(
        buffer, kind="svg", scale=5, border=2
    )
    return Response(
        buffer.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "no-store"}
    )


@bp.post("/2fa/recovery-codes")
@reauth_required
def recovery_codes():  # type: ignore[no-untyped-def]
    """New recovery codes, replacing the old ones, shown once (ASVS 2.5.x / 2.6.x)."""
    if not current_user.totp_enabled or not EmptyForm().validate_on_submit():
        return redirect(url_for("account.settings"))
    codes = accounts.new_recovery_codes(current_user)
    return render_template("account/recovery_codes.html", codes=codes)


@bp.post("/tokens")
@reauth_required
def create_token():  # type: ignore[no-untyped-def]
    form = TokenForm(prefix="tok")
    if not form.validate_on_submit():
        flash(_("Give the token a label of at most 100 characters."), "error")
        return redirect(url_for("account.settings"))
    token, plain = accounts.create_token(current_user, form.label.data or "")
    current_app.logger.info("user %s created token %s", current_user.id, token.id)
    return render_template("account/token_created.html", token=token, plain=plain)


@bp.post("/tokens/<int:token_id>/revoke")
def revoke_token(token_id: int):  # type: ignore[no-untyped-def]
    if EmptyForm().validate_on_submit():
        accounts.revoke_token(current_user, token_id)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("account.settings"))


@bp.post("/sessions/<int:user_session_id>/end")
def end_session(user_session_id: int):  # type: ignore[no-untyped-def]
    """Sign out another browser of this person's (one of their sessions)."""
    if EmptyForm().validate_on_submit():
        sessions.end_own(current_user, user_session_id)
        flash(_("That browser is signed out."), "success")
    return redirect(url_for("account.settings", _anchor="sessions"))


@bp.post("/sessions/end-others")
def end_other_sessions():  # type: ignore[no-untyped-def]
    """Sign out every browser of this person's but this one."""
    if EmptyForm().validate_on_submit():
        ended = sessions.end_others(current_user)
        flash(
            ngettext(
                "%(num)d other browser is signed out.",
                "%(num)d other browsers are signed out.",
                ended,
            ),
            "success",
        )
    return redirect(url_for("account.settings", _anchor="sessions"))
