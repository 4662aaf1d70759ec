"""Site administrators list accounts, deactivate and reactivate them, and grant administration."""

from __future__ import annotations

import pytest

from network.services import accounts
from tests.conftest import PASSWORD, csrf_token


def test_administrator_finds_accounts_by_name_or_email(client, make_user, login):
    login(client, make_user(admin=True))
    make_user(email="findable.person@example.org")
    page = client.get("/admin/users?q=findable").get_data(as_text=True)
    # The address may break before its "@" on a narrow screen (a <wbr>, no character).
    assert "findable.person<wbr>@example.org" in page
    assert "1 account" in page


def test_deactivated_account_can_no_longer_sign_in_or_use_tokens(app, client, make_user, login, db):
    login(client, make_user(admin=True))
    target = make_user("contact_point", "wacap")
    _token, plain = accounts.create_token(target, "script")
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
        .status_code
        == 200
    )
    token = csrf_token(client, "/admin/users")
    response = client.post(f"/admin/users/{target.id}/deactivate", data={"csrf_token": token})
    assert response.status_code == 302

    other = app.test_client()
    form = csrf_token(other, "/login")
    refused = other.post(
        "/login", data={"email": target.email, "password": PASSWORD, "csrf_token": form}
    )
    assert refused.status_code == 401
    assert (
        app.test_client()
        .get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
        .status_code
        == 401
    )

    client.post(f"/admin/users/{target.id}/activate", data={"csrf_token": token})
    again = app.test_client()
    form = csrf_token(again, "/login")
    assert (
        again.post(
            "/login", data={"email": target.email, "password": PASSWORD, "csrf_token": form}
        ).status_code
        == 302
    )


def test_deactivation_ends_an_open_session_at_once(app, client, make_user, login):
    login(client, make_user(admin=True))
    target = make_user("observer", "wacap")
    their_browser = login(app.test_client(), target)
    assert their_browser.get("/directory/").status_code == 200
    client.post(
        f"/admin/users/{target.id}/deactivate",
        data={"csrf_token": csrf_token(client, "/admin/users")},
    )
    assert their_browser.get("/directory/").status_code == 302  # back to the sign-in page


def test_administrator_grants_and_withdraws_administration(client, make_user, login, db):
    login(client, make_user(admin=True))
    target = make_user()
    token = csrf_token(client, "/admin/users")
    client.post(f"/admin/users/{target.id}/grant_admin", data={"csrf_token": token})
    db.session.refresh(target)
    assert target.is_admin
    client.post(f"/admin/users/{target.id}/revoke_admin", data={"csrf_token": token})
    db.session.refresh(target)
    assert not target.is_admin


def test_administrator_cannot_lock_themselves_out(client, make_user, login, db):
    me = make_user(admin=True)
    login(client, me)
    token = csrf_token(client, "/admin/users")
    response = client.post(
        f"/admin/users/{me.id}/deactivate", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You cannot change your own account here." in response.get_data(as_text=True)
    db.session.refresh(me)
    assert me.is_active_account


@pytest.mark.parametrize("role", ["contact_point", "coordinator", "secretariat", "observer"])
def test_network_roles_are_not_site_administrators(client, make_user, login, role):
    login(client, make_user(role, "wacap"))
    assert client.get("/admin/users").status_code == 403


def test_anonymous_visitor_cannot_see_accounts(client):
    assert client.get("/admin/users").status_code == 302
