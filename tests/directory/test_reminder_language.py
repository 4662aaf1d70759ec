"""Reminders and invitations are written in the recipient's language, not the sender's."""

from __future__ import annotations

import email
import email.policy
from datetime import date
from pathlib import Path

from network.extensions import db as _db
from tests.conftest import csrf_token


def _mails_to(app, address: str) -> list[email.message.EmailMessage]:  # type: ignore[no-untyped-def]
    found = []
    for path in Path(app.config["MAIL_OUTBOX"]).glob("*.eml"):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def _send_reminders(client, slug: str) -> None:  # type: ignore[no-untyped-def]
    token = csrf_token(client, f"/directory/networks/{slug}/stale")
    response = client.post(f"/directory/networks/{slug}/remind", data={"csrf_token": token})
    assert response.status_code == 302


def test_reminder_to_a_french_speaking_network_is_in_french(
    app, client, make_network, make_user, make_contact_point, login
):
    make_network("sahel-test", acronym="PCJS-T", languages=["fr"], states="ML NE")
    entry = make_contact_point(
        networks=["sahel-test"], country="ML", email="moussa.reminder@example.org"
    )
    entry.last_confirmed_at = date(2020, 1, 1)
    _db.session.commit()
    login(client, make_user("secretariat", "sahel-test"))  # the sender reads English
    _send_reminders(client, "sahel-test")
    [message] = _mails_to(app, "moussa.reminder@example.org")
    assert message["Subject"].startswith("Veuillez confirmer votre fiche")
    assert "PCJS-T" in message["Subject"]
    assert "/confirm-entry/" in message.get_body().get_content()


def test_a_person_who_chose_english_gets_english_even_in_a_french_network(
    app, client, make_network, make_user, make_contact_point, login, db
):
    make_network("ioc-test", acronym="IOC-T", languages=["fr", "en"], states="MU SC")
    person = make_user("contact_point", "ioc-test", email="english.reader@example.org")
    person.locale = "en"
    entry = make_contact_point(
        networks=["ioc-test"], country="MU", email="english.reader@example.org"
    )
    entry.user_id = person.id
    entry.last_confirmed_at = date(2020, 1, 1)
    _db.session.commit()
    login(client, make_user("secretariat", "ioc-test"))
    _send_reminders(client, "ioc-test")
    [message] = _mails_to(app, "english.reader@example.org")
    assert message["Subject"] == "Please confirm your IOC-T directory entry"
