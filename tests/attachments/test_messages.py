"""Files travel with messages: only your own pending uploads to the same channel can be
sent, once; a deleted message loses its files; uploads never sent are purged."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from network.errors import ValidationError
from network.models.messaging import Attachment, Message
from network.services import attachments, messaging
from tests.attachments import samples
from tests.attachments.conftest import client_id, send, stored_files, upload


def test_a_message_carries_the_uploads_it_names(place, db):
    first = upload(place.channel, place.contact_point, "request.pdf")
    second = upload(place.channel, place.contact_point, "scan.png", samples.png())
    message = send(place.channel, place.contact_point, [first, second])

    rows = db.session.scalars(select(Attachment).where(Attachment.message_id == message.id))
    assert {a.id for a in rows} == {first.id, second.id}
    payload = messaging.message_payload(db.session.get(Message, message.id))
    assert [a["filename"] for a in payload["attachments"]] == ["request.pdf", "scan.png"]
    assert payload["attachments"][0]["url"] == f"/attachments/{first.id}/download"
    assert payload["attachments"][1]["content_type"] == "image/png"


def test_a_sent_upload_cannot_be_sent_again(place):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    with pytest.raises(ValidationError) as refused:
        send(place.channel, place.contact_point, [stored])
    assert "attachment_ids" in refused.value.fields


def test_someone_elses_upload_cannot_be_attached(place, db):
    theirs = upload(place.channel, place.coordinator)
    with pytest.raises(ValidationError) as refused:
        send(place.channel, place.contact_point, [theirs])
    assert "attachment_ids" in refused.value.fields
    assert db.session.get(Attachment, theirs.id).message_id is None
    assert place.channel.last_seq == 0  # nothing was posted


def test_an_upload_to_another_channel_cannot_be_attached(place):
    elsewhere = upload(place.topic, place.contact_point)
    with pytest.raises(ValidationError):
        send(place.channel, place.contact_point, [elsewhere])


@pytest.mark.parametrize(
    "ids",
    ["1", [True], ["1"], [1.5], {"id": 1}, [0], [2**40], [None]],
)
def test_attachment_ids_must_be_a_list_of_ids(place, ids):
    with pytest.raises(ValidationError) as refused:
        messaging.post_message(
            place.channel.id, place.contact_point, "x", client_id(), attachment_ids=ids
        )
    assert "attachment_ids" in refused.value.fields


def test_a_file_listed_twice_or_too_many_files_are_refused(app, place, monkeypatch):
    stored = upload(place.channel, place.contact_point)
    with pytest.raises(ValidationError) as refused:
        send(place.channel, place.contact_point, [stored, stored])
    assert "twice" in refused.value.fields["attachment_ids"]
    monkeypatch.setitem(app.config, "MAX_ATTACHMENTS_PER_MESSAGE", 1)
    other = upload(place.channel, place.contact_point)
    with pytest.raises(ValidationError) as refused:
        send(place.channel, place.contact_point, [stored, other])
    assert "at most 1" in refused.value.fields["attachment_ids"]


def test_an_upload_taken_by_a_racing_send_is_not_linked_twice(place, db):
    """Two sends that both passed the check: the second to write finds the file taken,
    and its whole message is rolled back."""
    stored = upload(place.channel, place.contact_point)
    checked = attachments.pending_for_send([stored.id], place.contact_point, place.channel)
    send(place.channel, place.contact_point, [stored])  # the racing send wins
    late = Message(
        channel_id=place.channel.id,
        seq=99,
        author_id=place.contact_point.id,
        client_id=client_id(),
        body_encrypted=None,
    )
    db.session.add(late)
    db.session.flush()
    with pytest.raises(ValidationError):
        attachments.link(late, attachments.by_ids([a.id for a in checked]))
    assert db.session.scalar(select(Message).where(Message.seq == 99)) is None
    winner = db.session.get(Attachment, stored.id)
    assert winner.message_id is not None


def test_deleting_a_message_deletes_its_files(place, db, upload_folder):
    stored = upload(place.channel, place.contact_point)
    kept = upload(place.channel, place.contact_point)
    message = send(place.channel, place.contact_point, [stored])
    path = attachments.storage_path(stored)
    assert path.exists()

    deleted = messaging.delete_message(message.id, place.contact_point)

    assert db.session.get(Attachment, stored.id) is None
    assert not path.exists()
    assert messaging.message_payload(deleted)["attachments"] == []
    assert stored_files(upload_folder) == [attachments.storage_path(kept)]


def test_files_stay_when_the_deletion_is_rolled_back(place, db):
    stored = upload(place.channel, place.contact_point)
    message = send(place.channel, place.contact_point, [stored])
    path = attachments.storage_path(stored)
    attachments.discard(db.session.get(Message, message.id))
    db.session.rollback()
    db.session.commit()  # a later commit does not remove them either
    assert path.exists()
    assert attachments.read_content(db.session.get(Attachment, stored.id)) == samples.pdf()


def _age(attachment_id: int, db, hours: int) -> None:
    from network.models.base import utcnow

    db.session.execute(
        update(Attachment)
        .where(Attachment.id == attachment_id)
        .values(created_at=utcnow() - timedelta(hours=hours))
    )
    db.session.commit()


def test_purge_removes_uploads_never_sent_and_keeps_the_rest(place, db, upload_folder):
    stale = upload(place.channel, place.contact_point)
    fresh = upload(place.channel, place.contact_point)
    sent = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [sent])
    stale_id, stale_path = stale.id, attachments.storage_path(stale)
    _age(stale_id, db, 48)
    _age(sent.id, db, 48)

    assert attachments.purge_stale_uploads(timedelta(days=1)) == 1

    assert db.session.get(Attachment, stale_id) is None
    assert not stale_path.exists()
    remaining = {a.id for a in db.session.scalars(select(Attachment))}
    assert remaining == {fresh.id, sent.id}
    assert attachments.read_content(db.session.get(Attachment, sent.id)) == samples.pdf()
    assert attachments.purge_stale_uploads(timedelta(days=1)) == 0


def test_purge_removes_old_files_no_row_names_but_not_new_ones(place, upload_folder):
    kept = upload(place.channel, place.contact_point)
    old_orphan = upload_folder / "ab" / ("ab" + secrets.token_hex(31))
    new_orphan = upload_folder / "cd" / ("cd" + secrets.token_hex(31))
    for path in (old_orphan, new_orphan):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"v1:orphan")
    two_hours_ago = time.time() - 2 * 3600
    os.utime(old_orphan, (two_hours_ago, two_hours_ago))
    os.utime(attachments.storage_path(kept), (two_hours_ago, two_hours_ago))

    assert attachments.purge_stale_uploads(timedelta(hours=1)) == 1

    assert not old_orphan.exists()
    assert new_orphan.exists()  # may be an upload whose row is being committed
    assert attachments.storage_path(kept).exists()
