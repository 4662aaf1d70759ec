"""Outgoing e-mail: SMTP when ``NETWORK_MAIL_SERVER`` is set, else ``.eml`` files in
``instance/outbox`` so a laptop or a test can read what would have been sent."""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage
from pathlib import Path

from flask import current_app

log = logging.getLogger(__name__)


def send_mail(to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises ``OSError`` when the mail server refuses it."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_SENDER"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    server = current_app.config["MAIL_SERVER"]
    if server:
        with smtplib.SMTP(server, current_app.config["MAIL_PORT"], timeout=30) as smtp:
            if current_app.config["MAIL_USE_TLS"]:
                smtp.starttls()
            if current_app.config["MAIL_USERNAME"]:
                smtp.login(current_app.config["MAIL_USERNAME"], current_app.config["MAIL_PASSWORD"])
            smtp.send_message(message)
    else:
        outbox = Path(current_app.config["MAIL_OUTBOX"])
        outbox.mkdir(parents=True, exist_ok=True)
        (outbox / f"{uuid.uuid4().hex}.eml").write_bytes(bytes(message))
    log.info("mail sent: subject %r", subject)
