"""``network backup`` / ``network restore`` (issue 8, "Audit and recovery"; OWASP ASVS
14.2.x integrity, 6.4.1 key custody): an archive of a live instance restored into an empty
one gives back the same data — a message and an attachment read back, the audit chain
verifies — and a tampered archive, a missing data key or a non-empty target are refused.
Runs on SQLite and on PostgreSQL (pg_dump and the logical dump)."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from network import create_app
from network.extensions import db
from network.models.messaging import Attachment, Channel, Message
from network.models.people import User
from network.services import attachments, audit_chain, messaging
from tests.conftest import _create_pg_database

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
BODY = "Backup check: the hearing moves to Thursday"


def _backends() -> list[str]:
    found = ["sqlite"]
    if os.environ.get("NETWORK_TEST_DATABASE_URL"):
        found += ["pg_dump", "logical"]
    return found


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Callable[[str, str], Flask]]:
    drops: list[Callable[[], None]] = []

    def make(name: str, backend: str) -> Flask:
        folder = tmp_path / name
        folder.mkdir()
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'network.db'}"
        else:
            url, drop = _create_pg_database(os.environ["NETWORK_TEST_DATABASE_URL"])
            drops.append(drop)
        app = create_app(
            {
                "TESTING": True,
                "INSTANCE_PATH": str(folder),
                "SQLALCHEMY_DATABASE_URI": url,
                "SECRET_KEY": "test-secret-key",
                "DATA_KEY": None,
                "SERVER_NAME": None,
                "UPLOAD_FOLDER": str(folder / "uploads"),
            }
        )
        return app

    made: list[Flask] = []

    def tracked(name: str, backend: str) -> Flask:
        app = make(name, backend)
        made.append(app)
        return app

    yield tracked
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    for drop in drops:
        drop()


def _run(app: Flask, *args: str, ok: bool = True) -> str:
    result = app.test_cli_runner().invoke(args=list(args))
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result.output


def _populate(app: Flask) -> tuple[int, int]:
    """A network, a member, a message with an attachment; returns their ids."""
    _run(app, "init")
    _run(app, "seed-demo")
    with app.app_context(), app.test_request_context():
        author = db.session.scalar(sa.select(User).where(User.email.like("coordinator%")))
        author = author or db.session.scalar(sa.select(User).order_by(User.id))
        channel = db.session.scalar(
            sa.select(Channel).where(Channel.network_id.is_not(None)).order_by(Channel.id)
        )
        if not messaging.policy.can_write_channel(author, channel):
            author = next(
                u
                for u in db.session.scalars(sa.select(User))
                if messaging.policy.can_write_channel(u, channel)
            )
        upload = attachments.store_upload(channel, author, ("minutes.pdf", PDF))
        message, _created = messaging.post_message(
            channel.id, author, BODY, "backup-test-01", attachment_ids=[upload.id]
        )
        return message.id, upload.id


@pytest.mark.parametrize("backend", _backends())
def test_backup_restored_into_an_empty_instance_reads_back(instance, tmp_path, backend):
    source = instance("source", "sqlite" if backend == "sqlite" else "postgresql")
    message_id, attachment_id = _populate(source)
    archive = tmp_path / "backup.tar.gz"
    args = ["backup", str(archive)] + (["--logical"] if backend == "logical" else [])
    output = _run(source, *args)
    kind = {"sqlite": "sqlite", "pg_dump": "pg_dump", "logical": "logical"}[backend]
    assert f"({kind})" in output
    assert "data key is not in the backup" in output
    with tarfile.open(archive) as packed:
        names = packed.getnames()
    assert "manifest.json" in names
    assert not any("data_key" in name for name in names)
    assert any(name.startswith("uploads/") for name in names)

    target = instance("target", "sqlite" if backend == "sqlite" else "postgresql")
    # Without the data key the restore does not start.
    refused = _run(target, "restore", str(archive), ok=False)
    assert "no data key" in refused
    shutil.copy2(Path(source.config["INSTANCE_PATH"]) / "data_key", target.config["INSTANCE_PATH"])
    output = _run(target, "restore", str(archive))
    assert "Audit log:" in output
    assert "Every restored file opens" in output
    assert "BROKEN" not in output
    assert "OK:" in _run(target, "audit", "verify")
    with target.app_context():
        message = db.session.get(Message, message_id)
        assert message is not None
        assert BODY in messaging.message_html(message)
        attachment = db.session.get(Attachment, attachment_id)
        assert attachments.read_content(attachment) == PDF
        assert audit_chain.verify().ok
        # The sequences go on after the restored ids (PostgreSQL).
        with target.test_request_context():
            author = db.session.get(User, message.author_id)
            again, created = messaging.post_message(message.channel_id, author, "after", "after-01")
            assert created
            assert again.id > message_id
    # A restore into an instance that is no longer empty is refused.
    assert "not empty" in _run(target, "restore", str(archive), ok=False)


def _tampered(archive: Path, out: Path, change: Callable[[str, bytes], bytes | None]) -> Path:
    with tarfile.open(archive) as packed, tarfile.open(out, "w:gz") as copy:
        for member in packed.getmembers():
            data = packed.extractfile(member).read()
            changed = change(member.name, data)
            if changed is None:
                continue
            info = tarfile.TarInfo(member.name)
            info.size = len(changed)
            copy.addfile(info, io.BytesIO(changed))
    return out


def test_a_tampered_archive_is_refused(instance, tmp_path):
    source = instance("source", "sqlite")
    _populate(source)
    archive = tmp_path / "backup.tar.gz"
    _run(source, "backup", str(archive))
    key = Path(source.config["INSTANCE_PATH"]) / "data_key"

    def flip_upload(name: str, data: bytes) -> bytes:
        return data[:-1] + bytes([data[-1] ^ 1]) if name.startswith("uploads/") else data

    def drop_upload(name: str, data: bytes) -> bytes | None:
        return None if name.startswith("uploads/") else data

    def forge_manifest(name: str, data: bytes) -> bytes:
        # A forger who recomputes checksums still cannot seal the manifest again.
        if name != "manifest.json":
            return data
        return data.replace(b'"created_at": "20', b'"created_at": "19', 1)

    cases = [
        ("flip", flip_upload, "checksum mismatch"),
        ("drop", drop_upload, "members differ"),
        ("forge", forge_manifest, "seal"),
    ]
    for label, change, reason in cases:
        target = instance(f"target-{label}", "sqlite")
        shutil.copy2(key, target.config["INSTANCE_PATH"])
        bad = _tampered(archive, tmp_path / f"{label}.tar.gz", change)
        output = _run(target, "restore", str(bad), ok=False)
        assert "restore refused" in output, label
        assert reason in output, label
        # Nothing was written.
        assert not list(Path(target.config["UPLOAD_FOLDER"]).rglob("*.pdf"))
        db_file = Path(target.config["INSTANCE_PATH"]) / "network.db"
        assert not db_file.exists() or db_file.stat().st_size < 200_000


def test_an_archive_with_a_path_traversal_member_is_refused(instance, tmp_path):
    target = instance("target", "sqlite")
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as packed:
        for name in ("manifest.json", "../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 2
            packed.addfile(info, io.BytesIO(b"{}"))
    (Path(target.config["INSTANCE_PATH"]) / "data_key").write_text(
        (tmp_path / "none").name and "A" * 43 + "=\n"
    )
    output = _run(target, "restore", str(evil), ok=False)
    assert "unsafe member" in output
    assert not (tmp_path / "escape.txt").exists()
