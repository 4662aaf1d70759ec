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
from network.security import is_database_int
from network.services import accounts, directory, directory_io, messaging, notifications

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
        "name": network.name,  # in the caller's language (Accept-Language), else the default
        "names": network.names_by_locale,
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
                {"network": slug, "role": role}
                for slug, role in accounts.membership_roles(current_user)
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
        value = int(raw)
    except ValueError as exc:
        raise ValidationError(fields={name: _("Use a whole number.")}) from exc
    if not is_database_int(value):  # beyond any seq, page or id: the driver would fail
        raise ValidationError(fields={name: _("Use a whole number.")})
    return value


def _channel_json(summary: messaging.ChannelSummary) -> dict[str, Any]:
    channel = summary.channel
    return {
        "id": channel.id,
        "kind": channel.kind,
        "name": channel.name,
        "description": channel.description,
        "network": channel.network.slug if channel.network else None,
        "last_seq": channel.last_seq,
        "last_read_seq": summary.last_read_seq,
        "purged_through_seq": channel.purged_through_seq,
        "unread": summary.unread,
        "mentions": summary.mentions,
        "archived": channel.archived_at is not None,
        "can_write": policy.can_write_channel(current_user, channel),
    }


def _json_body(hint: str) -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ValidationError(hint)
    return data


def _list(items: list[Any]) -> Any:
    return jsonify({"items": items, "total": len(items), "page": 1, "per_page": len(items)})


@bp.get("/channels")
def channels():  # type: ignore[no-untyped-def]
    return _list([_channel_json(s) for s in messaging.channels_for(current_user)])


@bp.post("/channels")
def create_channel():  # type: ignore[no-untyped-def]
    """``{"kind": "topic", "network": slug, "name", "description", "members": [ids]}`` or
    ``{"kind": "direct", "members": [ids], "name"?}`` → 201 with the channel."""
    data = _json_body(_("Send a JSON object with kind, name and members."))
    network = None
    if data.get("kind") == "topic":
        slug = data.get("network")
        network = next((n for n in messaging.topic_networks(current_user) if n.slug == slug), None)
        if network is None:
            raise ValidationError(
                fields={"network": _("Choose a network where you may open channels.")}
            )
    channel = messaging.create_channel(
        str(data.get("kind") or ""),
        current_user,
        name=data.get("name") if isinstance(data.get("name"), str) else "",
        network=network,
        member_ids=data.get("members"),
        description=data.get("description") if isinstance(data.get("description"), str) else "",
    )
    [summary] = [s for s in messaging.channels_for(current_user) if s.channel.id == channel.id]
    return jsonify(_channel_json(summary)), 201


def _member_json(row: messaging.MemberRow) -> dict[str, Any]:
    return {
        "id": row.user.id,
        "name": row.user.name,
        "is_owner": row.is_owner,
        "role": row.role,
        "joined_at": row.joined_at.isoformat() if row.joined_at else None,
    }


@bp.get("/channels/<int:channel_id>/members")
def channel_members(channel_id: int):  # type: ignore[no-untyped-def]
    channel = messaging.get_channel(channel_id, current_user)
    return _list([_member_json(r) for r in messaging.channel_members(channel, current_user)])


@bp.post("/channels/<int:channel_id>/members")
def add_channel_members(channel_id: int):  # type: ignore[no-untyped-def]
    """``{"user_ids": [ids]}`` → 201 with the people added."""
    data = _json_body(_("Send a JSON object with user_ids."))
    added = messaging.add_members(channel_id, current_user, data.get("user_ids"))
    return _list([{"id": u.id, "name": u.name} for u in added]), 201


@bp.delete("/channels/<int:channel_id>/members/<int:user_id>")
def remove_channel_member(channel_id: int, user_id: int):  # type: ignore[no-untyped-def]
    """Remove a member (oneself: leave the channel) → 204."""
    messaging.remove_member(channel_id, current_user, user_id)
    return "", 204


@bp.get("/people")
def people():  # type: ignore[no-untyped-def]
    """People the caller may start a conversation with, by name: ``q``, at most 20."""
    q = request.args.get("q", "")[:100]
    found = messaging.reachable_people(current_user, q, limit=20)
    return _list(
        [
            {
                "id": u.id,
                "name": u.name,
                "networks": sorted(n.slug for n in messaging.shown_networks(u, current_user)),
            }
            for u in found
        ]
    )


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
    return _list(messaging.payloads(found))


@bp.post("/channels/<int:channel_id>/messages")
def post_channel_message(channel_id: int):  # type: ignore[no-untyped-def]
    data = _json_body(_("Send a JSON object with body and client_id."))
    message, created = messaging.post_message(
        channel_id,
        current_user,
        data.get("body"),
        data.get("client_id"),
        data.get("parent_id"),
        data.get("attachment_ids"),
    )
    return jsonify({"id": message.id, "seq": message.seq}), 201 if created else 200


@bp.get("/messages/<int:message_id>")
def message(message_id: int):  # type: ignore[no-untyped-def]
    found = messaging.get_message(message_id, current_user)
    body = messaging.message_payload(found)
    if messaging.can_edit(current_user, found):
        body["body"] = messaging.message_body(found)  # the Markdown, for its author to edit
    return jsonify(body)


@bp.patch("/messages/<int:message_id>")
def edit_message(message_id: int):  # type: ignore[no-untyped-def]
    """The author edits: ``{"body": markdown}`` → the message as now shown."""
    data = _json_body(_("Send a JSON object with body."))
    return jsonify(
        messaging.message_payload(
            messaging.edit_message(message_id, current_user, data.get("body"))
        )
    )


@bp.delete("/messages/<int:message_id>")
def delete_message(message_id: int):  # type: ignore[no-untyped-def]
    """The author or a manager of the channel deletes: a tombstone stays → 204."""
    messaging.delete_message(message_id, current_user)
    return "", 204


@bp.get("/messages/<int:message_id>/thread")
def message_thread(message_id: int):  # type: ignore[no-untyped-def]
    """The thread of a message: its first message and the replies, in ``seq`` order."""
    root, replies = messaging.thread(message_id, current_user)
    return _list(messaging.payloads([root, *replies]))


@bp.get("/messages/<int:message_id>/revisions")
def message_revisions(message_id: int):  # type: ignore[no-untyped-def]
    """The earlier versions of an edited message, oldest first."""
    found = messaging.get_message(message_id, current_user)
    return _list(messaging.revision_payloads(found, current_user))


@bp.get("/messages/<int:message_id>/receipts")
def message_receipts(message_id: int):  # type: ignore[no-untyped-def]
    """Certified receipts of a case-channel message (its sender only): per member, when
    their client received it and when they read it."""
    found, rows = messaging.receipts(message_id, current_user)
    return jsonify(messaging.receipts_payload(found, rows))


@bp.get("/notifications")
def notification_list():  # type: ignore[no-untyped-def]
    page = _int_arg("page", 1) or 1
    items, total = notifications.list_for(current_user, page=page)
    return jsonify(
        {
            "items": [notifications.payload(n) for n in items],
            "total": total,
            "page": page,
            "per_page": notifications.PAGE,
            "unread": notifications.unread_count(current_user),
        }
    )


@bp.post("/notifications/read")
def notifications_read():  # type: ignore[no-untyped-def]
    """Mark notifications read: ``{"id": n}`` for one, ``{}`` for all."""
    data = {} if not request.get_data() else request.get_json(silent=True)
    if not isinstance(data, dict):  # a body that is not a JSON object is refused (issue 8)
        raise ValidationError(_("Send a JSON object."))
    if "id" in data and data["id"] is None:
        raise ValidationError(fields={"id": _("A notification id is a whole number.")})
    ident = data.get("id")
    changed = notifications.mark_read(current_user, ident)
    return jsonify({"changed": changed, "unread": notifications.unread_count(current_user)})
