"""Optional TOTP two-factor sign-in: enrolment with a locally drawn QR code, the code asked
at sign-in, no replay of a used code, wrong codes counting towards the lock, turning it off
with a code, and the secret kept encrypted at rest.

Codes are computed from the secret as an authenticator app would. A code is accepted
for the current 30-second step and one step either side; tests that need two distinct
codes use the current step and the next one, which are both valid now whatever the clock.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import select

from network import crypto
from network.models.base import utcnow
from network.models.people import User
from tests.conftest import PASSWORD, csrf_token


def code_now(secret: str) -> str:
    return pyotp.TOTP(secret).at(utcnow())


def code_next_step(secret: str) -> str:
    return pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    now = utcnow()
    valid = {totp.at(now + timedelta(seconds=30 * drift)) for drift in range(-2, 3)}
    return next(c for c in (f"{n:06d}" for n in range(123456, 999999, 7919)) if c not in valid)


def _post(client, path: str, **data: str):
    return client.post(path, data={**data, "csrf_token": csrf_token(client, path)})


def _password_step(client, user):
    token = csrf_token(client, "/login")
    return client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )


def _code_step(client, code: str):
    return _post(client, "/login/2fa", code=code)


def _sign_out(client) -> None:
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account/")})


def _is_signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def _enrol(client) -> str:
    """Start enrolment on /account/2fa, read the key shown for typing by hand, confirm it."""
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    response = _post(client, "/account/2fa", code=code_now(secret))
    # Issue 8: the confirmation shows the ten recovery codes, once.
    assert response.status_code == 200
    assert "Recovery codes" in response.get_data(as_text=True)
    return secret


@pytest.fixture
def signed_in(client, make_user, login):
    user = make_user("observer", "wacap")
    login(client, user)
    return user


def test_enrolment_page_draws_the_qr_code_locally_as_svg(client, signed_in):
    page = client.get("/account/2fa").get_data(as_text=True)
    assert 'src="/account/2fa/qr.svg"' in page
    response = client.get("/account/2fa/qr.svg")
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    svg = response.get_data(as_text=True)
    assert "<svg" in svg
    assert "<path" in svg
    # Nothing fetched from elsewhere: no link out of the document but the SVG namespace.
    assert set(re.findall(r"https?://[^\s\"']+", svg)) <= {"http://www.w3.org/2000/svg"}
    assert response.headers["Cache-Control"] == "private, no-store"


def test_qr_code_is_only_served_during_enrolment(client, signed_in):
    assert client.get("/account/2fa/qr.svg").status_code == 404
    _enrol(client)
    assert client.get("/account/2fa/qr.svg").status_code == 404


def test_qr_code_needs_a_signed_in_user(client):
    response = client.get("/account/2fa/qr.svg")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_wrong_code_at_enrolment_is_refused_with_a_message(client, signed_in, db):
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    response = _post(client, "/account/2fa", code=wrong_code(secret))
    assert response.status_code == 422
    assert "That code is not valid. Try the current one." in response.get_data(as_text=True)
    db.session.refresh(signed_in)
    assert signed_in.totp_secret_encrypted is None


def test_enrolment_keeps_the_same_key_until_confirmed(client, signed_in):
    first = client.get("/account/2fa").get_data(as_text=True)
    second = client.get("/account/2fa").get_data(as_text=True)
    pattern = r'<code class="secret">([A-Z2-7]+)</code>'
    assert re.search(pattern, first).group(1) == re.search(pattern, second).group(1)


def test_valid_code_turns_two_factor_on_and_the_secret_is_stored_encrypted(client, signed_in, db):
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    shown = _post(client, "/account/2fa", code=code_now(secret)).get_data(as_text=True)
    assert "Two-factor sign-in is on." in shown
    stored = db.session.execute(
        select(User.totp_secret_encrypted).where(User.id == signed_in.id)
    ).scalar_one()
    assert stored
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    assert crypto.decrypt_text(stored, context=f"totp:{signed_in.id}") == secret
    with pytest.raises(ValueError, match="does not verify"):
        # bound to its owner: the same ciphertext does not decrypt for another account
        crypto.decrypt_text(stored, context=f"totp:{signed_in.id + 1}")


def test_sign_in_asks_for_the_code_and_refuses_a_replayed_one(client, signed_in):
    secret = _enrol(client)
    _sign_out(client)

    response = _password_step(client, signed_in)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/2fa"
    assert not _is_signed_in(client)  # the password alone is not enough

    code = code_next_step(secret)  # newer than the code used at enrolment
    response = _code_step(client, code)
    assert response.status_code == 302
    assert _is_signed_in(client)
    _sign_out(client)

    _password_step(client, signed_in)
    replay = _code_step(client, code)
    assert replay.status_code == 401
    assert "That code is not valid. Try the current one." in replay.get_data(as_text=True)
    assert not _is_signed_in(client)


def test_the_enrolment_code_cannot_be_replayed_to_sign_in(client, signed_in):
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    code = code_now(secret)
    assert _post(client, "/account/2fa", code=code).status_code == 200
    _sign_out(client)
    _password_step(client, signed_in)
    assert _code_step(client, code).status_code == 401
    assert not _is_signed_in(client)


def test_wrong_code_at_sign_in_is_refused(client, signed_in):
    secret = _enrol(client)
    _sign_out(client)
    _password_step(client, signed_in)
    response = _code_step(client, wrong_code(secret))
    assert response.status_code == 401
    assert not _is_signed_in(client)


def test_code_step_without_a_password_step_sends_back_to_sign_in(client):
    response = client.get("/login/2fa")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"


def test_repeated_wrong_codes_lock_the_account(client, signed_in, app, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES", 3)
    secret = _enrol(client)
    _sign_out(client)
    _password_step(client, signed_in)
    for _ in range(2):
        assert _code_step(client, wrong_code(secret)).status_code == 401
    third = _code_step(client, wrong_code(secret))
    assert third.status_code == 302  # locked: back to the sign-in form
    assert third.headers["Location"] == "/login"
    # Even the right password and a right code are refused while the lock lasts.
    response = _password_step(client, signed_in)
    assert response.status_code == 401
    assert "temporarily locked" in response.get_data(as_text=True)
    assert client.get("/login/2fa").headers["Location"] == "/login"  # no code step offered
    assert not _is_signed_in(client)


def test_turning_two_factor_off_needs_a_valid_code(client, signed_in, db):
    secret = _enrol(client)
    page = client.get("/account/2fa").get_data(as_text=True)
    assert "To turn two-factor sign-in off, enter a current code from your app." in page

    refused = _post(client, "/account/2fa", code=wrong_code(secret))
    assert refused.status_code == 422
    assert "That code is not valid. Try the current one." in refused.get_data(as_text=True)
    empty = _post(client, "/account/2fa", code="")
    assert empty.status_code == 422
    db.session.refresh(signed_in)
    assert signed_in.totp_secret_encrypted is not None

    response = _post(client, "/account/2fa", code=code_next_step(secret))
    assert response.status_code == 302
    db.session.refresh(signed_in)
    assert signed_in.totp_secret_encrypted is None
    _sign_out(client)
    assert _password_step(client, signed_in).headers["Location"] == "/"  # no code asked


def test_the_key_being_enrolled_is_not_readable_from_the_session_cookie(client, signed_in):
    page = client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page).group(1)
    with client.session_transaction() as session:  # what anyone holding the cookie can read
        stored = repr(dict(session))
    assert secret not in stored
