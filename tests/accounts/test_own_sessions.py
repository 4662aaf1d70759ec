"""A person's own list of the browsers they are signed in with (issue 8, ASVS 3.3.4
"users can view and log out of any or all currently active sessions"): each named by its
browser and system, this one marked; signing out one of the others or all of them ends
those sessions on the server and closes their sockets; nobody else's can be touched."""

from __future__ import annotations

import re

from sqlalchemy import select

from network.extensions import socketio
from network.models.people import AuditEvent
from network.models.sessions import UserSession
from tests.conftest import csrf_token

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


def _browser(app, login, user, user_agent: str):
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = user_agent
    return login(client, user)


def _rows(db, user) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def _post(client, path: str):
    return client.post(path, data={"csrf_token": csrf_token(client, "/account/")})


def _signed_in(client) -> bool:
    return client.get("/account/").status_code == 200


def test_the_account_page_lists_this_persons_browsers_and_marks_this_one(app, login, make_user, db):
    person, stranger = make_user("observer", "wacap"), make_user("contact_point", "wacap")
    laptop = _browser(app, login, person, FIREFOX_LINUX)
    _browser(app, login, person, SAFARI_IPHONE)
    _browser(app, login, stranger, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Edg/131.0")
    page = laptop.get("/account/").get_data(as_text=True)
    panel = page[page.index('id="sessions"') :]
    assert "Firefox on Linux" in panel
    assert "Mobile Safari on iOS" in panel
    assert "Windows" not in panel  # another person's browser is not shown
    assert panel.count("This browser") == 1
    # One sign-out button: for the other browser, not for this one.
    assert len(re.findall(r"/account/sessions/\d+/end", panel)) == 1
    assert "Sign out everywhere else" in panel


def test_signing_out_another_browser_ends_it_and_closes_its_socket(app, login, make_user, db):
    person = make_user("observer", "wacap")
    laptop = _browser(app, login, person, FIREFOX_LINUX)
    phone = _browser(app, login, person, SAFARI_IPHONE)
    phone_socket = socketio.test_client(app, flask_test_client=phone)
    assert phone_socket.is_connected()
    _laptop_row, phone_row = _rows(db, person)
    response = _post(laptop, f"/account/sessions/{phone_row.id}/end")
    assert response.status_code == 302
    assert "That browser is signed out." in laptop.get("/account/").get_data(as_text=True)
    assert not _signed_in(phone)
    assert not phone_socket.is_connected()
    assert _signed_in(laptop)
    laptop_row, phone_row = _rows(db, person)
    assert phone_row.revoked_reason == "user"
    assert laptop_row.revoked_at is None
    audited = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "session.end"))
    assert audited is not None
    assert audited.actor_id == person.id


def test_nobody_signs_out_another_persons_browser_or_this_one_by_this_route(
    app, login, make_user, db
):
    person, stranger = make_user("observer", "wacap"), make_user("contact_point", "wacap")
    laptop = _browser(app, login, person, FIREFOX_LINUX)
    theirs = _browser(app, login, stranger, SAFARI_IPHONE)
    (their_row,) = _rows(db, stranger)
    (own_row,) = _rows(db, person)
    assert _post(laptop, f"/account/sessions/{their_row.id}/end").status_code == 404
    assert _post(laptop, f"/account/sessions/{own_row.id}/end").status_code == 404
    assert _post(laptop, "/account/sessions/999999/end").status_code == 404
    assert _signed_in(theirs)
    assert _signed_in(laptop)
    assert all(r.revoked_at is None for r in _rows(db, stranger) + _rows(db, person))


def test_signing_out_everywhere_else_keeps_only_this_browser(app, login, make_user, db):
    person = make_user("observer", "wacap")
    laptop = _browser(app, login, person, FIREFOX_LINUX)
    others = [_browser(app, login, person, SAFARI_IPHONE) for _ in range(2)]
    sockets = [socketio.test_client(app, flask_test_client=c) for c in others]
    response = _post(laptop, "/account/sessions/end-others")
    assert response.status_code == 302
    assert "2 other browsers are signed out." in laptop.get("/account/").get_data(as_text=True)
    assert _signed_in(laptop)
    assert not any(_signed_in(c) for c in others)
    assert not any(s.is_connected() for s in sockets)
    rows = _rows(db, person)
    assert [r.revoked_at is None for r in rows] == [True, False, False]
    page = laptop.get("/account/").get_data(as_text=True)
    assert "Sign out everywhere else" not in page[page.index('id="sessions"') :]
