"""Property-based tests (hypothesis) of two validators the bad-input corpus relies on
(issue 8; the sanitiser's own properties live in tests/messaging/test_sanitize.py):

* a channel's ``seq``: whatever interleaving of sends, retries with the same client_id,
  edits and deletes, the sequence stays gap-free and strictly increasing, and each
  client_id is stored once (ASVS V11.1.2/V11.1.3: business logic in order, no double
  submission);
* the directory import: any generated CSV either imports fully or writes nothing, and
  each refusal names a row, a column (or the whole row) and a reason (ASVS V5.1.3,
  V5.1.4, V11.1.x).
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from network.errors import DomainError
from network.models.directory import ContactPoint
from network.models.messaging import Message
from network.services import directory_io, messaging
from tests.security import hostile as h

pytestmark = pytest.mark.timeout(240)

PROPERTY = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- seq --------------------------------------------------------------------------------

operations = st.lists(
    st.one_of(
        st.tuples(st.just("send"), st.integers(0, 4), st.sampled_from(["a", "b"])),
        st.tuples(st.just("retry"), st.integers(0, 20), st.sampled_from(["a", "b"])),
        st.tuples(st.just("edit"), st.integers(0, 20), st.sampled_from(["a", "b"])),
        st.tuples(st.just("delete"), st.integers(0, 20), st.sampled_from(["a", "b"])),
    ),
    min_size=1,
    max_size=25,
)


@pytest.fixture
def pair(make_network, make_user):  # type: ignore[no-untyped-def]
    network = make_network("wacap", acronym="WACAP")
    return network, make_user("contact_point", network), make_user("coordinator", network)


@PROPERTY
@given(steps=operations)
def test_any_interleaving_keeps_seq_gap_free_and_client_ids_unique(app, db, pair, steps):  # type: ignore[no-untyped-def]
    network, first, second = pair
    people = {"a": first, "b": second}
    channel = messaging.create_topic_channel(first, network, uuid.uuid4().hex[:12], "", [second.id])
    sent: list[tuple[str, str]] = []  # (client_id, who)
    for action, index, who in steps:
        person = people[who]
        try:
            if action == "send" or (action != "send" and not sent):
                client_id = uuid.uuid4().hex
                messaging.post_message(channel.id, person, f"m{index}", client_id)
                sent.append((client_id, who))
            elif action == "retry":
                client_id, author = sent[index % len(sent)]
                message, created = messaging.post_message(
                    channel.id, people[author], "again", client_id
                )
                assert not created
            else:
                client_id, _author = sent[index % len(sent)]
                message = db.session.scalar(
                    sa.select(Message).where(
                        Message.channel_id == channel.id, Message.client_id == client_id
                    )
                )
                if action == "edit":
                    messaging.edit_message(message.id, person, f"edited {index}")
                else:
                    messaging.delete_message(message.id, person)
        except DomainError:
            db.session.rollback()  # someone else's message, or already deleted: refused
    rows = db.session.execute(
        sa.select(Message.seq, Message.client_id)
        .where(Message.channel_id == channel.id)
        .order_by(Message.id)
    ).all()
    seqs = [r.seq for r in rows]
    assert seqs == list(range(1, len(rows) + 1))  # gap-free and strictly increasing
    client_ids = [r.client_id for r in rows if r.client_id]
    assert len(client_ids) == len(set(client_ids)) == len(sent)
    db.session.refresh(channel)
    assert channel.last_seq == len(rows)


# --- directory import -------------------------------------------------------------------

GOOD = {
    "name": st.sampled_from(["Awa Diop", "José Núñez", "Ana <b>Lima</b>", "O'Brien"]),
    "authority_type": st.sampled_from(["central_authority", "prosecution", "judiciary"]),
    "country": st.sampled_from(["SN", "ML"]),
    "office_timezone": st.sampled_from(["Africa/Dakar", "UTC", ""]),
    "last_confirmed": st.sampled_from(["2025-01-31", ""]),
}
BAD = {
    "name": st.sampled_from(["", "x" * 5000, "A\x01B", "=cmd|' /C calc'!A0\x1b"]),
    "authority_type": st.sampled_from(["", "nonsense", "' OR 1=1 --"]),
    "country": st.sampled_from(["XX", "", "Senegal"]),
    "office_timezone": st.sampled_from(h.BAD_ZONES),
    "last_confirmed": st.sampled_from([*h.BAD_DATES, "2999-01-01"]),
}
COLUMNS = ["name", "authority_type", "country", "email", "office_timezone", "last_confirmed"]


@st.composite
def csv_files(draw: Any) -> tuple[bytes, int]:
    # Half the files are made of valid rows only, so both outcomes are exercised.
    clean = draw(st.booleans())
    rows = []
    for n in range(draw(st.integers(1, 6))):
        row = {}
        for column in COLUMNS:
            if column == "email":
                choice = draw(st.sampled_from(["ok", "empty"] if clean else ["ok", "bad", "dup"]))
                row[column] = {
                    "ok": f"p{n}-{uuid.uuid4().hex[:6]}@example.org",
                    "bad": "not-an-address",
                    "empty": "",
                    "dup": "same@example.org",
                }[choice]
            else:
                broken = not clean and draw(st.integers(0, 4)) == 0
                row[column] = draw((BAD if broken else GOOD)[column])
        rows.append(row)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(), len(rows)


@PROPERTY
@given(generated=csv_files())
def test_any_csv_imports_fully_or_writes_nothing_and_says_why(app, db, pair, generated):  # type: ignore[no-untyped-def]
    data, row_count = generated
    network, _first, coordinator = pair
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ContactPoint))
    status = None
    try:
        report = directory_io.import_directory(data, network, coordinator, dry_run=False)
    except DomainError as error:  # a file that is not a CSV at all: refused as a whole
        status, report = error.status, None
    assert status is None or 400 <= status < 500
    after = db.session.scalar(sa.select(sa.func.count()).select_from(ContactPoint))
    if report is not None and report.ok:
        assert report.created + report.updated == row_count
        assert after == before + report.created
    else:
        assert after == before  # nothing written
        if report is not None:
            assert report.errors
            assert report.created == report.updated == 0
            for error in report.errors:
                assert 1 <= error.row <= row_count + 1
                assert error.column in {"", *COLUMNS, "networks"}
                assert str(error.reason).strip()
