"""The JSON API under /api/v1 (../shared/API.md): session or bearer-token auth."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from network import policy
from network.blueprints.utils import download
from network.errors import Unauthorized, ValidationError
from network.models.directory import ContactPoint, Network
from network.services import directory, directory_io, messaging

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@bp.before_request
def _authenticated() -> None:
    if request.endpoint == "api.openapi":
        return
    if not current_user.is_authenticated:
        raise Unauthorized()


def network_json(network: Network) -> dict[str, Any]:
    return {
        "slug": network.slug,
        "acronym": network.acronym,
        "name": network.name,
        "region": network.region,
        "languages": list(network.languages or []),
        "member_states": network.country_codes,
    }


def contact_point_json(cp: ContactPoint) -> dict[str, Any]:
    return {
        "id": cp.id,
        "name": cp.name,
        "title": cp.title,
        "institution": cp.institution,
        "authority_type": cp.authority_type,
        "country": cp.country,
        "networks": [n.slug for n in cp.networks],
        "languages": cp.languages,
        "request_languages": cp.request_languages,
        "expertise": cp.expertise,
        "channels": cp.channels,
        "e_signature_accepted": cp.e_signature_accepted,
        "email": cp.email,
        "phone": cp.phones[0] if cp.phones else None,
        "phones": list(cp.phones or []),
        "postal_address": cp.postal_address,
        "office_hours": cp.office_hours,
        "office_timezone": cp.office_timezone,
        "available_24_7": cp.available_24_7,
        "last_confirmed": cp.last_confirmed_at.isoformat() if cp.last_confirmed_at else None,
        "stale": directory.is_stale(cp),
        "succeeded_by": cp.succeeded_by_id,
    }


@bp.get("/me")
def me():  # type: ignore[no-untyped-def]
    return jsonify(
        {
            "id": current_user.id,
            "email": current_user.email,
            "name": current_user.name,
            "is_admin": current_user.is_admin,
            "locale": current_user.locale,
            "timezone": current_user.timezone,
            "memberships": [
                {"network": m.network.slug, "role": m.role} for m in current_user.memberships
            ],
        }
    )


@bp.get("/networks")
def networks():  # type: ignore[no-untyped-def]
    visible = [
        n for n in directory.list_networks() if policy.can_view_network_listing(current_user, n)
    ]
    return jsonify(
        {
            "items": [network_json(n) for n in visible],
            "total": len(visible),
            "page": 1,
            "per_page": len(visible),
        }
    )


@bp.get("/contact-points")
def contact_points():  # type: ignore[no-untyped-def]
    query = directory.parse_query(request.args, current_user)
    result = directory.search(query, current_user)
    return jsonify(
        {
            "items": [contact_point_json(cp) for cp in result.items],
            "total": result.total,
            "page": query.page,
            "per_page": query.per_page,
            "facets": {
                name: [{"value": v.value, "label": v.label, "count": v.count} for v in values]
                for name, values in result.facets.items()
            },
        }
    )


@bp.get("/contact-points/<int:cp_id>")
def contact_point(cp_id: int):  # type: ignore[no-untyped-def]
    return jsonify(contact_point_json(directory.get_contact_point(cp_id, current_user)))


@bp.get("/contact-points/<int:cp_id>.vcf")
def contact_point_vcard(cp_id: int):  # type: ignore[no-untyped-def]
    cp = directory.get_contact_point(cp_id, current_user)
    return download(directory_io.vcard(cp), "text/vcard", f"contact-{cp.id}.vcf")


@bp.get("/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    from network.openapi import document

    return jsonify(document())


# --- Messaging ------------------------------------------------------------------------


def _int_arg(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(fields={name: _("Use a whole number.")}) from exc


@bp.get("/channels")
def channels():  # type: ignore[no-untyped-def]
    summaries = messaging.channels_for(current_user)
    items = [
        {
            "id": s.channel.id,
            "kind": s.channel.kind,
            "name": s.channel.name,
            "network": s.channel.network.slug if s.channel.network else None,
            "last_seq": s.channel.last_seq,
            "last_read_seq": s.last_read_seq,
            "unread": s.unread,
            "can_write": policy.can_write_channel(current_user, s.channel),
        }
        for s in summaries
    ]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/channels/<int:channel_id>/messages")
def channel_messages(channel_id: int):  # type: ignore[no-untyped-def]
    channel = messaging.get_channel(channel_id, current_user)
    found = messaging.list_messages(
        channel,
        current_user,
        after_seq=_int_arg("after_seq", 0),
        before_seq=_int_arg("before_seq", None),
        limit=_int_arg("limit", 50),
    )
    items = [messaging.message_payload(m) for m in found]
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.post("/channels/<int:channel_id>/messages")
def post_channel_message(channel_id: int):  # type: ignore[no-untyped-def]
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(_("Send a JSON object with body and client_id."))
    message, created = messaging.post_message(
        channel_id, current_user, data.get("body"), data.get("client_id"), data.get("parent_id")
    )
    return jsonify({"id": message.id, "seq": message.seq}), 201 if created else 200
