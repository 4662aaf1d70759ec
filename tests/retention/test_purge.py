"""Retention: the period a channel keeps its messages (set by its managers, audited), and
`network purge-expired`, which deletes the expired prefix of each channel's sequence with
the files, records it in the audit log, and leaves clients no gap to chase."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from network.errors import Forbidden, ValidationError
from network.extensions import socketio
from network.models.messaging import Attachment, Channel, Message, MessageTerm
from network.models.people import AuditEvent
from network.services import attachments, messaging, retention, search
from tests.attachments import samples
from tests.retention.conftest import age_messages, age_upload


def _post(channel, user, body, files=()):  # type: ignore[no-untyped-def]
    message, _created = messaging.post_message(
        channel.id, user, body, uuid.uuid4().hex, attachment_ids=[f.id for f in files] or None
    )
    return message


def _seqs(db, channel) -> list[int]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(Message.seq).where(Message.channel_id == channel.id).order_by(Message.seq)
        )
    )


def _purge_events(db, channel) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "channel.purge", AuditEvent.channel_id == channel.id
            )
        )
    )


@pytest.fixture
def history(place, db):  # type: ignore[no-untyped-def]
    """Five messages in the network channel, which keeps them 30 days; the first three
    are 40 days old, and the second carries a file."""
    retention.set_retention(place.coordinator, place.channel, 30)
    file = attachments.store_upload(place.channel, place.contact_point, ("a.pdf", samples.pdf()))
    messages = [
        _post(place.channel, place.contact_point, f"Note {n} Kigali", [file] if n == 2 else [])
        for n in range(1, 6)
    ]
    age_messages(messages[:3], 40)
    return messages, file


# --- Purging --------------------------------------------------------------------------------


def test_the_expired_prefix_goes_and_the_recent_messages_stay(place, history, db):
    messages, _file = history
    purged_ids = [m.id for m in messages[:3]]
    report = retention.purge_expired()
    [done] = report.channels
    assert (done.channel_id, done.messages, done.files, done.through_seq) == (
        place.channel.id,
        3,
        1,
        3,
    )
    assert _seqs(db, place.channel) == [4, 5]
    db.session.expire_all()
    assert db.session.get(Channel, place.channel.id).purged_through_seq == 3
    # Their search terms went with them; the remaining messages are still found.
    purged_terms = db.session.scalar(
        select(func.count()).select_from(MessageTerm).where(MessageTerm.message_id.in_(purged_ids))
    )
    assert purged_terms == 0
    hits = search.search_messages(place.observer, "kigali").items
    assert [h.message.seq for h in hits] == [5, 4]


def test_the_files_of_purged_messages_are_removed_from_storage(place, history, db):
    _messages, file = history
    path, file_id = attachments.storage_path(file), file.id
    assert path.exists()
    retention.purge_expired()
    assert not path.exists()
    assert db.session.get(Attachment, file_id) is None


def test_the_purge_is_audited_once_per_channel_with_what_it_did(place, history, db):
    retention.purge_expired()
    [event] = _purge_events(db, place.channel)
    assert event.actor_id is None  # the platform, from the command line
    assert event.network_id == place.network.id
    assert event.after == {"messages": 3, "files": 1, "through_seq": 3, "retention_days": 30}


def test_a_second_run_finds_nothing_more_to_do(place, history, db):
    retention.purge_expired()
    again = retention.purge_expired()
    assert again.channels == []
    assert _seqs(db, place.channel) == [4, 5]
    assert len(_purge_events(db, place.channel)) == 1


def test_what_is_deleted_is_always_a_prefix_of_the_sequence(place, db):
    retention.set_retention(place.coordinator, place.channel, 30)
    messages = [_post(place.channel, place.contact_point, f"m{n}") for n in range(1, 5)]
    # Clocks are not sequence numbers: the third is older than the second.
    age_messages([messages[0], messages[2]], 31)
    [done] = retention.purge_expired().channels
    assert done.through_seq == 3
    assert _seqs(db, place.channel) == [4]


def test_a_channel_without_retention_keeps_everything(place, db):
    old = [_post(place.topic, place.contact_point, "Kept for ever") for _ in range(2)]
    age_messages(old, 5000)
    assert retention.purge_expired().channels == []
    assert _seqs(db, place.topic) == [1, 2]


def test_a_dry_run_reports_and_deletes_nothing(place, history, db):
    _messages, file = history
    report = retention.purge_expired(dry_run=True)
    [done] = report.channels
    assert (done.messages, done.files, done.through_seq) == (3, 1, 3)
    assert _seqs(db, place.channel) == [1, 2, 3, 4, 5]
    assert attachments.storage_path(file).exists()
    assert _purge_events(db, place.channel) == []


def test_uploads_never_sent_are_removed_after_a_day(place, db):
    stale = attachments.store_upload(place.channel, place.contact_point, ("s.pdf", samples.pdf()))
    fresh = attachments.store_upload(place.channel, place.contact_point, ("f.pdf", samples.pdf()))
    stale_id, fresh_id = stale.id, fresh.id
    age_upload(stale, 2)
    report = retention.purge_expired()
    assert report.stale_uploads == 1
    assert db.session.get(Attachment, stale_id) is None
    assert db.session.get(Attachment, fresh_id) is not None


def test_a_client_joining_after_a_purge_gets_the_remaining_messages(
    app, client, login, place, history
):
    retention.purge_expired()
    login(client, place.observer)
    socket = socketio.test_client(app, flask_test_client=client)
    ack = socket.emit("join", {"channel_id": place.channel.id, "after_seq": 0}, callback=True)
    assert ack["ok"] is True
    assert [m["seq"] for m in ack["messages"]] == [4, 5]
    assert ack["last_seq"] == 5
    assert ack["purged_through_seq"] == 3  # seqs 1-3 are gone, not missing
    assert ack["more"] is False
    listing = client.get(f"/api/v1/channels/{place.channel.id}/messages?after_seq=0").get_json()
    assert [m["seq"] for m in listing["items"]] == [4, 5]
    socket.disconnect()


def test_new_messages_after_a_purge_continue_the_sequence(place, history, db):
    retention.purge_expired()
    assert _post(place.channel, place.contact_point, "After the purge").seq == 6


# --- The command ----------------------------------------------------------------------------


def test_the_command_prints_what_it_did_and_then_that_nothing_expired(app, place, history):
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["purge-expired", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert f'Channel {place.channel.id} "WACAP" would lose 3 message(s) and 1 file(s)' in dry.output
    first = runner.invoke(args=["purge-expired"])
    assert first.exit_code == 0, first.output
    assert (
        f'Channel {place.channel.id} "WACAP" lost 3 message(s) and 1 file(s), through seq 3 '
        "(retention 30 days)." in first.output
    )
    assert "Uploads never sent, removed: 0." in first.output
    second = runner.invoke(args=["purge-expired"])
    assert second.exit_code == 0
    assert "Nothing has expired." in second.output


# --- Setting the period ---------------------------------------------------------------------


def test_a_manager_sets_the_period_and_the_change_is_audited(place, db):
    retention.set_retention(place.coordinator, place.channel, "90")
    assert place.channel.retention_days == 90
    retention.set_retention(place.coordinator, place.channel, None)
    assert place.channel.retention_days is None
    events = list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "channel.retention")
            .order_by(AuditEvent.id)
        )
    )
    assert [(e.before, e.after) for e in events] == [
        ({"retention_days": None}, {"retention_days": 90}),
        ({"retention_days": 90}, {"retention_days": None}),
    ]
    assert {e.channel_id for e in events} == {place.channel.id}


def test_the_topic_owner_may_set_the_period_of_their_working_group(place):
    retention.set_retention(place.contact_point, place.topic, 7)
    assert place.topic.retention_days == 7


@pytest.mark.parametrize("who", ["contact_point", "observer", "outsider", "admin"])
def test_others_may_not_set_the_period_of_the_network_channel(place, who):
    with pytest.raises(Forbidden):
        retention.set_retention(getattr(place, who), place.channel, 30)
    assert place.channel.retention_days is None


@pytest.mark.parametrize("days", [0, -1, 3651, "ten", 1.5, True])
def test_a_period_outside_one_day_to_ten_years_is_refused(place, days):
    with pytest.raises(ValidationError) as error:
        retention.set_retention(place.coordinator, place.channel, days)
    assert "retention_days" in error.value.fields
