"""Personal access tokens: created on /account and shown once, stored only as a SHA-256
digest, accepted as a bearer token on the API, refused once revoked, when bogus, or when
the account is inactive."""

from __future__ import annotations

import hashlib
import re

import pytest
from sqlalchemy import select

from network.models.people import AccessToken
from tests.conftest import csrf_token


def _create_on_account_page(client, label: str = "case-system script") -> str:
    token = csrf_token(client, "/account/")
    response = client.post("/account/tokens", data={"tok-label": label, "csrf_token": token})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Copy it now: it will not be shown again." in page
    return re.search(r'<code class="secret" id="new-token">([^<]+)</code>', page).group(1)


def _api_me(client, plain: str):
    return client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})


def _assert_401_json(response) -> None:
    assert response.status_code == 401
    body = response.get_json()
    assert set(body["error"]) >= {"code", "message"}
    assert body["error"]["code"] == "unauthorized"


@pytest.fixture
def signed_in(client, make_user, login):
    user = make_user("contact_point", "wacap")
    login(client, user)
    return user


def test_token_created_on_the_account_page_works_as_bearer(client, app, signed_in):
    plain = _create_on_account_page(client)
    api = app.test_client()  # a script: no cookies, only the token
    response = _api_me(api, plain)
    assert response.status_code == 200
    assert response.get_json()["email"] == signed_in.email


def test_token_is_shown_once_then_only_its_label_and_prefix(client, signed_in):
    plain = _create_on_account_page(client, label="nightly export")
    page = client.get("/account/").get_data(as_text=True)
    assert "nightly export" in page
    assert plain[:10] in page
    assert plain not in page


def test_only_the_sha256_digest_of_a_token_is_stored(client, signed_in, db):
    plain = _create_on_account_page(client)
    row = db.session.execute(
        select(AccessToken.__table__).where(AccessToken.user_id == signed_in.id)
    ).one()
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    for column, value in row._mapping.items():
        assert plain not in str(value), column
        secret_part = plain.removeprefix("ntk_")
        assert secret_part not in str(value), column


def test_revoked_token_is_refused_with_a_json_error(client, app, signed_in, db):
    plain = _create_on_account_page(client)
    token_id = db.session.scalar(select(AccessToken.id).where(AccessToken.user_id == signed_in.id))
    response = client.post(
        f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account/")}
    )
    assert response.status_code == 302
    assert "The token is revoked." in client.get("/account/").get_data(as_text=True)
    _assert_401_json(_api_me(app.test_client(), plain))


def test_someone_elses_token_cannot_be_revoked(client, app, signed_in, make_user):
    from network.services import accounts

    other = make_user("observer", "wacap")
    token, plain = accounts.create_token(other, "theirs")
    response = client.post(
        f"/account/tokens/{token.id}/revoke", data={"csrf_token": csrf_token(client, "/account/")}
    )
    assert response.status_code == 404
    assert _api_me(app.test_client(), plain).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer ntk_this-token-was-never-issued",
        "Bearer not-even-our-format",
        "Bearer ",
        "Bearer " + "x" * 5000,
    ],
)
def test_bogus_tokens_are_refused_with_a_json_error(client, header):
    _assert_401_json(client.get("/api/v1/me", headers={"Authorization": header}))


def test_token_of_an_inactive_account_is_refused(client, app, signed_in, db):
    plain = _create_on_account_page(client)
    signed_in.is_active_account = False
    db.session.commit()
    _assert_401_json(_api_me(app.test_client(), plain))


def test_bearer_scheme_is_case_insensitive(client, app, signed_in):
    plain = _create_on_account_page(client)
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"bearer {plain}"})
    assert response.status_code == 200


def test_token_label_is_required_and_bounded(client, signed_in, db):
    token = csrf_token(client, "/account/")
    for label in ["", "x" * 101]:
        response = client.post("/account/tokens", data={"tok-label": label, "csrf_token": token})
        assert response.status_code == 302
        page = client.get("/account/").get_data(as_text=True)
        assert "Give the token a label of at most 100 characters." in page
    assert db.session.scalars(select(AccessToken)).all() == []
