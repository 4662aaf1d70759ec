"""Signing in and out: argon2id hashes, one message for every failure, the per-address
rate limit, the temporary lock per e-mail and local-only redirects after sign-in."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from network.models.base import utcnow
from network.models.people import LoginThrottle
from tests.conftest import PASSWORD, csrf_token

FAILURE = "Sign-in failed: the e-mail or password is wrong"


def _attempt(client, email: str, password: str, **extra: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": email, "password": password, "csrf_token": token, **extra}
    )


def _flashes(response) -> list[str]:
    html = response.get_data(as_text=True)
    return [m.strip() for m in re.findall(r'<p class="flash[^"]*">(.*?)</p>', html, re.S)]


def _is_signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def _throttle(db) -> LoginThrottle:
    rows = db.session.scalars(select(LoginThrottle)).all()
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def few_failures(app, monkeypatch):
    """Lock after three failures so the tests stay quick (argon2 is slow on purpose)."""
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    return 3


def test_correct_password_signs_in_and_sign_out_ends_the_session(client, make_user):
    user = make_user("observer", "wacap")
    response = _attempt(client, user.email, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert user.name in page
    token = csrf_token(client, "/account/")
    client.post("/logout", data={"csrf_token": token})
    assert not _is_signed_in(client)


def test_email_is_matched_case_insensitively(client, make_user):
    make_user("observer", "wacap", email="mixed.case@example.org")
    assert _attempt(client, "MIXED.case@EXAMPLE.org", PASSWORD).status_code == 302


def test_wrong_password_unknown_account_and_inactive_account_fail_alike(client, make_user, db):
    user = make_user("observer", "wacap")
    inactive = make_user("observer", "wacap")
    inactive.is_active_account = False
    db.session.commit()
    outcomes = []
    for email, password in [
        (user.email, "wrong password here"),
        ("nobody@example.org", PASSWORD),
        (inactive.email, PASSWORD),
    ]:
        response = _attempt(client, email, password)
        outcomes.append((response.status_code, _flashes(response)))
    assert outcomes[0][0] == 401
    assert FAILURE in outcomes[0][1][0]
    assert outcomes[1] == outcomes[0]
    assert outcomes[2] == outcomes[0]
    assert not _is_signed_in(client)


def test_account_is_locked_after_repeated_failures_with_the_same_message(
    client, make_user, db, few_failures
):
    user = make_user("observer", "wacap")
    failures = [_attempt(client, user.email, "wrong password here") for _ in range(few_failures)]
    assert {r.status_code for r in failures} == {401}
    locked = _attempt(client, user.email, PASSWORD)  # the right password, during the lock
    assert locked.status_code == 401
    assert _flashes(locked) == _flashes(failures[0])
    assert not _is_signed_in(client)
    assert _throttle(db).locked_until > utcnow()


def test_unknown_email_is_locked_too_so_a_lock_reveals_nothing(client, db, few_failures):
    responses = [_attempt(client, "nobody@example.org", "whatever") for _ in range(few_failures)]
    responses.append(_attempt(client, "nobody@example.org", "whatever"))
    assert {r.status_code for r in responses} == {401}
    assert len({tuple(_flashes(r)) for r in responses}) == 1
    assert _throttle(db).locked_until > utcnow()


def test_sign_in_works_again_once_the_lock_has_expired(client, make_user, db, few_failures):
    user = make_user("observer", "wacap")
    for _ in range(few_failures):
        _attempt(client, user.email, "wrong password here")
    assert _attempt(client, user.email, PASSWORD).status_code == 401
    throttle = _throttle(db)
    throttle.locked_until = utcnow() - timedelta(seconds=1)  # time moves on
    db.session.commit()
    assert _attempt(client, user.email, PASSWORD).status_code == 302
    assert _is_signed_in(client)


def test_lock_lasts_the_configured_minutes(client, make_user, db, app, monkeypatch, few_failures):
    monkeypatch.setitem(app.config, "LOGIN_LOCK_MINUTES", 7)
    user = make_user("observer", "wacap")
    before = utcnow()
    for _ in range(few_failures):
        _attempt(client, user.email, "wrong password here")
    locked_until = _throttle(db).locked_until
    assert before + timedelta(minutes=7) <= locked_until <= utcnow() + timedelta(minutes=7)


def test_a_lock_on_one_email_does_not_lock_another(client, make_user, few_failures):
    victim = make_user("observer", "wacap")
    other = make_user("observer", "wacap")
    for _ in range(few_failures):
        _attempt(client, victim.email, "wrong password here")
    assert _attempt(client, other.email, PASSWORD).status_code == 302


def test_success_resets_the_failure_count(client, make_user, db, few_failures):
    user = make_user("observer", "wacap")
    for _ in range(few_failures - 1):
        _attempt(client, user.email, "wrong password here")
    assert _attempt(client, user.email, PASSWORD).status_code == 302
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    for _ in range(few_failures - 1):
        _attempt(client, user.email, "wrong password here")
    assert _attempt(client, user.email, PASSWORD).status_code == 302


def test_too_many_attempts_from_one_address_get_429_with_a_clear_message(
    client, make_user, app, monkeypatch, db
):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "2 per minute")
    user = make_user("observer", "wacap")
    token = csrf_token(client, "/login")
    data = {"email": "someone@example.org", "password": "x", "csrf_token": token}
    statuses = [client.post("/login", data=data).status_code for _ in range(2)]
    assert statuses == [401, 401]
    limited = client.post("/login", data={**data, "email": user.email, "password": PASSWORD})
    assert limited.status_code == 429
    assert "Too many requests. Please wait a moment and try again." in limited.get_data(
        as_text=True
    )
    assert int(limited.headers["Retry-After"]) > 0
    assert not _is_signed_in(client)
    assert client.get("/login").status_code == 200  # the form itself stays available


def test_the_rate_limit_covers_the_second_factor_step(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_RATE_LIMIT", "1 per minute")
    token = csrf_token(client, "/login")
    client.post("/login", data={"email": "a@example.org", "password": "x", "csrf_token": token})
    response = client.post("/login/2fa", data={"code": "123456", "csrf_token": token})
    assert response.status_code == 429


@pytest.mark.parametrize(
    ("next_url", "landing"),
    [
        ("/directory/?q=extradition", "/directory/?q=extradition"),
        ("https://evil.example.org/", "/"),
        ("//evil.example.org/", "/"),
        ("/\\evil.example.org", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_sign_in_returns_only_to_local_pages(client, make_user, next_url, landing):
    user = make_user("observer", "wacap")
    token = csrf_token(client, "/login")
    response = client.post(
        "/login",
        query_string={"next": next_url},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == landing


def test_a_signed_out_visitor_is_sent_to_sign_in_and_back(client, make_user):
    user = make_user("observer", "wacap")
    response = client.get("/account/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account/")
    token = csrf_token(client, "/login")
    response = client.post(
        response.headers["Location"],
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/account/"


def test_stored_password_is_an_argon2id_hash_never_the_password(client, make_user, db):
    from network.models.people import User

    user = make_user("observer", "wacap")
    row = db.session.execute(select(User.password_hash).where(User.id == user.id)).scalar_one()
    assert row.startswith("$argon2id$")
    assert PASSWORD not in row


def test_sign_out_also_ends_a_remembered_sign_in(client, make_user):
    user = make_user("observer", "wacap")
    assert _attempt(client, user.email, PASSWORD, remember="y").status_code == 302
    assert client.get_cookie("remember_token") is not None
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})
    assert response.status_code == 302
    assert client.get_cookie("remember_token") is None
    assert not _is_signed_in(client)


def test_remembered_sign_in_survives_the_end_of_the_browser_session(client, make_user):
    user = make_user("observer", "wacap")
    _attempt(client, user.email, PASSWORD, remember="y")
    client.delete_cookie("session")  # the browser was closed: only the remember cookie stays
    assert _is_signed_in(client)


def test_a_deactivated_account_loses_its_open_session(client, make_user, login, db):
    user = make_user("observer", "wacap")
    login(client, user)
    user.is_active_account = False
    db.session.commit()
    assert not _is_signed_in(client)
    assert client.get("/api/v1/me").status_code == 401
