"""`network rotate-key`: everything sealed under the data key (message bodies and their
HTML, edit history, case summaries, TOTP secrets, attachment files) ends up under the new
key and still opens; the search index is rebuilt; the previous key goes; a copy of the
database or of the upload folder shows no message text."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from network import crypto
from network.extensions import db as _db
from network.models.base import utcnow
from network.models.cases import Case
from network.models.messaging import Attachment, Channel, ChannelKind, ChannelMember, Message
from network.models.people import AuditEvent, User
from network.services import accounts, attachments, cases, keys, messaging, search
from tests.attachments import samples
from tests.conftest import PASSWORD, csrf_token

MARKER = samples.MARKER.decode()  # "EXTRADITION-REQUEST-7731-CONFIDENTIAL"
SECRET_WORD = "zanzibar"


def _say(channel: Channel, user: Any, body: str) -> Message:
    message, _created = messaging.post_message(channel.id, user, body, uuid.uuid4().hex)
    return message


def _all_ciphertexts() -> list[str]:
    texts = []
    for spec in keys.ENCRYPTED_COLUMNS:
        texts += [row[1] for row in _db.session.execute(spec.rows())]
    return texts


def _file_key_ids() -> list[str | None]:
    return [
        crypto.key_id_of(attachments.storage_path(a).read_bytes())
        for a in _db.session.scalars(select(Attachment))
    ]


def _database_dump() -> str:
    """Every row of every table, as a copy of the database would hold them."""
    return "\n".join(
        repr(_db.session.execute(table.select()).all()) for table in _db.metadata.sorted_tables
    )


def _folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())


class Data:
    """Something of every encrypted kind, sealed under the key in place when made."""

    def __init__(self, room: Any, db: Any) -> None:
        self.room = room
        self.message = _say(room.channel, room.contact_point, f"{MARKER} draft")
        messaging.edit_message(
            self.message.id, room.contact_point, f"{MARKER} sent via {SECRET_WORD}"
        )
        self.upload = attachments.store_upload(
            room.channel, room.contact_point, ("request.pdf", samples.pdf())
        )
        self.with_file, _ = messaging.post_message(
            room.channel.id,
            room.contact_point,
            "The request, attached",
            uuid.uuid4().hex,
            attachment_ids=[self.upload.id],
        )
        channel = Channel(kind=ChannelKind.CASE.value, network=room.network, name="MLA/2026/9")
        channel.members = [ChannelMember(user_id=room.contact_point.id, is_owner=True)]
        self.case = Case(
            network=room.network,
            channel=channel,
            reference="MLA/2026/9",
            case_type="mla",
            requesting_state="SN",
            requested_state="ML",
        )
        db.session.add(self.case)
        db.session.flush()
        self.case.summary_encrypted = crypto.encrypt_text(MARKER, context=f"case:{self.case.id}")
        db.session.commit()
        self.totp_user = room.observer
        self.totp_secret = pyotp.random_base32()
        accounts.enable_totp(
            self.totp_user, self.totp_secret, pyotp.TOTP(self.totp_secret).at(utcnow())
        )


@pytest.fixture
def data(instance, room, db) -> Data:  # type: ignore[no-untyped-def]
    return Data(room, db)


def _rotate(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=["rotate-key", *args])


def _sign_in_with_code(client: Any, user: User, secret: str) -> bool:
    client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    code = pyotp.TOTP(secret).at(utcnow().timestamp() + 30)  # newer than the enrolment one
    client.post("/login/2fa", data={"code": code, "csrf_token": csrf_token(client, "/login/2fa")})
    return client.get("/account/").status_code == 200


def test_after_rotation_everything_is_under_the_new_key_and_still_opens(
    app, data, instance, db, login
):
    old_key_id = crypto.current_key_id()
    old_token = data.message.body_encrypted
    result = _rotate(app)
    assert result.exit_code == 0, result.output
    new_key_id = crypto.current_key_id()
    assert new_key_id != old_key_id
    assert f"Everything is encrypted under key {new_key_id}." in result.output
    assert "The previous key was removed" in result.output

    # Every ciphertext names the new key; the previous key is gone for good.
    texts = _all_ciphertexts()
    assert len(texts) >= 7  # 2 messages x (body, html), 1 revision, 1 case, 1 TOTP secret
    assert {crypto.key_id_of(t) for t in texts} == {new_key_id}
    assert _file_key_ids() == [new_key_id]
    assert not (instance / "data_key.previous").exists()
    assert crypto.keyring().previous == ()
    with pytest.raises(ValueError, match="not in the keyring"):
        crypto.decrypt_text(old_token, context=f"message:{data.room.channel.id}:1")

    # Everything still opens, through the ways people use it.
    reader = login(app.test_client(), data.room.coordinator)
    items = reader.get(f"/api/v1/channels/{data.room.channel.id}/messages").get_json()["items"]
    assert MARKER in items[0]["html"]
    assert [text for text, _at in messaging.revisions(data.message, data.room.contact_point)] == [
        f"{MARKER} draft"
    ]
    assert cases.case_summary(data.case) == MARKER
    download = reader.get(f"/attachments/{data.upload.id}/download")
    assert download.status_code == 200
    assert download.data == samples.pdf()
    assert _sign_in_with_code(app.test_client(), data.totp_user, data.totp_secret)
    hits = reader.get(f"/api/v1/search?q={SECRET_WORD}").get_json()["items"]
    assert [h["id"] for h in hits] == [data.message.id]


def test_after_rotation_a_copy_of_the_database_or_uploads_shows_no_message_text(
    app, data, instance, db, tmp_path
):
    assert _rotate(app).exit_code == 0
    dump = _database_dump()
    assert MARKER not in dump
    assert SECRET_WORD not in dump.lower()
    assert data.totp_secret not in dump
    uploads = _folder_bytes(tmp_path / "uploads")
    assert uploads
    assert samples.MARKER not in uploads


def test_the_search_index_is_rebuilt_under_the_new_key(app, data, db):
    before = set(_db.session.scalars(select(search.MessageTerm.term)))
    assert _rotate(app).exit_code == 0
    after = set(_db.session.scalars(select(search.MessageTerm.term)))
    assert after
    assert not before & after  # every term was recomputed under the new search key
    assert [h.message.id for h in search.search_messages(data.room.observer, "zanzib").items] == [
        data.message.id
    ]


def test_search_finds_old_and_new_messages_while_a_rotation_is_under_way(instance, room):
    old = _say(room.channel, room.contact_point, "Yaoundé hearing")
    crypto.install_new_key()  # the re-encryption has not reached the old message yet
    new = _say(room.channel, room.contact_point, "Yaoundé again")
    found = search.search_messages(room.observer, "yaounde").items
    assert [h.message.id for h in found] == [new.id, old.id]


def test_keep_previous_leaves_the_previous_key_file(app, data, instance):
    result = _rotate(app, "--keep-previous")
    assert result.exit_code == 0, result.output
    assert "kept in instance/data_key.previous" in result.output
    assert (instance / "data_key.previous").exists()
    assert {crypto.key_id_of(t) for t in _all_ciphertexts()} == {crypto.current_key_id()}


def test_the_rotation_is_audited(app, data, db):
    assert _rotate(app).exit_code == 0
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "data_key.rotate"))
    assert event.actor_id is None  # the platform itself, from the command line
    assert event.after["key_id"] == crypto.current_key_id()
    assert event.after["reencrypted"]["messages.body"] == 2
    assert event.after["files"] == 1
    assert event.after["previous_dropped"] is True


def test_a_ciphertext_that_does_not_open_keeps_the_previous_key(app, data, instance, db):
    # A body moved to another message does not verify there (the context differs).
    other = db.session.get(Message, data.with_file.id)
    other.body_encrypted = data.message.body_encrypted
    db.session.commit()
    result = _rotate(app)
    assert result.exit_code == 1
    assert "could not be opened" in result.output
    assert (instance / "data_key.previous").exists()


def test_an_edit_made_during_the_rotation_is_not_overwritten(app, data, db, monkeypatch):
    opened = crypto.decrypt_text
    edited = []

    def open_then_edit(token: str, *, context: str) -> str:
        plaintext = opened(token, context=context)
        if context == f"message:{data.room.channel.id}:{data.message.seq}" and not edited:
            # The running server saves an edit between the rotation's read and its write.
            edited.append(True)
            messaging.edit_message(data.message.id, data.room.contact_point, "Edited meanwhile")
        return plaintext

    monkeypatch.setattr(crypto, "decrypt_text", open_then_edit)
    assert _rotate(app).exit_code == 0
    monkeypatch.setattr(crypto, "decrypt_text", opened)
    db.session.expire_all()
    assert messaging.message_body(db.session.get(Message, data.message.id)) == "Edited meanwhile"
    assert [h.message.id for h in search.search_messages(data.room.observer, "meanwhile").items]


def test_environment_mode_reencrypts_under_the_variable_and_says_to_remove_the_old_one(
    app, instance, room, db, monkeypatch
):
    old_key, new_key = crypto.generate_key(), crypto.generate_key()
    monkeypatch.setitem(app.config, "DATA_KEY", old_key)
    message = _say(room.channel, room.contact_point, f"{MARKER} in env mode")
    # The operator sets the new key and names the old one as previous, then runs the command.
    monkeypatch.setitem(app.config, "DATA_KEY", new_key)
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", old_key)
    result = _rotate(app)
    assert result.exit_code == 0, result.output
    assert "remove NETWORK_DATA_KEYS_PREVIOUS" in result.output
    new_id = crypto.key_id_for(base64.urlsafe_b64decode(new_key))
    assert {crypto.key_id_of(t) for t in _all_ciphertexts()} == {new_id}
    assert not (instance / "data_key").exists()  # file mode was never involved
    # Once the variable is gone, everything still opens.
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", "")
    db.session.expire_all()
    assert messaging.message_body(db.session.get(Message, message.id)) == f"{MARKER} in env mode"
