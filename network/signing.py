"""Signed, expiring links (confirmation and invitation e-mails): one serializer per
purpose, so a token made for one purpose never opens another."""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from network.errors import ValidationError


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose)


def sign(purpose: str, data: dict[str, Any]) -> str:
    """A URL-safe token carrying ``data`` for ``purpose``."""
    return _serializer(purpose).dumps(data)


def unsign(purpose: str, token: str, max_age: int, *, expired: str, invalid: str) -> dict[str, Any]:
    """The data of a token no older than ``max_age`` seconds.

    Raises ``ValidationError`` with ``expired`` or ``invalid`` as its message.
    """
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise ValidationError(expired) from exc
    except BadSignature as exc:
        raise ValidationError(invalid) from exc
    if not isinstance(data, dict):
        raise ValidationError(invalid)
    return data
