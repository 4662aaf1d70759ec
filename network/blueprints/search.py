"""Message search: the page ``/search`` and the API route ``/api/v1/search``. Both ask
``services.search.search_messages``, which only looks in channels the caller may read."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from network.errors import Unauthorized, ValidationError
from network.services import messaging, search

bp = Blueprint("search", __name__)


def _int_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name, "").strip()
    if raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(fields={name: _("Use a whole number.")}) from exc


def hit_url(hit: search.SearchHit) -> str:
    """Where a hit is shown: its channel's page, at the message."""
    return url_for("messaging.channel", channel_id=hit.channel.id) + f"#m{hit.message.seq}"


def hit_json(hit: search.SearchHit) -> dict[str, Any]:
    message, channel, author = hit.message, hit.channel, hit.message.author
    return {
        "id": message.id,
        "channel_id": channel.id,
        "seq": message.seq,
        "channel": {
            "id": channel.id,
            "name": channel.name,
            "kind": channel.kind,
            "network": channel.network.slug if channel.network else None,
        },
        "author": {"id": author.id, "name": author.name} if author else None,
        "created_at": message.created_at.isoformat(),
        "snippet": str(hit.snippet),
        "url": hit_url(hit),
    }


@bp.get("/search")
@login_required
def page():  # type: ignore[no-untyped-def]
    query = request.args.get("q", "").strip()
    errors: dict[str, str] = {}
    result = None
    try:
        channel_id = _int_arg("channel_id", None)
        page_number = _int_arg("page", 1)
        if query:
            result = search.search_messages(
                current_user, query, channel_id=channel_id, page=page_number
            )
    except ValidationError as error:
        errors = {k: str(v) for k, v in error.fields.items()} or {"q": str(error.message)}
        channel_id = None
    return render_template(
        "search/results.html",
        query=query,
        channel_id=channel_id,
        result=result,
        errors=errors,
        summaries=messaging.channels_for(current_user),
        hit_url=hit_url,
    )


@bp.get("/api/v1/search")
def api_search():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        raise Unauthorized()
    result = search.search_messages(
        current_user,
        request.args.get("q", ""),
        channel_id=_int_arg("channel_id", None),
        page=_int_arg("page", 1),
        per_page=_int_arg("per_page", search.PER_PAGE),
    )
    return jsonify(
        {
            "items": [hit_json(hit) for hit in result.items],
            "total": result.total,
            "page": result.page,
            "per_page": result.per_page,
        }
    )
