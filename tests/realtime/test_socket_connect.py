"""Socket.IO connections are authenticated from the Flask-Login session or a personal
access token in ``auth``; every other connection is refused (DESIGN.md)."""

from __future__ import annotations

import pytest

from network.extensions import socketio
from network.services import accounts


def _connect(app, client=None, auth=None):
    return socketio.test_client(app, flask_test_client=client, auth=auth)


@pytest.fixture
def member(make_user):
    return make_user("contact_point", "wacap")


def test_unauthenticated_connection_is_refused(app, client):
    socket = _connect(app, client)
    assert not socket.is_connected()


def test_connection_without_any_client_is_refused(app, db):
    assert not _connect(app).is_connected()


def test_session_cookie_of_a_signed_in_user_is_accepted(app, client, member, login):
    login(client, member)
    socket = _connect(app, client)
    assert socket.is_connected()
    socket.disconnect()


def test_session_ends_with_sign_out(app, client, member, login):
    from tests.conftest import csrf_token

    login(client, member)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    assert not _connect(app, client).is_connected()


def test_valid_token_in_auth_is_accepted(app, db, member):
    _token, plain = accounts.create_token(member, "socket")
    socket = _connect(app, auth={"token": plain})
    assert socket.is_connected()
    socket.disconnect()


@pytest.mark.parametrize(
    "auth",
    [
        {"token": "ntk_never-issued"},
        {"token": ""},
        {"token": 12345},
        {"token": None},
        {"something": "else"},
    ],
)
def test_bad_auth_payload_is_refused(app, client, auth):
    assert not _connect(app, client, auth=auth).is_connected()


def test_revoked_token_is_refused(app, db, member):
    token, plain = accounts.create_token(member, "socket")
    accounts.revoke_token(member, token.id)
    assert not _connect(app, auth={"token": plain}).is_connected()


def test_token_of_an_inactive_account_is_refused(app, db, member):
    _token, plain = accounts.create_token(member, "socket")
    member.is_active_account = False
    db.session.commit()
    assert not _connect(app, auth={"token": plain}).is_connected()


def test_session_of_a_deactivated_account_is_refused(app, client, member, login, db):
    login(client, member)
    member.is_active_account = False
    db.session.commit()
    assert not _connect(app, client).is_connected()


@pytest.mark.parametrize("token", ["ntk_never-issued", "", 12345, None])
def test_a_bad_token_does_not_fall_back_to_the_session(app, client, member, login, token):
    login(client, member)
    assert not _connect(app, client, auth={"token": token}).is_connected()


def test_auth_without_a_token_uses_the_session(app, client, member, login):
    login(client, member)
    socket = _connect(app, client, auth={"client": "web"})
    assert socket.is_connected()
    socket.disconnect()
