"""Sign-in (password, then TOTP when enrolled) and sign-out."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from network.blueprints.forms import EmptyForm, LoginForm, ReauthForm, SignInCodeForm
from network.blueprints.utils import safe_next
from network.errors import DomainError, wants_json
from network.extensions import limiter
from network.services import accounts, sessions

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


def begin_session(user, remember: bool = False) -> None:  # type: ignore[no-untyped-def]
    """Sign ``user`` in on this browser with a new server-side session (a new key: no
    fixation, ASVS 3.2.1), keeping only the language chosen before for an account that
    has not saved one. Without "remember me" the cookie ends with the browser; with it,
    it lasts at most the absolute lifetime. Either way the server's idle timeout and
    absolute lifetime apply (network.services.sessions)."""
    chosen_locale = session.get("locale")
    session.clear()
    sessions.start(user, remember=remember)
    login_user(user, remember=remember)
    session.permanent = remember
    if user.locale or chosen_locale:
        session["locale"] = user.locale or chosen_locale


def _finish_login(user, remember: bool, next_url: str):  # type: ignore[no-untyped-def]
    begin_session(user, remember)
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
    form = SignInCodeForm()
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
        # The server-side session ends: a copy of this cookie (or of the remember-me
        # cookie) replayed later is anonymous, and this browser's sockets close.
        sessions.revoke(sessions.current(), "logout")
        # Clear first: logout_user() leaves the note that makes Flask-Login delete the
        # remember-me cookie, which would otherwise sign the person straight back in.
        session.clear()
        logout_user()
        flash(_("You are signed out."), "info")
    return redirect(url_for("main.home"))


# --- Re-authentication before sensitive actions (issue 8) ------------------------------


class ReauthRequired(DomainError):
    status = 401
    code = "reauthentication_required"
    default_message = _l("Confirm your password (and code) first: this action needs it.")


def _return_path() -> str:
    """Where to come back after confirming: the page itself for a GET, else the page the
    form was on (a POST cannot be replayed: the person repeats it)."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return url_for("main.home")


def reauth_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A sensitive action (exports, role changes, member removal, deactivation, 2FA and
    token changes) needs the password, and the code with 2FA, given within the last
    ``REAUTH_MINUTES`` in this session (ASVS 3.7.1 / 4.3.3 at level 2).

    A bearer token is its own credential (creating one needs re-authentication), so
    token calls pass; anonymous callers pass on to the view's own sign-in check.
    """

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("token_auth") or not current_user.is_authenticated:
            return view(*args, **kwargs)
        if sessions.recently_authenticated(sessions.current()):
            return view(*args, **kwargs)
        if wants_json():
            raise ReauthRequired()
        if request.method != "GET":
            flash(_("Confirm who you are, then repeat the action."), "info")
        return redirect(url_for("auth.reauthenticate", next=_return_path()))

    wrapped.requires_reauth = True  # type: ignore[attr-defined]
    return wrapped


@bp.route("/reauthenticate", methods=["GET", "POST"])
@_sign_in_limit
@login_required
def reauthenticate():  # type: ignore[no-untyped-def]
    form = ReauthForm()
    next_url = safe_next(request.args.get("next"), url_for("main.home"))
    if g.get("token_auth"):
        return redirect(next_url)
    status = 200
    if form.validate_on_submit():
        try:
            accounts.reauthenticate(current_user, form.password.data or "", form.code.data or "")
        except accounts.SignInFailed:
            flash(_("The password or code is wrong."), "error")
            status = 401
        else:
            sessions.mark_reauthenticated(sessions.current())
            return redirect(next_url)
    elif request.method == "POST":
        status = 422
    return render_template("auth/reauthenticate.html", form=form), status
