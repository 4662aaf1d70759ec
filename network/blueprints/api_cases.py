"""The case routes of the JSON API under /api/v1 (session or bearer token, as the rest of
the API): list, read, open, edit and move a case through its status workflow.

A blueprint of its own on the same prefix, so the case routes live with their domain;
authentication, CSRF and the JSON error bodies are the same as for ``api``.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from network.errors import Unauthorized, ValidationError
from network.services import cases

bp = Blueprint("api_cases", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticated() -> None:
    if not current_user.is_authenticated:
        raise Unauthorized()


def _json_object() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("Send a JSON object."))
    return data


@bp.get("/cases")
def list_cases():  # type: ignore[no-untyped-def]
    filters = cases.parse_filters(request.args)
    page = cases.list_cases(current_user, filters)
    return jsonify(
        {
            "items": [cases.case_payload(row.case, current_user) for row in page.items],
            "total": page.total,
            "page": filters.page,
            "per_page": filters.per_page,
        }
    )


@bp.get("/cases/<int:case_id>")
def get_case(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    return jsonify(cases.case_payload(found, current_user, detail=True))


@bp.post("/cases")
def create_case():  # type: ignore[no-untyped-def]
    data = _json_object()
    network = cases.network_for_new_case(data.get("network"), current_user)
    found = cases.create_case(current_user, network, data)
    return jsonify(cases.case_payload(found, current_user, detail=True)), 201


@bp.patch("/cases/<int:case_id>")
def update_case(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    data = _json_object()
    unknown = sorted(set(data) - set(cases.EDITABLE_FIELDS))
    if unknown:
        raise ValidationError(
            fields=dict.fromkeys(unknown, _("This field cannot be changed here."))
        )
    cases.update_case(current_user, found, data)
    return jsonify(cases.case_payload(found, current_user, detail=True))


@bp.post("/cases/<int:case_id>/status")
def change_status(case_id: int):  # type: ignore[no-untyped-def]
    found = cases.get_case(case_id, current_user)
    data = _json_object()
    change = cases.change_status(current_user, found, data.get("status"), data.get("note", ""))
    return jsonify(
        {**cases.case_payload(found, current_user), "change": cases.status_change_payload(change)}
    )
