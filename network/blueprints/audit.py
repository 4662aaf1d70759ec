"""The audit log: ``/audit`` (a filtered, paginated table) and ``/audit.csv`` (the same
events as CSV; exporting is itself audited). For administrators and network
secretariats; the service limits each to the networks they may audit."""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user, login_required

from network import policy
from network.blueprints.auth import reauth_required
from network.blueprints.utils import download, require
from network.errors import ValidationError
from network.services import audit

bp = Blueprint("audit", __name__)


@bp.before_request
@login_required
def _allowed() -> None:
    """Signed in (else to the sign-in page), then admin or secretariat (else 403)."""
    require(policy.can_view_audit_log(current_user))


@bp.get("/audit")
def log():  # type: ignore[no-untyped-def]
    errors: dict[str, str] = {}
    try:
        filters = audit.parse_filters(request.args)
    except ValidationError as error:
        errors = {k: str(v) for k, v in error.fields.items()}
        filters = audit.AuditFilters()
    page = audit.query(current_user, filters)

    def page_url(**changes: object) -> str:
        return url_for("audit.log", **{**filters.as_args(), **changes})

    return render_template(
        "audit/log.html",
        page=page,
        filters=filters,
        errors=errors,
        actions=audit.action_choices(current_user),
        networks=audit.network_choices(current_user),
        page_url=page_url,
        action_label=audit.action_label,
        entity_label=audit.entity_label,
        detail_lines=audit.detail_lines,
    ), (422 if errors else 200)


@bp.get("/audit.csv")
@reauth_required
def export():  # type: ignore[no-untyped-def]
    filters = audit.parse_filters(request.args)
    return download(audit.export_csv(current_user, filters), "text/csv", "audit-log.csv")
