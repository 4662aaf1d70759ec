"""Message attachments.

STUB: filled in by the attachments work; the message pipeline already calls these.
"""

from __future__ import annotations

from typing import Any

from network.errors import ValidationError
from network.models.messaging import Attachment, Channel, Message


def pending_for_send(attachment_ids: Any, author: Any, channel: Channel) -> list[Attachment]:
    """The uploads named by ``attachment_ids`` (None or a list of ids), checked: each was
    uploaded by ``author`` to ``channel`` and is not yet part of a message. Raises
    ``ValidationError``."""
    if attachment_ids in (None, []):
        return []
    raise ValidationError(fields={"attachment_ids": "not supported yet"})


def by_ids(ids: list[int]) -> list[Attachment]:
    """The uploads with these ids, loaded in the current (writing) transaction."""
    return []


def discard(message: Message) -> None:
    """A deleted message loses its files (rows now; stored files are removed after the
    commit or by `network purge-expired`)."""


def link(message: Message, attachments: list[Attachment]) -> None:
    """Make the uploads part of ``message`` (in the current transaction)."""
    for attachment in attachments:
        attachment.message_id = message.id


def payload(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
    }
