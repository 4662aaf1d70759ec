"""The audit log is append-only and hash-chained; ``network audit verify`` finds an edited,
deleted or reordered event (OWASP ASVS 7.3.3 / 7.3.4); refused sign-ins are audited
(ASVS 7.2.1) and no secret or message body is ever written to it (ASVS 7.1.1 / 7.1.2)."""

from __future__ import annotations

import importlib.util
import itertools
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select, update

from network.models.audit_chain import AuditChainHead
from network.models.people import AuditEvent
from network.policy import SYSTEM
from network.services import accounts, audit, audit_chain, messaging
from tests.conftest import PASSWORD, csrf_token

MIGRATION = next(Path("migrations/versions").glob("*_b7d41c9e2f60_*.py"))


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


@pytest.fixture
def chain(db, make_network):
    network = make_network("wacap")
    events = []
    for index in range(5):
        audit.record(SYSTEM, "network.update", "network", network.id, after={"n": index})
        db.session.commit()
        events.append(db.session.scalar(select(func.max(AuditEvent.id))))
    return events


def _verify(runner):
    return runner.invoke(args=["audit", "verify"])


def test_events_are_chained_and_verify_passes(runner, chain, db):
    rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)).all()
    assert rows, "events recorded"
    for before, after in itertools.pairwise(rows):
        assert after.chain_seq == before.chain_seq + 1
        assert after.prev_hash == before.row_hash
    head = db.session.get(AuditChainHead, 1)
    assert head.seq == rows[-1].chain_seq
    assert head.last_hash == rows[-1].row_hash
    result = _verify(runner)
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK:")


@pytest.mark.parametrize(
    ("field", "value"),
    [("action", "user.login"), ("after", {"n": 99}), ("actor_id", None), ("ip_address", "1.2.3.4")],
)
def test_an_edited_field_is_found(runner, chain, db, field, value):
    db.session.execute(update(AuditEvent).where(AuditEvent.id == chain[2]).values({field: value}))
    db.session.commit()
    if field == "actor_id":  # was None already: edit another one
        db.session.execute(
            update(AuditEvent).where(AuditEvent.id == chain[2]).values(entity_id=12345)
        )
        db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"event id {chain[2]}" in result.output
    assert "changed" in result.output


def test_an_edit_with_its_hash_recomputed_breaks_the_next_link(runner, chain, db):
    row = db.session.get(AuditEvent, chain[2])
    fields = SimpleNamespace(**{c.key: getattr(row, c.key) for c in AuditEvent.__table__.c})
    fields.after = {"n": 42}
    db.session.execute(
        update(AuditEvent)
        .where(AuditEvent.id == chain[2])
        .values(after={"n": 42}, row_hash=audit_chain.row_hash(fields))
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"event id {chain[3]}" in result.output
    assert "does not follow" in result.output


def test_a_deleted_event_is_found(runner, chain, db):
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == chain[1]))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "missing" in result.output


def test_the_last_event_deleted_is_found(runner, chain, db):
    db.session.execute(delete(AuditEvent).where(AuditEvent.id == chain[-1]))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "head says" in result.output


def test_reordered_events_are_found(runner, chain, db):
    first, second = (db.session.get(AuditEvent, i) for i in chain[1:3])
    a, b = first.chain_seq, second.chain_seq
    db.session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(chain_seq=-1))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second.id).values(chain_seq=a))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == first.id).values(chain_seq=b))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"event id {second.id}" in result.output


def test_an_event_slipped_in_outside_the_chain_is_found(runner, chain, db):
    db.session.execute(
        AuditEvent.__table__.insert().values(
            action="user.login", entity_type="user", created_at=func.current_timestamp()
        )
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "outside the chain" in result.output


def test_the_orm_refuses_to_change_or_delete_an_event(chain, db):
    row = db.session.get(AuditEvent, chain[0])
    row.action = "other"
    with pytest.raises(audit_chain.AuditTampering):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, chain[0]))
    with pytest.raises(audit_chain.AuditTampering):
        db.session.flush()
    db.session.rollback()


def test_the_migration_hashes_like_the_service(chain, db):
    """The back-fill in the migration has its own frozen copy of the serialisation."""
    spec = importlib.util.spec_from_file_location("chain_migration", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for row in db.session.execute(select(AuditEvent.__table__)):
        assert module._hash(row, row.chain_seq, row.prev_hash) == row.row_hash


def test_refused_sign_ins_are_audited_without_the_password(client, db, make_user):
    user = make_user("observer")
    wrong = "not-the-password-Zx9"
    for email in (user.email, "nobody-here@example.org"):
        client.post(
            "/login",
            data={"csrf_token": csrf_token(client), "email": email, "password": wrong},
        )
    failures = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "user.login_failed")
    ).all()
    assert [(e.entity_id, e.after) for e in failures] == [
        (user.id, {"reason": "password"}),
        (None, {"reason": "password"}),
    ]
    assert all(e.ip_address for e in failures)
    dump = json.dumps([audit_chain.event_fields(e) for e in failures])
    assert wrong not in dump
    assert "nobody-here" not in dump


def test_no_secret_or_message_body_reaches_the_audit_log(
    client, db, make_network, make_user, login
):
    network = make_network("wacap")
    user = make_user("coordinator", network)
    login(client, user)
    accounts.change_password(user, PASSWORD, "another long passphrase 42")
    _token, plain = accounts.create_token(user, "laptop")
    channel = messaging.ensure_network_channel(network)
    db.session.commit()
    body = "the secret witness lives at 12 Rue Example"
    messaging.post_message(channel.id, user, body, "client-0001")
    # A caller passing secrets by mistake: they are redacted, whatever the depth.
    audit.record(
        user,
        "user.password_change",
        "user",
        user.id,
        after={"password": "hunter2!", "nested": {"totp_secret": "JBSWY3DP", "body": body}},
    )
    db.session.commit()
    dump = json.dumps(
        [audit_chain.event_fields(e) for e in db.session.execute(select(AuditEvent.__table__))]
    )
    for secret in (PASSWORD, "another long passphrase 42", plain, "hunter2!", "JBSWY3DP", body):
        assert secret not in dump
    assert audit.REDACTED in dump


def test_what_is_logged_is_shown_escaped(client, db, make_user, login):
    """A hostile value recorded in an event is shown as text on the audit page (ASVS
    7.3.1: log injection; 5.3.3: output encoding)."""
    admin = make_user(admin=True)
    hostile = '<script>alert("x")</script>\r\nforged line'
    audit.record(admin, "network.update", "network", None, after={"name": hostile})
    db.session.commit()
    login(client, admin)
    html = client.get("/audit").get_data(as_text=True)
    assert "forged line" in html
    assert '<script>alert("x")' not in html
    assert "&lt;script&gt;" in html


def test_a_refused_request_is_audited_without_the_url_values(client, db, make_user, login):
    """ASVS 7.2.2: a signed-in person's refused request is recorded (endpoint, method)."""
    user = make_user("coordinator")
    login(client, user)
    assert client.get("/admin/users?q=secret-looking-value").status_code == 403
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "access.denied"))
    assert event.actor_id == user.id
    assert event.after == {"endpoint": "admin.user_list", "method": "GET"}
    assert "secret-looking-value" not in json.dumps(audit_chain.event_fields(event))
    assert audit_chain.verify().ok
