"""Retention: each channel may keep its messages for a number of days
(``Channel.retention_days``); `network purge-expired` deletes what is older, with the
attachment files, and records what it did in the audit log.

The deleted messages always form a prefix of the channel's sequence: everything up to
the highest ``seq`` whose message has expired (a message posted a moment later in the
same second may go with it). ``Channel.purged_through_seq`` then says where the
sequence now starts, so a client never takes the purge for lost messages.

Safe while the server runs: each batch is one short transaction that deletes by
``channel_id`` and ``seq`` and moves ``purged_through_seq`` with an ``UPDATE … WHERE``;
a message posted meanwhile takes a higher ``seq`` and is untouched. Files are removed
after the commit that removed their rows (a file left behind by a crash is encrypted and
referenced by nothing; the next run of the attachments' clean-up takes it).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from network import policy
from network.errors import Forbidden, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.messaging import Attachment, Channel, Message
from network.policy import SYSTEM
from network.services import attachments, audit

log = logging.getLogger(__name__)

MIN_RETENTION_DAYS = 1
MAX_RETENTION_DAYS = 3650
PURGE_BATCH = 500
STALE_UPLOAD_AGE = timedelta(days=1)


# --- Setting the period ---------------------------------------------------------------------


def clean_retention_days(days: Any) -> int | None:
    """``None`` (or an empty string) keeps messages for ever; otherwise a whole number of
    days from 1 to 3650. Raises ``ValidationError`` on the field ``retention_days``."""
    if days is None or (isinstance(days, str) and not days.strip()):
        return None
    if isinstance(days, str):
        try:
            days = int(days.strip())
        except ValueError:
            days = None
    if (
        not isinstance(days, int)
        or isinstance(days, bool)
        or not MIN_RETENTION_DAYS <= days <= MAX_RETENTION_DAYS
    ):
        raise ValidationError(
            fields={
                "retention_days": _(
                    "Keep messages from %(low)d to %(high)d days, or leave empty to keep "
                    "them for ever.",
                    low=MIN_RETENTION_DAYS,
                    high=MAX_RETENTION_DAYS,
                )
            }
        )
    return days


def set_retention(actor: Any, channel: Channel, days: Any) -> Channel:
    """Set how many days ``channel`` keeps its messages (``None``: for ever), audited as
    ``channel.retention`` with the values before and after; commits.

    For whoever may manage the channel (``policy.can_manage_channel``). Raises
    ``Forbidden`` or ``ValidationError`` (field ``retention_days``).
    """
    if not policy.can_manage_channel(actor, channel):
        raise Forbidden(_("Only the channel's managers can change how long it keeps messages."))
    days = clean_retention_days(days)
    if days == channel.retention_days:
        return channel
    before = {"retention_days": channel.retention_days}
    channel.retention_days = days
    audit.record(
        actor,
        "channel.retention",
        "channel",
        channel.id,
        before=before,
        after={"retention_days": days},
        network_id=channel.network_id,
        channel_id=channel.id,
    )
    db.session.commit()
    log.info("user %s set retention of channel %s to %s days", actor.id, channel.id, days)
    return channel


# --- Purging ------------------------------------------------------------------------------


@dataclass
class ChannelPurge:
    """What a purge did (or, in a dry run, would do) in one channel."""

    channel_id: int
    channel_name: str
    retention_days: int
    through_seq: int
    messages: int = 0
    files: int = 0


@dataclass
class PurgeReport:
    now: datetime
    dry_run: bool
    channels: list[ChannelPurge] = field(default_factory=list)
    stale_uploads: int | None = None  # None: not run (dry run)
    files_left: int = 0  # stored files whose removal failed or is not available

    @property
    def messages(self) -> int:
        return sum(c.messages for c in self.channels)

    @property
    def files(self) -> int:
        return sum(c.files for c in self.channels)


def _remove_files(storage_keys: list[str]) -> int:
    """Remove stored files whose rows are gone; returns how many could not be removed
    (orphans, which ``attachments.purge_stale_uploads`` takes later)."""
    left = 0
    for key in storage_keys:
        try:
            attachments.delete_stored_file(key)
        except OSError:
            log.exception("purge: a stored file could not be removed")
            left += 1
    return left


def _expired_through(channel_id: int, cutoff: datetime) -> int | None:
    return db.session.scalar(
        select(func.max(Message.seq)).where(
            Message.channel_id == channel_id, Message.created_at < cutoff
        )
    )


def _files_of(channel_id: int, through_seq: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Attachment.storage_key)
            .join(Message, Message.id == Attachment.message_id)
            .where(Message.channel_id == channel_id, Message.seq <= through_seq)
        )
    )


def _purge_channel(found: ChannelPurge, first_seq: int, report: PurgeReport) -> None:
    """Delete the channel's messages up to ``found.through_seq`` in batches of seqs."""
    floor = first_seq - 1
    while floor < found.through_seq:
        batch_end = min(found.through_seq, floor + PURGE_BATCH)
        keys = _files_of(found.channel_id, batch_end)
        deleted = db.session.execute(
            delete(Message)
            .where(Message.channel_id == found.channel_id, Message.seq <= batch_end)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.execute(
            update(Channel)
            .where(Channel.id == found.channel_id, Channel.purged_through_seq < batch_end)
            .values(purged_through_seq=batch_end)
            .execution_options(synchronize_session=False)
        )
        found.messages += deleted
        found.files += len(keys)
        if batch_end == found.through_seq:
            channel = db.session.get(Channel, found.channel_id)
            audit.record_channel_event(
                SYSTEM,
                "channel.purge",
                channel,
                messages=found.messages,
                files=found.files,
                through_seq=found.through_seq,
                retention_days=found.retention_days,
            )
        db.session.commit()
        report.files_left += _remove_files(keys)
        floor = batch_end


def purge_expired(now: datetime | None = None, *, dry_run: bool = False) -> PurgeReport:
    """Delete, in every channel with a retention period, the messages older than it (and
    their files, search terms, revisions and receipts), then the uploads never sent
    after a day. One audit event ``channel.purge`` per channel purged. With ``dry_run``
    nothing is written and the report says what would go. Commits per batch."""
    now = now or utcnow()
    report = PurgeReport(now=now, dry_run=dry_run)
    channels = db.session.execute(
        select(Channel.id, Channel.name, Channel.retention_days)
        .where(Channel.retention_days.is_not(None))
        .order_by(Channel.id)
    ).all()
    db.session.commit()
    for channel_id, name, days in channels:
        through = _expired_through(channel_id, now - timedelta(days=days))
        first_seq = db.session.scalar(
            select(func.min(Message.seq)).where(Message.channel_id == channel_id)
        )
        db.session.commit()
        if through is None or first_seq is None or first_seq > through:
            continue
        found = ChannelPurge(channel_id, name, days, through)
        if dry_run:
            found.messages = db.session.scalar(
                select(func.count()).where(Message.channel_id == channel_id, Message.seq <= through)
            )
            found.files = len(_files_of(channel_id, through))
            db.session.commit()
        else:
            _purge_channel(found, first_seq, report)
            log.info(
                "purge: channel %s lost %d messages and %d files through seq %d",
                channel_id,
                found.messages,
                found.files,
                found.through_seq,
            )
        report.channels.append(found)
    if not dry_run:
        report.stale_uploads = attachments.purge_stale_uploads(STALE_UPLOAD_AGE)
    return report
