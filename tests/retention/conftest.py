"""Fixtures for retention: the attachments' ``place`` (a network channel, a topic channel,
people in every role) with an upload folder per test, and a way to age messages."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from network.extensions import db as _db
from network.models.base import utcnow
from network.models.messaging import Attachment, Message
from tests.attachments.conftest import place, upload_folder  # noqa: F401  (the fixtures)


def age_messages(messages: list[Message], days: float) -> None:
    """Make messages look ``days`` old (written directly, as time would)."""
    _db.session.execute(
        update(Message)
        .where(Message.id.in_([m.id for m in messages]))
        .values(created_at=utcnow() - timedelta(days=days))
    )
    _db.session.commit()


def age_upload(attachment: Attachment, days: float) -> None:
    _db.session.execute(
        update(Attachment)
        .where(Attachment.id == attachment.id)
        .values(created_at=utcnow() - timedelta(days=days))
    )
    _db.session.commit()
