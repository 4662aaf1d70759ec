"""Site administration: accounts."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from network import i18n, policy
from network.blueprints.auth import reauth_required
from network.blueprints.forms import EmptyForm
from network.blueprints.utils import require
from network.errors import ValidationError
from network.services import users

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@login_required
def _administrators_only() -> None:
    require(policy.can_manage_users(current_user))


@bp.get("/users")
def user_list():  # type: ignore[no-untyped-def]
    try:
        page = int(request.args.get("page", 1))
    except ValueError:
        page = 1
    q = request.args.get("q", "")
    return render_template(
        "admin/users.html",
        result=users.list_users(current_user, q, page),
        q=q,
        form=EmptyForm(),
    )


@bp.post(
    "/users/<int:user_id>"
    "/<any(activate, deactivate, grant_admin, revoke_admin, end_sessions):action>"
)
@reauth_required
def change(user_id: int, action: str):  # type: ignore[no-untyped-def]
    if EmptyForm().validate_on_submit():
        try:
            if action == "end_sessions":
                user = users.end_sessions(current_user, user_id)
            elif action in {"activate", "deactivate"}:
                user = users.set_active(current_user, user_id, action == "activate")
            else:
                user = users.set_admin(current_user, user_id, action == "grant_admin")
        except ValidationError as error:
            flash(error.message, "error")
        else:
            flash(_("%(name)s: saved.", name=i18n.isolate(user.name, markup=False)), "success")
    return redirect(url_for("admin.user_list", q=request.args.get("q") or None))
