"""The calendar routes of the JSON API under /api/v1 (session or bearer token):
``GET /events?start=ISO&end=ISO`` lists the occurrences the caller may see in a range,
in the list envelope of API.md, with optional ``network``, ``kind``, ``format`` filters
and ``page`` / ``per_page``."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from network.errors import Unauthorized, ValidationError
from network.services import calendar as cal

bp = Blueprint("api_calendar", __name__, url_prefix="/api/v1")

MAX_PER_PAGE = 200


@bp.before_request
def _authenticated() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized()


def _page_args() -> tuple[int, int]:
    try:
        page = int(request.args.get("page", 1))
        per_page = int(request.args.get("per_page", 50))
    except ValueError as exc:
        raise ValidationError(fields={"page": _("Give whole numbers.")}) from exc
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise ValidationError(
            fields={"per_page": _("page ≥ 1 and per_page between 1 and %(n)d.", n=MAX_PER_PAGE)}
        )
    return page, per_page


@bp.get("/events")
def list_events():  # type: ignore[no-untyped-def]
    start, end = cal.parse_range(request.args)
    filters = cal.parse_filters(request.args)
    page, per_page = _page_args()
    items = cal.events_between(current_user, start, end, filters)
    chosen = items[(page - 1) * per_page : page * per_page]
    return jsonify(
        {
            "items": [cal.occurrence_payload(o, current_user) for o in chosen],
            "total": len(items),
            "page": page,
            "per_page": per_page,
        }
    )
