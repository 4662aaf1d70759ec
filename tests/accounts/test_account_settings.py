"""The account page: changing the password, the interface language and the time zone in
which times are shown."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from network.models.people import User
from network.services import accounts
from tests.conftest import PASSWORD, csrf_token

NEW_PASSWORD = "a much longer new passphrase"


@pytest.fixture
def signed_in(client, make_user, login):
    user = make_user("contact_point", "wacap")
    login(client, user)
    return user


def _change_password(client, current: str, new: str):
    token = csrf_token(client, "/account/")
    return client.post(
        "/account/password",
        data={"pw-current_password": current, "pw-new_password": new, "csrf_token": token},
    )


def _save_preferences(client, locale: str, timezone: str):
    token = csrf_token(client, "/account/")
    return client.post(
        "/account/",
        data={"locale": locale, "timezone": timezone, "submit": "Save", "csrf_token": token},
    )


def _can_sign_in(app, user, password: str) -> bool:
    fresh = app.test_client()
    token = csrf_token(fresh, "/login")
    response = fresh.post(
        "/login", data={"email": user.email, "password": password, "csrf_token": token}
    )
    return response.status_code == 302


def test_wrong_current_password_is_refused_with_a_message(client, app, signed_in, db):
    before = signed_in.password_hash
    response = _change_password(client, "not my password at all", NEW_PASSWORD)
    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "The current password is wrong." in page
    db.session.refresh(signed_in)
    assert signed_in.password_hash == before
    assert _can_sign_in(app, signed_in, PASSWORD)


def test_too_short_new_password_is_refused_with_a_message(client, signed_in, db):
    before = signed_in.password_hash
    _change_password(client, PASSWORD, "short")
    page = client.get("/account/").get_data(as_text=True)
    assert "Use at least 12 characters for the new password." in page
    db.session.refresh(signed_in)
    assert signed_in.password_hash == before


def test_password_change_takes_effect_and_is_stored_as_argon2id(client, app, signed_in, db):
    _change_password(client, PASSWORD, NEW_PASSWORD)
    assert "Your password is changed." in client.get("/account/").get_data(as_text=True)
    stored = db.session.execute(
        select(User.password_hash).where(User.id == signed_in.id)
    ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored
    assert _can_sign_in(app, signed_in, NEW_PASSWORD)
    assert not _can_sign_in(app, signed_in, PASSWORD)


def test_invalid_time_zone_is_refused_and_nothing_changes(client, signed_in, db):
    response = _save_preferences(client, "fr", "Mars/Olympus_Mons")
    assert response.status_code == 422
    assert "Not a valid choice." in response.get_data(as_text=True)
    db.session.refresh(signed_in)
    assert (signed_in.timezone, signed_in.locale) == ("UTC", None)


def test_unknown_language_is_refused(client, signed_in, db):
    response = _save_preferences(client, "xx", "UTC")
    assert response.status_code == 422
    db.session.refresh(signed_in)
    assert signed_in.locale is None


def test_language_preference_translates_the_pages(client, signed_in, db):
    response = _save_preferences(client, "fr", "UTC")
    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert '<html lang="fr" ' in page
    db.session.refresh(signed_in)
    assert signed_in.locale == "fr"


def test_time_zone_changes_how_times_are_shown(client, signed_in, db):
    token, _plain = accounts.create_token(signed_in, "script")
    token.created_at = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
    db.session.commit()

    page = client.get("/account/").get_data(as_text=True)
    assert "1/15/26, 12:00\u202fPM" in page

    assert _save_preferences(client, "en", "Asia/Tokyo").status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "1/15/26, 9:00\u202fPM" in page  # UTC+9
    assert "12:00\u202fPM" not in page

    assert _save_preferences(client, "en", "America/Sao_Paulo").status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "1/15/26, 9:00\u202fAM" in page  # UTC-3
    db.session.refresh(signed_in)
    assert signed_in.timezone == "America/Sao_Paulo"


def test_account_pages_need_a_signed_in_user(client):
    for path in ["/account/", "/account/2fa"]:
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_changing_the_password_signs_out_other_devices_but_not_this_one(
    app, client, make_user, login
):
    person = make_user("observer", "wacap")
    other_device = login(app.test_client(), person)
    assert other_device.get("/account/").status_code == 200
    login(client, person)
    token = csrf_token(client, "/account/")
    response = client.post(
        "/account/password",
        data={
            "pw-current_password": PASSWORD,
            "pw-new_password": "a brand new passphrase",
            "csrf_token": token,
        },
        follow_redirects=True,
    )
    assert "Other devices are signed out." in response.get_data(as_text=True)
    assert client.get("/account/").status_code == 200
    assert other_device.get("/account/").status_code == 302
