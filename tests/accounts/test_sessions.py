"""Issue 8, "Sessions and accounts": server-side sessions, cookies, timeouts, sockets.

Each test names the OWASP ASVS 4.0.3 requirement (level 2) it covers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from network.config import load_config
from network.extensions import socketio
from network.models.base import utcnow
from network.models.sessions import UserSession
from tests.conftest import PASSWORD, csrf_token


def _signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def _sign_in(client, user, *, remember: bool = False, password: str = PASSWORD):
    data = {"email": user.email, "password": password, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return response


def _sign_out(client) -> None:
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    assert response.status_code == 302


def _cookie(client, name: str = "session") -> str:
    cookie = client.get_cookie(name)
    assert cookie is not None, f"no {name} cookie"
    return cookie.value


def _sessions(db, user) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


@pytest.fixture
def person(make_user):
    return make_user("observer", "wacap")


def test_a_session_cookie_replayed_after_sign_out_is_refused(app, client, person, db):
    """ASVS 3.3.1: sign-out invalidates the session on the server, so a copy of the
    cookie taken before is anonymous afterwards."""
    _sign_in(client, person)
    stolen = _cookie(client)
    assert _signed_in(client)
    _sign_out(client)
    assert not _signed_in(client)
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert not _signed_in(thief)
    (record,) = _sessions(db, person)
    assert record.revoked_at is not None
    assert record.revoked_reason == "logout"


def test_a_remember_me_cookie_replayed_after_sign_out_is_refused(app, client, person):
    """ASVS 3.3.1 / 3.5.2: the remember-me cookie names the same server-side session and
    dies with it."""
    _sign_in(client, person, remember=True)
    remembered = _cookie(client, "remember_token")
    other = app.test_client()
    other.set_cookie("remember_token", remembered)
    assert _signed_in(other)  # before sign-out the cookie alone restores the session
    _sign_out(client)
    thief = app.test_client()
    thief.set_cookie("remember_token", remembered)
    assert not _signed_in(thief)
    assert thief.get_cookie("remember_token") is None  # deleted, not tried again


def test_each_sign_in_gets_a_new_session_id_and_nothing_from_before(app, client, person, db):
    """ASVS 3.2.1: a new session token at authentication (no fixation): what the cookie
    held before signing in is dropped and two sign-ins never share a key."""
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["_user_id"] = f"{person.id}:0:planted-key"
    assert not _signed_in(client)
    _sign_in(client, person)
    with client.session_transaction() as sess:
        first = sess["_user_id"]
        assert "planted" not in sess
    _sign_out(client)
    _sign_in(client, person)
    with client.session_transaction() as sess:
        second = sess["_user_id"]
    assert first != second
    assert "planted-key" not in first
    keys = {r.key_hash for r in _sessions(db, person)}
    assert len(keys) == 2
    # Only digests are stored: the key in the cookie is not in the database.
    assert first.rsplit(":", 1)[1] not in keys


def test_an_idle_session_ends_after_the_idle_timeout(client, person, db):
    """ASVS 3.3.2: idle timeout (30 minutes by default) enforced by the server."""
    _sign_in(client, person)
    (record,) = _sessions(db, person)
    record.last_seen_at = utcnow() - timedelta(minutes=29)
    db.session.commit()
    assert _signed_in(client)  # still within the limit, and the use renews it
    (record,) = _sessions(db, person)
    assert utcnow() - record.last_seen_at < timedelta(minutes=1)
    record.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert not _signed_in(client)
    (record,) = _sessions(db, person)
    assert record.revoked_reason == "idle"


def test_a_session_ends_at_its_absolute_lifetime_even_when_used(client, person, db):
    """ASVS 3.3.2: absolute lifetime (12 hours by default), whatever the activity."""
    _sign_in(client, person, remember=True)
    (record,) = _sessions(db, person)
    record.created_at = utcnow() - timedelta(hours=12, minutes=1)
    db.session.commit()
    assert not _signed_in(client)
    assert _sessions(db, person)[0].revoked_reason == "expired"


def test_timeouts_and_cookie_lifetimes_come_from_the_environment(monkeypatch, tmp_path):
    """ASVS 3.3.2: NETWORK_SESSION_IDLE_MINUTES and NETWORK_SESSION_ABSOLUTE_HOURS; the
    cookies do not outlive the absolute lifetime."""
    monkeypatch.setenv("NETWORK_SESSION_IDLE_MINUTES", "10")
    monkeypatch.setenv("NETWORK_SESSION_ABSOLUTE_HOURS", "8")
    config = load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert config["SESSION_IDLE_MINUTES"] == 10
    assert config["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=8)
    assert config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=8)
    monkeypatch.delenv("NETWORK_SESSION_IDLE_MINUTES")
    monkeypatch.delenv("NETWORK_SESSION_ABSOLUTE_HOURS")
    defaults = load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert defaults["SESSION_IDLE_MINUTES"] == 30
    assert defaults["PERMANENT_SESSION_LIFETIME"] == timedelta(hours=12)


def test_without_remember_me_the_cookie_ends_with_the_browser(client, person):
    """ASVS 3.3.1 / 3.5.2: without "remember me" the session cookie has no expiry."""
    response = _sign_in(client, person)
    cookies = response.headers.getlist("Set-Cookie")
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "Expires" not in session_cookie
    assert not any(c.startswith("remember_token=") for c in cookies)


def test_a_password_change_ends_every_other_session(app, client, person, db):
    """ASVS 3.3.3: after a password change the other sessions end (server side), and
    this browser continues on a new session id."""
    other = app.test_client()
    _sign_in(other, person)
    _sign_in(client, person)
    before = _cookie(client)
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "another long password 42",
            "csrf_token": csrf_token(client, "/account/"),
        },
    )
    assert response.status_code == 302
    assert _signed_in(client)
    assert not _signed_in(other)
    replay = app.test_client()
    replay.set_cookie("session", before)
    assert not _signed_in(replay)
    live = [r for r in _sessions(db, person) if r.revoked_at is None]
    assert len(live) == 1
    assert {r.revoked_reason for r in _sessions(db, person) if r.revoked_at} == {"password"}


def test_turning_two_factor_on_ends_every_other_session(app, client, person, db):
    """ASVS 3.3.3 / 2.8.x: a change of the second factor ends the other sessions."""
    from tests.accounts.test_two_factor import _enrol

    other = app.test_client()
    _sign_in(other, person)
    _sign_in(client, person)
    _enrol(client)
    assert _signed_in(client)
    assert not _signed_in(other)


def test_deactivation_and_ending_sessions_by_an_administrator(app, client, person, db, make_user):
    """ASVS 3.3.1 / 8.3.x: an administrator's deactivation or "end sessions" ends every
    session on the server; reactivating does not bring an old cookie back."""
    from network.services import users

    admin = make_user(None, None, admin=True)
    _sign_in(client, person)
    stolen = _cookie(client)
    users.set_active(admin, person.id, False)
    users.set_active(admin, person.id, True)
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not _signed_in(replay)
    assert not _signed_in(client)

    _sign_in(client, person)
    admin_client = app.test_client()
    _sign_in(admin_client, admin)
    response = admin_client.post(
        f"/admin/users/{person.id}/end_sessions",
        data={"csrf_token": csrf_token(admin_client, "/admin/users")},
    )
    assert response.status_code == 302
    assert not _signed_in(client)
    assert _signed_in(admin_client)


def test_sign_out_closes_the_sockets_of_that_session_only(app, client, person, login):
    """ASVS 3.3.1: the live sockets of a session end with it; another browser of the
    same person keeps its own."""
    _sign_in(client, person)
    mine = socketio.test_client(app, flask_test_client=client)
    assert mine.is_connected()
    elsewhere = socketio.test_client(app, flask_test_client=login(app.test_client(), person))
    assert elsewhere.is_connected()
    _sign_out(client)
    assert not mine.is_connected()
    assert elsewhere.is_connected()


def test_a_socket_event_of_a_revoked_session_is_refused(app, client, person, db):
    """ASVS 3.3.1: each socket event checks the server-side session again."""
    from network.services import sessions

    _sign_in(client, person)
    socket = socketio.test_client(app, flask_test_client=client)
    (record,) = _sessions(db, person)
    record.revoked_at = utcnow()
    db.session.commit()
    ack = socket.emit("join", {"channel_id": 1}, callback=True)
    # Refused, and the socket of the ended session is closed (no more broadcasts).
    assert not ack or ack["error"]["code"] == "unauthorized"
    assert not socket.is_connected()
    assert sessions.recently_authenticated(None) is False


def test_cookies_are_httponly_samesite_and_secure_host_prefixed_under_tls(
    app, client, person, monkeypatch, tmp_path
):
    """ASVS 3.4.1-3.4.5: HttpOnly, SameSite=Lax, and with NETWORK_SECURE_COOKIES the
    Secure attribute and the ``__Host-`` prefix (Path=/, no Domain) on the session and
    remember-me cookies."""
    plain = _sign_in(client, person, remember=True).headers.getlist("Set-Cookie")
    for prefix in ("session=", "remember_token="):
        cookie = next(c for c in plain if c.startswith(prefix))
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/" in cookie

    monkeypatch.setenv("NETWORK_SECURE_COOKIES", "true")
    secure = load_config({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert secure["SESSION_COOKIE_NAME"] == "__Host-session"
    assert secure["REMEMBER_COOKIE_NAME"] == "__Host-remember_token"
    assert secure["SESSION_COOKIE_SECURE"]
    assert secure["REMEMBER_COOKIE_SECURE"]
    for key in (
        "SESSION_COOKIE_NAME",
        "REMEMBER_COOKIE_NAME",
        "SESSION_COOKIE_SECURE",
        "REMEMBER_COOKIE_SECURE",
        "SESSION_COOKIE_DOMAIN",
        "SESSION_COOKIE_PATH",
        "REMEMBER_COOKIE_DOMAIN",
        "REMEMBER_COOKIE_PATH",
    ):
        monkeypatch.setitem(app.config, key, secure[key])
    tls = app.test_client()
    token = csrf_token_over(tls, "https://localhost/login")
    response = tls.post(
        "/login",
        base_url="https://localhost",
        headers={"Referer": "https://localhost/login"},
        data={"email": person.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    for prefix in ("__Host-session=", "__Host-remember_token="):
        cookie = next(c for c in cookies if c.startswith(prefix))
        assert "Secure" in cookie
        assert "HttpOnly" in cookie
        assert "SameSite=Lax" in cookie
        assert "Path=/" in cookie
        assert "Domain" not in cookie
    assert tls.get("/account/", base_url="https://localhost").status_code == 200


def csrf_token_over(client, url: str) -> str:
    import re

    html = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_a_socket_of_an_idle_session_is_closed_at_its_next_event(app, client, person, db):
    """ASVS 3.3.2: the idle timeout holds for sockets too."""
    _sign_in(client, person)
    socket = socketio.test_client(app, flask_test_client=client)
    assert socket.is_connected()
    (record,) = _sessions(db, person)
    record.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    socket.emit("join", {"channel_id": 1}, callback=True)
    assert not socket.is_connected()
    assert _sessions(db, person)[0].revoked_reason == "idle"


def test_a_socket_of_a_session_that_timed_out_unnoticed_is_closed_by_the_sweep(
    app, client, person, db, login
):
    """ASVS 3.3.2: a page that sends nothing (an unattended screen) stops receiving
    broadcasts once its session times out; another session of the person keeps its
    socket. The real server runs this sweep every SOCKET_SESSION_SWEEP_SECONDS
    (tests/realtime_server/test_session_sweep.py)."""
    from network import realtime

    _sign_in(client, person)
    idle = socketio.test_client(app, flask_test_client=client)
    other_client = login(app.test_client(), person)
    active = socketio.test_client(app, flask_test_client=other_client)
    assert idle.is_connected()
    assert active.is_connected()
    assert realtime.sweep_session_sockets() == 0  # nothing has ended yet
    assert idle.is_connected()
    first, _second = sorted(_sessions(db, person), key=lambda r: r.id)
    first.last_seen_at = utcnow() - timedelta(minutes=31)
    db.session.commit()
    assert realtime.sweep_session_sockets() == 1
    assert not idle.is_connected()
    assert active.is_connected()
    assert sorted(_sessions(db, person), key=lambda r: r.id)[0].revoked_reason == "idle"
