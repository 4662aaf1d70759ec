"""Home, the public list of networks, language choice and the health check."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from network.blueprints.forms import EmptyForm
from network.blueprints.utils import safe_next
from network.errors import ValidationError
from network.extensions import db, socketio
from network.services import accounts, directory

bp = Blueprint("main", __name__)


@bp.get("/")
def home():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return render_template("main/welcome.html", networks=directory.list_networks())
    return render_template(
        "main/home.html",
        networks=directory.readable_networks(current_user),
        own_entries=directory.own_entries(current_user),
        is_stale=directory.is_stale,
    )


@bp.get("/networks")
def networks():  # type: ignore[no-untyped-def]
    return render_template("main/networks.html", networks=directory.list_networks())


@bp.post("/language")
def set_language():  # type: ignore[no-untyped-def]
    code = request.form.get("locale", "")
    target = safe_next(request.form.get("next"), url_for("main.home"))
    if code not in current_app.config["LANGUAGES"]:
        raise ValidationError(fields={"locale": _("This language is not available.")})
    session["locale"] = code
    if current_user.is_authenticated:
        accounts.update_preferences(current_user, locale=code)
    return redirect(target)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    # "listener" is the Socket.IO message-queue listener: only there with Redis.
    status = {"database": "ok", "redis": "disabled", "listener": "disabled"}
    code = 200
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        status["database"] = "error"
        code = 503
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        import redis

        try:
            redis.Redis.from_url(redis_url, socket_timeout=2).ping()
            status["redis"] = "ok"
        except redis.RedisError:
            status["redis"] = "error"
            code = 503
        # The subscriber that brings the other processes' events ("starting" until the
        # first socket of this process sets the queue up).
        manager = getattr(socketio.server, "manager", None)
        status["listener"] = getattr(manager, "listener_state", status["redis"])
        if status["listener"] == "error":
            code = 503
    return jsonify(status), code


@bp.route("/confirm-entry/<token>", methods=["GET", "POST"])
def confirm_entry(token: str):  # type: ignore[no-untyped-def]
    """One-click confirmation from a reminder e-mail, for entries without an account.

    GET only shows the question (mail scanners follow links); POST confirms.
    """
    form = EmptyForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            cp = directory.confirm_by_token(token)
        except ValidationError as error:
            flash(error.message, "error")
            return render_template(
                "main/confirm_entry.html", form=form, token=token, done=False
            ), 400
        return render_template("main/confirm_entry.html", form=form, token=token, done=True, cp=cp)
    return render_template("main/confirm_entry.html", form=form, token=token, done=False)
