"""The audit trail: who did what, when, with the values before and after."""

from __future__ import annotations

import logging
from typing import Any

from flask import has_request_context, request
from sqlalchemy import select

from network.extensions import db
from network.models.people import AuditEvent

log = logging.getLogger(__name__)


def _client_ip() -> str | None:
    """The address of the HTTP request or socket event being handled, if any."""
    if not has_request_context():
        return None
    return (request.remote_addr or "")[:45] or None


def record(
    actor: Any,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    network_id: int | None = None,
    channel_id: int | None = None,
) -> AuditEvent:
    """Add an audit event to the current transaction (the caller commits).

    ``network_id`` and ``channel_id`` say what the event concerns, so that a network's
    secretariat sees the events of its own network and channels.
    """
    actor_id = getattr(actor, "id", None) if getattr(actor, "is_authenticated", False) else None
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        network_id=network_id,
        channel_id=channel_id,
        ip_address=_client_ip(),
    )
    db.session.add(event)
    log.info("audit: user %s %s %s %s", actor_id, action, entity_type, entity_id)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that changed, as (before, after)."""
    changed = [key for key in after if before.get(key) != after.get(key)]
    return {k: before.get(k) for k in changed}, {k: after.get(k) for k in changed}


def history(entity_type: str, entity_id: int) -> list[AuditEvent]:
    """The audit events of one entity, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )


def record_channel_event(actor: Any, action: str, channel: Any, **details: Any) -> AuditEvent:
    """An event about a channel (read, membership change, export, download…), scoped to
    the channel and its network (the caller commits)."""
    return record(
        actor,
        action,
        "channel",
        channel.id,
        after=details or None,
        network_id=channel.network_id,
        channel_id=channel.id,
    )
