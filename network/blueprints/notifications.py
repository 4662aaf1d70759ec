"""The notifications page: mentions, replies and invitations, newest first, with
mark-as-read. The header badge counts the unread ones on every page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from network.blueprints.forms import EmptyForm
from network.services import notifications

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.before_request
@login_required
def _signed_in() -> None:
    """Notifications are for signed-in people only."""


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    page = request.args.get("page", "1")
    number = int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1
    items, total = notifications.list_for(current_user, page=number)
    return render_template(
        "notifications/index.html",
        items=[notifications.payload(n) for n in items],
        total=total,
        page=number,
        pages=max(1, -(-total // notifications.PAGE)),
        kind_label=notifications.kind_label,
        form=EmptyForm(formdata=None),
    )


@bp.post("/read")
def read_all():  # type: ignore[no-untyped-def]
    notifications.mark_read(current_user)
    return redirect(url_for("notifications.index"))


@bp.post("/<int:notification_id>/read")
def read_one(notification_id: int):  # type: ignore[no-untyped-def]
    notifications.mark_read(current_user, notification_id)
    return redirect(url_for("notifications.index"))
