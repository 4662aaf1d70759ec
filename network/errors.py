"""Domain errors and the one place that turns them into pages, JSON bodies or acks."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of the errors a service raises; carries an HTTP status and a stable code."""

    status = 400
    code = "bad_request"
    default_message: Any = _l("The request could not be processed.")

    def __init__(self, message: Any = None, fields: dict[str, Any] | None = None) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.fields = {key: str(value) for key, value in (fields or {}).items()}
        super().__init__(self.message)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return {"error": body}


class ValidationError(DomainError):
    status = 422
    code = "validation_error"
    default_message = _l("Some values are not valid.")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    default_message = _l("Please sign in.")


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    default_message = _l("You do not have access to this.")


class NotFound(DomainError):
    status = 404
    code = "not_found"
    default_message = _l("Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    default_message = _l("This conflicts with the current state.")


class TooLarge(DomainError):
    status = 413
    code = "too_large"
    default_message = _l("The upload is too large.")


def wants_json() -> bool:
    """API routes and clients that ask for JSON get JSON errors."""
    if request.path.startswith("/api/") or request.path == "/healthz":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "server_error",
}


def _audit_refusal() -> None:
    """Record a signed-in person's refused request (issue 8; ASVS 7.2.2): the endpoint and
    method, never the URL's values (a link may carry a token). The failed request's
    transaction is rolled back first; the event is committed on its own."""
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False):
        return
    from network.extensions import db
    from network.services import audit

    try:
        db.session.rollback()
        audit.record(
            current_user,
            "access.denied",
            "user",
            current_user.id,
            after={"endpoint": request.endpoint, "method": request.method},
        )
        db.session.commit()
    except Exception:  # the refusal is answered whatever happens to its record
        db.session.rollback()
        log.warning("could not audit a refused request", exc_info=True)


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        if isinstance(error, Forbidden):
            _audit_refusal()
        if wants_json():
            return jsonify(error.to_dict()), error.status
        if isinstance(error, Unauthorized):
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        return (
            render_template("errors/error.html", status=error.status, message=error.message),
            error.status,
        )

    @app.errorhandler(CSRFError)
    def handle_csrf(error: CSRFError):  # type: ignore[no-untyped-def]
        from flask_babel import gettext as _

        message = _("Your form expired or was not sent from this site. Please try again.")
        if wants_json():
            return jsonify({"error": {"code": "csrf_failed", "message": message}}), 400
        flash(message, "error")
        return render_template("errors/error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def handle_http(error: HTTPException):  # type: ignore[no-untyped-def]
        from flask_babel import gettext as _

        status = error.code or 500
        if status == 403:
            _audit_refusal()
        messages = {
            404: _("This page does not exist."),
            405: _("This method is not allowed here."),
            413: _("The upload is too large."),
            429: _("Too many requests. Please wait a moment and try again."),
        }
        message = messages.get(status, error.description or _("The request failed."))
        if wants_json():
            code = _HTTP_CODES.get(status, "error")
            return jsonify({"error": {"code": code, "message": str(message)}}), status
        return render_template("errors/error.html", status=status, message=message), status
