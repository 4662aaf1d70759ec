"""Rotation of the data key: `network rotate-key`.

Everything sealed with ``network.crypto`` is listed in ``ENCRYPTED_COLUMNS`` (with the
associated-data context each was sealed with) plus the attachment files. A rotation
makes sure all of it ends up under the current key:

1. File mode (``instance/data_key``): a new key is made; the old one is written to
   ``data_key.previous`` *before* the new one replaces ``data_key``, so any process
   reading the files can open everything at every instant. Environment mode
   (``NETWORK_DATA_KEY``): the operator has already put the new key in
   ``NETWORK_DATA_KEY`` and the old ones in ``NETWORK_DATA_KEYS_PREVIOUS``.
2. Every ciphertext not under the current key is opened and sealed again, in batches,
   each batch its own short transaction. A row is replaced only if it still holds the
   ciphertext that was read (compare-and-set), so a message edited meanwhile by the
   running server keeps its edit. A message body's search terms are recomputed in the
   same transaction (their HMAC key is derived from the data key).
3. Running servers seal with the key they loaded until they notice the new one (file
   mode: at their next encryption, they compare the key file's metadata; environment
   mode: when restarted with the new variables). So the rotation makes final passes
   until nothing is left under an old key.
4. Only then are the previous keys dropped (file mode: ``data_key.previous`` removed,
   unless ``keep_previous``); in environment mode the operator is told to remove
   ``NETWORK_DATA_KEYS_PREVIOUS``. Nothing is dropped while anything failed to open.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select, update

from network import crypto
from network.extensions import db
from network.models.cases import Case
from network.models.messaging import Attachment, Message, MessageRevision
from network.models.people import User
from network.policy import SYSTEM
from network.services import attachments, audit, search

log = logging.getLogger(__name__)

BATCH_SIZE = 200
FINAL_PASSES = 3
Progress = Callable[[int], Any]


@dataclass(frozen=True)
class EncryptedColumn:
    """One column of sealed text: how to select its rows (id, ciphertext, what the
    context is made of) and the context each value was sealed with."""

    label: str
    model: Any
    column: Any
    context_columns: tuple[Any, ...]
    context: Callable[..., str]
    join: tuple[Any, Any] | None = None
    reindex: bool = False  # a message body: its search terms are rebuilt with it

    def rows(self) -> Select[Any]:
        query = select(self.model.id, self.column, *self.context_columns)
        if self.join is not None:
            query = query.join(*self.join)
        return query.where(self.column.is_not(None))


# Every text column sealed with crypto.encrypt_text, with the context it was sealed with
# (a function of the row id and the context columns). A new encrypted column must be added
# here, or a rotation would leave it under a key that is then dropped.
ENCRYPTED_COLUMNS: tuple[EncryptedColumn, ...] = (
    EncryptedColumn(
        "messages.body",
        Message,
        Message.body_encrypted,
        (Message.channel_id, Message.seq),
        lambda _id, channel_id, seq: f"message:{channel_id}:{seq}",
        reindex=True,
    ),
    EncryptedColumn(
        "messages.html",
        Message,
        Message.html_encrypted,
        (Message.channel_id, Message.seq),
        lambda _id, channel_id, seq: f"message:{channel_id}:{seq}:html",
    ),
    EncryptedColumn(
        "message_revisions.body",
        MessageRevision,
        MessageRevision.body_encrypted,
        (Message.channel_id, Message.seq),
        lambda _id, channel_id, seq: f"message:{channel_id}:{seq}",
        join=(Message, Message.id == MessageRevision.message_id),
    ),
    EncryptedColumn(
        "cases.summary", Case, Case.summary_encrypted, (), lambda case_id: f"case:{case_id}"
    ),
    EncryptedColumn(
        "users.totp_secret",
        User,
        User.totp_secret_encrypted,
        (),
        lambda user_id: f"totp:{user_id}",
    ),
)


def _not_under(spec: EncryptedColumn, key_id: str) -> Any:
    return ~spec.column.startswith(f"v1:{key_id}:", autoescape=True)


@dataclass
class RotationReport:
    old_key_id: str | None
    new_key_id: str
    environment: bool
    reencrypted: dict[str, int] = field(default_factory=dict)
    files: int = 0
    files_missing: set[int] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)
    remaining: int = 0
    previous_dropped: bool = False

    @property
    def complete(self) -> bool:
        """Everything is under the new key: the previous keys may go."""
        return not self.failed and not self.remaining


# --- Counting -------------------------------------------------------------------------------


def stale_counts(key_id: str | None = None) -> dict[str, int]:
    """How many ciphertexts are not under ``key_id`` (the current key), per column, and
    how many attachments there are to check (``"attachments"``)."""
    key_id = key_id or crypto.current_key_id()
    counts = {}
    for spec in ENCRYPTED_COLUMNS:
        query = spec.rows().where(_not_under(spec, key_id)).subquery()
        counts[spec.label] = db.session.scalar(select(func.count()).select_from(query)) or 0
    counts["attachments"] = db.session.scalar(select(func.count()).select_from(Attachment)) or 0
    db.session.commit()
    return counts


# --- Re-encryption --------------------------------------------------------------------------


def _reencrypt_column(
    spec: EncryptedColumn, key_id: str, report: RotationReport, progress: Progress | None
) -> int:
    done = 0
    last_id = 0
    while True:
        rows = db.session.execute(
            spec.rows()
            .where(_not_under(spec, key_id), spec.model.id > last_id)
            .order_by(spec.model.id)
            .limit(BATCH_SIZE)
        ).all()
        if not rows:
            db.session.commit()
            return done
        for row_id, sealed, *values in rows:
            last_id = row_id
            context = spec.context(row_id, *values)
            try:
                plaintext = crypto.decrypt_text(sealed, context=context)
            except ValueError as exc:
                log.error("rotation: %s row %s cannot be opened: %s", spec.label, row_id, exc)
                report.failed.add(f"{spec.label}:{row_id}")
                continue
            changed = db.session.execute(
                update(spec.model)
                .where(spec.model.id == row_id, spec.column == sealed)
                .values({spec.column.key: crypto.encrypt_text(plaintext, context=context)})
                .execution_options(synchronize_session=False)
            ).rowcount
            if changed and spec.reindex:
                search.write_terms(row_id, values[0], plaintext)
            done += changed
        db.session.commit()
        if progress is not None:
            progress(len(rows))


def _file_context(attachment: Attachment) -> str:
    # The attachments module owns the file format (its docstring): one place for the
    # associated data a stored file is sealed with.
    return attachments.file_context(attachment.storage_key)


def _reencrypt_files(key_id: str, report: RotationReport, progress: Progress | None) -> int:
    """Seal every attachment file again under ``key_id`` (the database rows do not
    change: the file keeps its name, and its SHA-256 is of the plaintext, checked by
    ``read_content`` before the file is rewritten)."""
    done = 0
    last_id = 0
    header = f"v1:{key_id}:".encode()
    while True:
        batch = list(
            db.session.scalars(
                select(Attachment)
                .where(Attachment.id > last_id)
                .order_by(Attachment.id)
                .limit(BATCH_SIZE)
            )
        )
        db.session.commit()
        if not batch:
            return done
        for attachment in batch:
            last_id = attachment.id
            path = attachments.storage_path(attachment)
            try:
                with open(path, "rb") as handle:
                    if handle.read(len(header)) == header:
                        continue
            except FileNotFoundError:
                report.files_missing.add(attachment.id)
                continue
            try:
                plaintext = attachments.read_content(attachment)
            except attachments.AttachmentDamaged:
                report.failed.add(f"attachments:{attachment.id}")
                continue
            attachments.write_stored_file(
                attachment.storage_key,
                crypto.encrypt_bytes(plaintext, context=_file_context(attachment)),
            )
            done += 1
        if progress is not None:
            progress(len(batch))


def reencrypt_all(report: RotationReport, progress: Progress | None = None) -> int:
    """One pass over every ciphertext not under the current key; returns how many were
    sealed again."""
    key_id = crypto.current_key_id()
    total = 0
    for spec in ENCRYPTED_COLUMNS:
        count = _reencrypt_column(spec, key_id, report, progress)
        report.reencrypted[spec.label] = report.reencrypted.get(spec.label, 0) + count
        total += count
    count = _reencrypt_files(key_id, report, progress)
    # Meeting documents and training materials: stored like attachments, rows of their own.
    count += attachments.reencrypt_owned_files(key_id, report.failed)
    report.files += count
    return total + count


def _stale_total(key_id: str) -> int:
    counts = stale_counts(key_id)
    counts.pop("attachments", None)
    total = sum(counts.values())
    header = f"v1:{key_id}:".encode()
    for attachment in db.session.scalars(select(Attachment)):
        try:
            with open(attachments.storage_path(attachment), "rb") as handle:
                total += handle.read(len(header)) != header
        except FileNotFoundError:
            continue
    db.session.commit()
    return total + attachments.stale_owned_files(key_id)


def rotate(
    *,
    keep_previous: bool = False,
    progress: Progress | None = None,
    on_new_key: Callable[[RotationReport], Any] | None = None,
) -> RotationReport:
    """Rotate the data key (see the module docstring) and record ``data_key.rotate`` in
    the audit log. ``on_new_key`` is told once the new key is in place (the command
    line sizes its progress bar then). Raises ``ValueError`` when a key is malformed."""
    environment = crypto.uses_environment_key()
    if environment:
        old_key_id = None
        new_key_id = crypto.keyring(reload=True).current_id
    else:
        old_key_id, new_key_id = crypto.install_new_key()
    report = RotationReport(old_key_id=old_key_id, new_key_id=new_key_id, environment=environment)
    log.info("data key rotation to %s started", new_key_id)
    if on_new_key is not None:
        on_new_key(report)
    reencrypt_all(report, progress)
    # Final passes: what servers still sealed with the old key while the first pass ran.
    for _ in range(FINAL_PASSES):
        if not reencrypt_all(report):
            break
    report.remaining = _stale_total(new_key_id)
    if report.complete and not keep_previous and not environment:
        report.previous_dropped = crypto.drop_previous_keys()
    audit.record(
        SYSTEM,
        "data_key.rotate",
        "data_key",
        None,
        before={"key_id": old_key_id} if old_key_id else None,
        after={
            "key_id": new_key_id,
            "reencrypted": report.reencrypted,
            "files": report.files,
            "failed": len(report.failed),
            "previous_dropped": report.previous_dropped,
        },
    )
    db.session.commit()
    log.info("data key rotation to %s finished: %s", new_key_id, report.reencrypted)
    return report
