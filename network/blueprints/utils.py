"""Small helpers shared by the blueprints."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectFieldBase

from network import i18n
from network.errors import Forbidden, ValidationError


def safe_next(target: str | None, default: str) -> str:
    """Only local paths are accepted as a redirect target."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target


def require(allowed: bool) -> None:
    """Turn a policy answer into a 403."""
    if not allowed:
        raise Forbidden()


def apply_errors(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's per-field messages on the form, and the rest as a flash. A country
    the services reject "as an ISO code" is, on a form, a dropdown of names: say so."""
    leftover = []
    for name, message in error.fields.items():
        field = getattr(form, name, None)
        if isinstance(field, SelectFieldBase) and message == i18n.country_code_message():
            message = i18n.country_choice_message()
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            leftover.append(message)
    flash(error.message if not leftover else f"{error.message} {' '.join(leftover)}", "error")


def user() -> Any:
    return current_user


def download(body: str, mimetype: str, filename: str) -> Response:
    """A file the browser saves rather than shows (exports, vCards)."""
    response = Response(body, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
