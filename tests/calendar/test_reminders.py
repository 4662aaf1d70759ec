"""Reminder e-mails through a real SMTP server (aiosmtpd) on a loopback port: sent once
per person and occurrence within the lead time, in the recipient's time zone."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller

from network.services import calendar as cal
from tests.server_process import free_port


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp(app):
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    saved = {k: app.config[k] for k in ("MAIL_SERVER", "MAIL_PORT")}
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield inbox
    finally:
        app.config.update(saved)
        controller.stop()


def _local(when: datetime, tz: str) -> str:
    return when.astimezone(cal.zone(tz)).strftime("%Y-%m-%dT%H:%M")


def test_reminders_are_sent_once_through_smtp(app, db, smtp, people, make_event):
    start = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    event = make_event(title="Hybrid plenary", timezone="Europe/Madrid",
                       starts_at=_local(start, "Europe/Madrid"),
                       ends_at=_local(start + timedelta(hours=2), "Europe/Madrid"),
                       reminder_minutes="240")  # fmt: skip
    later = start + timedelta(days=30)
    far = make_event(
        title="Next month",
        starts_at=_local(later, "UTC"),
        ends_at=_local(later + timedelta(hours=1), "UTC"),
        timezone="UTC",
    )
    people.member.timezone = "America/Bogota"
    db.session.commit()
    cal.register(people.member, event, {"country": "SN"})
    cal.register(people.observer, event, {"country": "SN", "status": "declined"})
    cal.register(people.member, far, {"country": "SN"})

    runner = app.test_cli_runner()
    result = runner.invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) sent" in result.output
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == people.member.email
    assert mail["Subject"] == "Reminder: Hybrid plenary"
    body = mail.get_payload(decode=True).decode()
    assert "(America/Bogota)" in body
    assert "(Europe/Madrid)" in body
    assert "https://meet.example.org/wacap" in body

    again = runner.invoke(args=["send-reminders"])
    assert "0 reminder(s) sent" in again.output
    assert len(smtp.messages) == 1  # idempotent


def test_cancelled_events_send_no_reminder(app, db, smtp, people, make_event):
    start = datetime.now(UTC) + timedelta(hours=1)
    event = make_event(starts_at=_local(start, "UTC"), timezone="UTC",
                       ends_at=_local(start + timedelta(hours=1), "UTC"))  # fmt: skip
    cal.register(people.member, event, {"country": "SN"})
    cal.cancel_event(people.coordinator, event)
    assert cal.send_reminders() == 0
    assert smtp.messages == []


def test_a_reminder_is_written_in_the_recipients_language(app, db, smtp, people, make_event):
    start = datetime.now(UTC) + timedelta(hours=2)
    event = make_event(title="Plénière", starts_at=_local(start, "UTC"), timezone="UTC",
                       ends_at=_local(start + timedelta(hours=1), "UTC"))  # fmt: skip
    people.member.locale = "fr"
    db.session.commit()
    cal.register(people.member, event, {"country": "SN"})
    assert cal.send_reminders() == 1
    body = smtp.messages[0].get_payload(decode=True).decode()
    # Dates are French already; the sentences follow once fr-calendar.json is merged.
    assert "décembre" in body or "janvier" in body or "temps universel coordonné" in body


def test_an_invitation_is_mailed_in_the_invitees_language(
    app, db, smtp, people, make_event, listed_outsider
):
    event = make_event(title="Working group on e-evidence", visibility="invited")
    people.outsider.locale = "fr"
    db.session.commit()
    cal.invite(people.coordinator, event, [people.outsider.id, people.member.id])
    by_recipient = {m["To"]: m for m in smtp.messages}
    assert set(by_recipient) == {people.outsider.email, people.member.email}
    french = by_recipient[people.outsider.email]
    assert french["Subject"] == "Invitation : Working group on e-evidence"
    assert f"/calendar/events/{event.id}" in french.get_payload(decode=True).decode()
    # Inviting the same people again mails nobody twice.
    cal.invite(people.coordinator, event, [people.outsider.id])
    assert len(smtp.messages) == 2
