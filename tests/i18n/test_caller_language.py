"""Every path that speaks to someone speaks their language (issue 9): the page language is
the profile's, else the browser's Accept-Language, else English; API errors, socket error
acknowledgements, e-mails and the human columns of exports follow the caller."""

from __future__ import annotations

import csv
import io

from flask_babel import force_locale
from flask_babel import gettext as _

from network.extensions import socketio
from network.services import accounts, audit
from tests.conftest import csrf_token

MISSING = "No such contact point."


def _fr(app, message: str) -> str:  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale("fr"):
        translated = _(message)
    assert translated != message, f"no French for {message!r}"
    return translated


def _bearer(user):  # type: ignore[no-untyped-def]
    _token, plain = accounts.create_token(user, "script")
    return {"Authorization": f"Bearer {plain}"}, plain


def test_the_page_language_is_the_profile_then_the_browser_then_english(
    client, make_user, login, db
):
    anonymous = client.get("/", headers={"Accept-Language": "fr-SN"}).get_data(as_text=True)
    assert 'lang="fr"' in anonymous
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de, nl"}).get_data(
        as_text=True
    )
    assert 'lang="en"' in client.get("/").get_data(as_text=True)  # no header at all

    user = make_user("observer", "wacap")
    accounts.update_preferences(user, locale="fr")
    login(client, user)
    page = client.get("/", headers={"Accept-Language": "en-GB"}).get_data(as_text=True)
    assert 'lang="fr"' in page  # the profile wins over the browser


def test_api_errors_follow_accept_language(app, client, make_user, db):
    user = make_user("observer", "wacap")
    headers, _plain = _bearer(user)
    english = client.get("/api/v1/contact-points/999999", headers=headers).get_json()
    assert english["error"]["message"] == MISSING
    french = client.get(
        "/api/v1/contact-points/999999", headers={**headers, "Accept-Language": "fr"}
    ).get_json()
    assert french["error"]["code"] == "not_found"
    assert french["error"]["message"] == _fr(app, MISSING)


def test_api_errors_follow_the_profile_without_a_header(app, client, make_user, db):
    user = make_user("observer", "wacap")
    accounts.update_preferences(user, locale="fr")
    headers, _plain = _bearer(user)
    body = client.get("/api/v1/contact-points/999999", headers=headers).get_json()
    assert body["error"]["message"] == _fr(app, MISSING)


def test_an_unauthenticated_api_call_is_refused_in_the_browsers_language(app, client):
    body = client.get("/api/v1/networks", headers={"Accept-Language": "fr"}).get_json()
    assert body["error"]["code"] == "unauthorized"
    assert body["error"]["message"] == _fr(app, "Please sign in.")


def test_socket_errors_follow_accept_language(app, make_user, db):
    user = make_user("observer", "wacap")
    _headers, plain = _bearer(user)
    socket = socketio.test_client(app, auth={"token": plain}, headers={"Accept-Language": "fr"})
    assert socket.is_connected()
    ack = socket.emit("join", ["not", "an", "object"], callback=True)
    assert ack["ok"] is False
    assert ack["error"]["message"] == _fr(app, "Send an object with the event's fields.")
    socket.disconnect()

    english = socketio.test_client(app, auth={"token": plain})
    ack = english.emit("join", "nope", callback=True)
    assert ack["error"]["message"] == "Send an object with the event's fields."
    english.disconnect()


def test_socket_errors_follow_the_profile(app, make_user, db):
    user = make_user("observer", "wacap")
    _headers, plain = _bearer(user)
    english = socketio.test_client(app, auth={"token": plain})
    expected = english.emit("join", {"channel_id": 999999, "after_seq": 0}, callback=True)
    english.disconnect()
    assert expected["ok"] is False

    accounts.update_preferences(user, locale="fr")
    socket = socketio.test_client(app, auth={"token": plain}, headers={"Accept-Language": "en"})
    ack = socket.emit("join", {"channel_id": 999999, "after_seq": 0}, callback=True)
    socket.disconnect()
    assert ack["error"]["code"] == expected["error"]["code"]
    assert ack["error"]["message"] == _fr(app, expected["error"]["message"])


def test_a_reminder_e_mail_is_in_the_recipients_language(app, make_network, make_user, db):
    from network.i18n import recipient_locale

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert recipient_locale("fr") == "fr"  # their choice, not the sender's
        assert recipient_locale(None, ["pt", "fr"]) in ("pt", "fr")
        assert recipient_locale(None, ["de"]) == "en"
        assert recipient_locale("xx") == "en"


def test_the_audit_export_labels_follow_the_caller(client, make_user, login, db):
    admin = make_user("secretariat", "wacap", admin=True)
    login(client, admin)
    token = csrf_token(client, "/")
    client.post("/language", data={"locale": "fr", "next": "/", "csrf_token": token})
    text = client.get("/audit.csv").get_data(as_text=True)
    reader = csv.reader(io.StringIO(text[1:]))
    header = next(reader)
    rows = [dict(zip(audit.CSV_COLUMNS, row, strict=True)) for row in reader]
    assert rows
    # The header row and the labels are French (issue 9).
    assert header[:4] == ["Heure (UTC)", "Auteur", "Code de l\u2019action", "Action"]
    with client.application.test_request_context(), force_locale("fr"):
        assert header == [str(audit.CSV_LABELS[c]) for c in audit.CSV_COLUMNS]
        expected = {r["action"]: str(audit.action_label(r["action"])) for r in rows}
    assert all(r["action_label"] == expected[r["action"]] for r in rows)
    assert any(r["action_label"] != r["action"] for r in rows)


def test_the_audit_log_names_what_events_are_about_in_the_readers_language(
    app, client, make_user, login, db
):
    admin = make_user("secretariat", "wacap", admin=True)
    accounts.update_preferences(admin, locale="fr")
    accounts.create_token(admin, "script")  # an event about an access token
    login(client, admin)
    page = client.get("/audit").get_data(as_text=True)
    assert 'title="user"' in page  # the code is still there for the curious
    assert f'title="user">{_fr(app, "Account")}</span>' in page
    assert ">user</span>" not in page
    assert ">access_token</span>" not in page
