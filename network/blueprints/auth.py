"""Sign-in (password, then TOTP when enrolled) and sign-out."""

from __future__ import annotations

import time

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from network.blueprints.forms import EmptyForm, LoginForm, TotpForm
from network.blueprints.utils import safe_next
from network.extensions import limiter
from network.services import accounts

bp = Blueprint("auth", __name__)
PENDING_2FA_SECONDS = 300


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _failed_message() -> str:
    # One message for a wrong password, an unknown account and a locked one.
    return _(
        "Sign-in failed: the e-mail or password is wrong, or the account is temporarily "
        "locked after repeated failures. Try again later."
    )


# One budget per address for both steps of a sign-in (password, then code).
_sign_in_limit = limiter.shared_limit(_login_limit, scope="sign-in", methods=["POST"])


@bp.route("/login", methods=["GET", "POST"])
@_sign_in_limit
def login():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    next_url = safe_next(request.args.get("next"), url_for("main.home"))
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data or "", form.password.data or "")
        except accounts.SignInFailed:
            flash(_failed_message(), "error")
            return render_template("auth/login.html", form=form), 401
        if user.totp_enabled:
            session["pending_2fa"] = {
                "user_id": user.id,
                "remember": bool(form.remember.data),
                "at": time.time(),
                "next": next_url,
            }
            return redirect(url_for("auth.second_factor"))
        return _finish_login(user, bool(form.remember.data), next_url)
    return render_template("auth/login.html", form=form)


def _finish_login(user, remember: bool, next_url: str):  # type: ignore[no-untyped-def]
    # A fresh session (no fixation), keeping only the language chosen before signing in
    # for an account that has not saved one.
    chosen_locale = session.get("locale")
    session.clear()
    login_user(user, remember=remember)
    session.permanent = True
    if user.locale or chosen_locale:
        session["locale"] = user.locale or chosen_locale
    accounts.record_login(user)
    return redirect(next_url)


@bp.route("/login/2fa", methods=["GET", "POST"])
@_sign_in_limit
def second_factor():  # type: ignore[no-untyped-def]
    pending = session.get("pending_2fa")
    if not pending or time.time() - pending.get("at", 0) > PENDING_2FA_SECONDS:
        session.pop("pending_2fa", None)
        flash(_("Please sign in again."), "error")
        return redirect(url_for("auth.login"))
    user = accounts.get_active_user(int(pending["user_id"]))
    if user is None:
        session.pop("pending_2fa", None)
        flash(_failed_message(), "error")
        return redirect(url_for("auth.login"))
    form = TotpForm()
    if form.validate_on_submit():
        try:
            accounts.check_sign_in_code(user, form.code.data or "")
        except accounts.SignInLocked:
            session.pop("pending_2fa", None)
            flash(_failed_message(), "error")
            return redirect(url_for("auth.login"))
        except accounts.SignInFailed:
            flash(_("That code is not valid. Try the current one."), "error")
            return render_template("auth/second_factor.html", form=form), 401
        return _finish_login(
            user, bool(pending.get("remember")), pending.get("next") or url_for("main.home")
        )
    return render_template("auth/second_factor.html", form=form)


@bp.post("/logout")
@login_required
def logout():  # type: ignore[no-untyped-def]
    form = EmptyForm()
    if form.validate_on_submit():
        # Clear first: logout_user() leaves the note that makes Flask-Login delete the
        # remember-me cookie, which would otherwise sign the person straight back in.
        session.clear()
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))
