"""Fixtures for attachments: an upload folder per test, a network channel and a topic
channel with people in every role, and helpers to upload and send files."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from network.extensions import db as _db
from network.models.directory import Network
from network.models.messaging import Attachment, Channel, ChannelKind
from network.models.people import User
from network.services import accounts, attachments, messaging
from tests.attachments import samples


@pytest.fixture(autouse=True)
def upload_folder(app: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test stores its files in a folder of its own (the database is rolled back
    after each test; the files are not)."""
    folder = tmp_path / "uploads"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    return folder


@dataclass
class Place:
    network: Network
    channel: Channel  # the network's channel
    topic: Channel  # a working group: contact_point (owner) and coordinator
    contact_point: User
    coordinator: User
    secretariat: User
    observer: User
    outsider: User  # a contact point of another network
    admin: User  # a site administrator, member of no network


@pytest.fixture
def place(make_network: Any, make_user: Any, db: Any) -> Place:
    wacap = make_network("wacap", acronym="WACAP")
    other = make_network("iberred", acronym="IberRed")
    channel = messaging.ensure_network_channel(wacap)
    messaging.ensure_network_channel(other)
    db.session.commit()
    contact_point = make_user("contact_point", wacap)
    coordinator = make_user("coordinator", wacap)
    topic = messaging.create_channel(
        ChannelKind.TOPIC.value,
        contact_point,
        name="Asset recovery",
        network=wacap,
        member_ids=[coordinator.id],
    )
    return Place(
        network=wacap,
        channel=channel,
        topic=topic,
        contact_point=contact_point,
        coordinator=coordinator,
        secretariat=make_user("secretariat", wacap),
        observer=make_user("observer", wacap),
        outsider=make_user("contact_point", other),
        admin=make_user(admin=True),
    )


def client_id() -> str:
    return uuid.uuid4().hex


def upload(channel: Channel, user: User, name: str = "request.pdf", content: bytes | None = None):  # type: ignore[no-untyped-def]
    """Store one file through the service, as ``user``."""
    return attachments.store_upload(
        channel, user, (name, samples.pdf() if content is None else content)
    )


def send(channel: Channel, user: User, files: list[Attachment], body: str = "See attached."):  # type: ignore[no-untyped-def]
    """Post a message carrying ``files`` through the one pipeline."""
    message, _created = messaging.post_message(
        channel.id, user, body, client_id(), attachment_ids=[f.id for f in files]
    )
    return message


def stored_files(folder: Path) -> list[Path]:
    """Every file in the upload folder (temporary ones included)."""
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def attachment_count() -> int:
    return len(list(_db.session.scalars(select(Attachment.id))))


@pytest.fixture
def bearer_for() -> Callable[[User], dict[str, str]]:
    def make(user: User) -> dict[str, str]:
        _token, plain = accounts.create_token(user, "tests")
        return {"Authorization": f"Bearer {plain}"}

    return make


def multipart(*files: tuple[str, bytes], field: str = "file") -> dict[str, Any]:
    """A multipart body with one part per ``(filename, content)``."""
    return {field: [(io.BytesIO(content), name) for name, content in files]}
