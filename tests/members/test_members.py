"""Coordinators and secretariats manage their network's members; invitations by e-mail."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from network.models.people import Membership, User
from tests.conftest import csrf_token


def _outbox(app) -> list[str]:  # type: ignore[no-untyped-def]
    """The bodies of the e-mails written to the outbox, oldest first."""
    folder = Path(app.config["MAIL_OUTBOX"])
    files = sorted(folder.glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        .get_body()
        .get_content()
        for p in files
    ]


@pytest.mark.parametrize("role", ["coordinator", "secretariat"])
def test_network_manager_adds_existing_account_as_member(
    client, make_user, make_network, login, role, db
):
    wacap = make_network("wacap")
    manager = make_user(role, wacap)
    other = make_user(email="newcomer@example.org")
    login(client, manager)
    token = csrf_token(client, "/networks/wacap/members")
    response = client.post(
        "/networks/wacap/members",
        data={"email": "newcomer@example.org", "role": "observer", "csrf_token": token},
    )
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.role_in(wacap.id) == "observer"
    page = client.get("/networks/wacap/members").get_data(as_text=True)
    assert "newcomer@example.org" in page


def test_new_person_is_invited_and_sets_a_password(app, client, make_user, make_network, login, db):
    wacap = make_network("wacap")
    login(client, make_user("coordinator", wacap))
    before = len(_outbox(app))
    token = csrf_token(client, "/networks/wacap/members")
    client.post(
        "/networks/wacap/members",
        data={
            "email": "Invitee@Example.org",
            "name": "Ines Invitee",
            "role": "contact_point",
            "csrf_token": token,
        },
    )
    invited = db.session.scalar(select(User).where(User.email == "invitee@example.org"))
    assert invited is not None
    assert invited.password_hash is None
    mails = _outbox(app)
    assert len(mails) == before + 1
    link = re.search(r"http://[^\s]+/invitation/(\S+)", mails[-1])
    assert link, mails[-1]
    invitation = "/invitation/" + link.group(1)

    anonymous = app.test_client()
    form_token = csrf_token(anonymous, invitation)
    mismatch = anonymous.post(
        invitation,
        data={
            "password": "a long new password",
            "confirm": "something else!!",
            "csrf_token": form_token,
        },
    )
    assert "The passwords differ." in mismatch.get_data(as_text=True)
    response = anonymous.post(
        invitation,
        data={
            "password": "a long new password",
            "confirm": "a long new password",
            "csrf_token": form_token,
        },
    )
    assert response.status_code == 302
    assert anonymous.get("/api/v1/me").get_json()["email"] == "invitee@example.org"
    # The link is single-use.
    assert app.test_client().get(invitation).status_code == 400


def test_tampered_invitation_is_refused(client):
    response = client.get("/invitation/not-a-real-token")
    assert response.status_code == 400
    assert "not valid" in response.get_data(as_text=True)


def test_manager_changes_a_role_and_removes_a_member(client, make_user, make_network, login, db):
    wacap = make_network("wacap")
    login(client, make_user("coordinator", wacap))
    member = make_user("contact_point", wacap)
    membership_id = member.memberships[0].id
    token = csrf_token(client, "/networks/wacap/members")
    client.post(
        f"/networks/wacap/members/{membership_id}/role",
        data={"role": "secretariat", "csrf_token": token},
    )
    db.session.expire_all()
    assert db.session.get(Membership, membership_id).role == "secretariat"
    client.post(f"/networks/wacap/members/{membership_id}/remove", data={"csrf_token": token})
    db.session.expire_all()
    assert db.session.get(Membership, membership_id) is None


def test_manager_cannot_remove_or_demote_themselves(client, make_user, make_network, login, db):
    wacap = make_network("wacap")
    me = make_user("coordinator", wacap)
    login(client, me)
    mine = me.memberships[0].id
    token = csrf_token(client, "/networks/wacap/members")
    client.post(
        f"/networks/wacap/members/{mine}/role", data={"role": "observer", "csrf_token": token}
    )
    response = client.post(
        f"/networks/wacap/members/{mine}/remove", data={"csrf_token": token}, follow_redirects=True
    )
    assert "You cannot remove yourself." in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Membership, mine).role == "coordinator"


def test_bad_member_input_is_refused_and_nothing_is_written(
    client, make_user, make_network, login, db
):
    wacap = make_network("wacap")
    login(client, make_user("coordinator", wacap))
    token = csrf_token(client, "/networks/wacap/members")
    count = len(db.session.scalars(select(User)).all())
    bad_email = client.post(
        "/networks/wacap/members",
        data={"email": "not-an-email", "role": "observer", "csrf_token": token},
    )
    assert bad_email.status_code == 422
    no_name = client.post(
        "/networks/wacap/members",
        data={"email": "x@example.org", "role": "observer", "csrf_token": token},
    )
    assert no_name.status_code == 422
    assert "Give the new member" in no_name.get_data(as_text=True)
    bad_role = client.post(
        "/networks/wacap/members",
        data={"email": "x@example.org", "name": "X", "role": "king", "csrf_token": token},
    )
    assert bad_role.status_code == 422
    assert len(db.session.scalars(select(User)).all()) == count


def test_adding_an_existing_member_again_is_a_conflict(client, make_user, make_network, login):
    wacap = make_network("wacap")
    login(client, make_user("coordinator", wacap))
    member = make_user("observer", wacap)
    token = csrf_token(client, "/networks/wacap/members")
    response = client.post(
        "/networks/wacap/members",
        data={"email": member.email, "role": "observer", "csrf_token": token},
    )
    assert response.status_code == 409
    assert "already a member" in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ["contact_point", "observer"])
def test_ordinary_members_cannot_manage_members(client, make_user, make_network, login, role):
    wacap = make_network("wacap")
    login(client, make_user(role, wacap))
    assert client.get("/networks/wacap/members").status_code == 403


def test_coordinator_of_another_network_cannot_manage_members(
    client, make_user, make_network, login
):
    make_network("wacap")
    login(client, make_user("coordinator", make_network("iberred")))
    assert client.get("/networks/wacap/members").status_code == 403


def test_anonymous_visitor_is_sent_to_sign_in(client, make_network):
    make_network("wacap")
    response = client.get("/networks/wacap/members")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
