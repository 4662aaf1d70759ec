"""The training routes of the JSON API under /api/v1 (API.md): the programmes the caller
may see, and a programme's report (for its network's coordinators and secretariats)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from network.errors import Unauthorized, ValidationError
from network.services import training

bp = Blueprint("api_training", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 100


@bp.before_request
def _authenticated() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized()


def _page_arg(name: str, default: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise ValidationError(
            fields={name: _("Enter a whole number from %(low)d to %(high)d.", low=1, high=high)}
        )
    return int(raw)


@bp.get("/programmes")
def list_programmes():  # type: ignore[no-untyped-def]
    page = _page_arg("page", 1, 10_000)
    per_page = _page_arg("per_page", 50, MAX_PER_PAGE)
    programmes = training.visible_programmes(current_user)
    chosen = programmes[(page - 1) * per_page : page * per_page]
    return jsonify(
        {
            "items": [training.programme_payload(p) for p in chosen],
            "total": len(programmes),
            "page": page,
            "per_page": per_page,
        }
    )


@bp.get("/programmes/<int:programme_id>/report")
def programme_report(programme_id: int):  # type: ignore[no-untyped-def]
    programme = training.get_managed_programme(programme_id, current_user)
    return jsonify(training.report(programme))
