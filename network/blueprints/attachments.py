"""Attachment routes: upload to a channel through the API, remove an upload not yet sent,
and the one access-checked download route (a page route, so that a link in a message
works for a signed-in browser; bearer tokens work too).

Uploads are session or bearer-token API calls: the app-wide CSRF gate already asks a
session caller for its token (``X-CSRFToken``) and lets a bearer token through.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from network.errors import TooLarge, Unauthorized, ValidationError
from network.services import attachments, messaging

bp = Blueprint("attachments", __name__)


@bp.before_request
def _signed_in() -> None:
    """Files are for signed-in members only (a browser is sent to the sign-in page)."""
    if not current_user.is_authenticated:
        raise Unauthorized()


@bp.post("/api/v1/channels/<int:channel_id>/attachments")
def upload(channel_id: int):  # type: ignore[no-untyped-def]
    channel = messaging.get_channel(channel_id, current_user)
    parts = list(request.files.items(multi=True))
    if len(parts) > attachments.max_parts():
        message = _("Send at most %(n)d files at once.", n=attachments.max_parts())
        raise TooLarge(message, fields={"file": message})
    files = [upload for name, upload in parts if name == "file"]
    if len(files) != len(parts) or not files:
        raise ValidationError(fields={"file": _("Send the files as form parts named file.")})
    stored = attachments.store_uploads(channel, current_user, files)
    return jsonify({"items": [attachments.payload(a) for a in stored]}), 201


@bp.delete("/api/v1/attachments/<int:attachment_id>")
def discard_upload(attachment_id: int):  # type: ignore[no-untyped-def]
    attachments.discard_pending(attachment_id, current_user)
    return "", 204


def _content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII ``filename`` for old clients and the exact name as
    RFC 5987 / RFC 6266 ``filename*``."""
    fallback = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    fallback = "".join(c if c.isprintable() and c not in '"\\' else "_" for c in fallback)
    fallback = fallback.strip()
    if not fallback.strip(" ._") or fallback.startswith("."):
        fallback = "download" + ("." + filename.rpartition(".")[2] if "." in filename else "")
    encoded = quote(filename, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


@bp.get("/attachments/<int:attachment_id>/download")
def download(attachment_id: int):  # type: ignore[no-untyped-def]
    attachment, content = attachments.get_for_download(attachment_id, current_user)
    mimetype = attachment.content_type or "application/octet-stream"
    if mimetype.startswith("text/"):
        mimetype += "; charset=utf-8"  # only UTF-8 text is accepted at upload
    response = Response(content, content_type=mimetype)
    headers = response.headers
    headers["Content-Disposition"] = _content_disposition(attachment.filename)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Cache-Control"] = "private, no-store"
    # Should a browser ever render it anyway: no script, no plugin, an opaque origin.
    headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response
