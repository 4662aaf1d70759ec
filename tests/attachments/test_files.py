"""What the attachment service accepts and how it keeps files: names cleaned, type told
from the content and checked against the name, size limit, encrypted storage outside the
web root, integrity checked on every read."""

from __future__ import annotations

import hashlib
import io
import os
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import select

from network import crypto
from network.errors import Forbidden, TooLarge, ValidationError
from network.extensions import db as _db
from network.models.messaging import Attachment
from network.services import attachments
from tests.attachments import samples
from tests.attachments.conftest import attachment_count, stored_files, upload

# --- File names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\Windows\\System32\\report.pdf", "report.pdf"),
        ("C:\\Users\\fatou\\Desktop\\demande.pdf", "demande.pdf"),
        ("evil\u202egpj.exe", "evilgpj.exe"),  # shown as "evilexe.jpg" with the override
        ("facture\u2066\u2069\u200f.pdf", "facture.pdf"),
        ("a\x00b.pdf", "ab.pdf"),
        ("line\r\nbreak.pdf", "line break.pdf"),
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
        ("Requête Łódź – 2026.pdf", "Requête Łódź – 2026.pdf"),  # noqa: RUF001
        ("طلب المساعدة القضائية.pdf", "طلب المساعدة القضائية.pdf"),
        ("Запрос об экстрадиции.docx", "Запрос об экстрадиции.docx"),  # noqa: RUF001
        ("نامه\u200cها.pdf", "نامه\u200cها.pdf"),  # noqa: RUF001 (Persian non-joiner stays)
        (".htaccess", "htaccess"),
        ("...", "file"),
        ("", "file"),
        ("CON.pdf", "_CON.pdf"),
        ("a<b>:c?|*.pdf", "a_b__c___.pdf"),
        ("report.pdf.", "report.pdf"),
        ("Scan.PDF", "Scan.pdf"),
    ],
)
def test_file_names_are_cleaned_and_keep_what_people_wrote(raw, cleaned):
    assert attachments.clean_filename(raw) == cleaned


def test_a_decomposed_name_is_stored_composed():
    decomposed = unicodedata.normalize("NFD", "été.pdf")
    assert attachments.clean_filename(decomposed) == unicodedata.normalize("NFC", "été.pdf")


def test_a_long_name_is_shortened_keeping_its_extension():
    cleaned = attachments.clean_filename("é" * 400 + ".docx")
    assert cleaned.endswith("é.docx")
    assert len(cleaned) <= attachments.MAX_FILENAME_CHARS
    assert len(cleaned.encode()) <= 240


# --- Types ---------------------------------------------------------------------------------

ACCEPTED = [
    ("request.pdf", samples.pdf, "application/pdf"),
    (
        "request.docx",
        samples.docx,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "table.xlsx",
        samples.xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "slides.pptx",
        samples.pptx,
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("lettre.odt", samples.odt, "application/vnd.oasis.opendocument.text"),
    ("tableau.ods", samples.ods, "application/vnd.oasis.opendocument.spreadsheet"),
    ("old.doc", samples.ole, "application/msword"),
    ("old.xls", lambda: samples.ole("Workbook"), "application/vnd.ms-excel"),
    ("mail.msg", lambda: samples.ole("__substg1.0_0037001F"), "application/vnd.ms-outlook"),
    ("note.rtf", samples.rtf, "application/rtf"),
    ("notes.txt", samples.text, "text/plain"),
    ("list.csv", samples.csv, "text/csv"),
    ("mail.eml", samples.eml, "message/rfc822"),
    ("scan.png", samples.png, "image/png"),
    ("photo.jpg", samples.jpeg, "image/jpeg"),
    ("photo.jpeg", samples.jpeg, "image/jpeg"),
    ("anim.gif", samples.gif, "image/gif"),
    ("image.webp", samples.webp, "image/webp"),
    ("scan.tif", samples.tiff, "image/tiff"),
    ("voice.mp3", samples.mp3, "audio/mpeg"),
    ("voice.ogg", samples.ogg, "audio/ogg"),
    ("voice.opus", samples.ogg, "audio/ogg"),
    ("voice.m4a", samples.m4a, "audio/mp4"),
    ("video.mp4", samples.mp4, "video/mp4"),
    ("voice.wav", samples.wav, "audio/wav"),
    ("voice.webm", samples.webm, "video/webm"),
]


@pytest.mark.parametrize(("name", "content", "content_type"), ACCEPTED)
def test_the_documents_practitioners_exchange_are_accepted_with_their_type(
    place, upload_folder, name, content, content_type
):
    stored = upload(place.channel, place.contact_point, name, content())
    assert stored.filename == name
    assert stored.content_type == content_type


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("request.exe", samples.pdf, "Files of type .exe are not accepted."),
        ("request.pdf", samples.exe, "This file is a program"),
        ("request.pdf", samples.elf, "This file is a program"),
        ("request.pdf", samples.html, "web page"),
        ("notes.txt", samples.html, "web page"),
        ("image.png", samples.svg, "web page"),
        ("drawing.svg", samples.svg, "Files of type .svg are not accepted."),
        ("page.html", samples.html, "Files of type .html are not accepted."),
        ("script.js", lambda: b"alert(1)", "Files of type .js are not accepted."),
        ("request.pdf", samples.html_with_pdf_header, "web page"),  # polyglot
        ("request.pdf", samples.pdf_with_zip, "hides an archive"),  # polyglot
        ("photo.jpg", samples.jpeg_with_zip, "hides an archive"),  # polyglot
        ("evidence.zip", samples.plain_zip, "Files of type .zip are not accepted."),
        ("evidence.docx", samples.plain_zip, "Archives (.zip) are not accepted"),
        ("macro.docx", samples.docm, "macros"),
        ("macro.doc", lambda: samples.ole("_VBA_PROJECT"), "macros"),
        ("photo.png", samples.pdf, "(PDF document) does not match its name ending .png"),
        ("request.docx", samples.odt, "does not match its name ending .docx"),
        ("request.doc", lambda: samples.ole("Workbook"), "does not match"),
        ("notes.txt", lambda: "café".encode("latin-1"), "UTF-8"),
        ("notes.txt", lambda: b"a\x00b", "UTF-8"),
        ("tool.txt", lambda: b"#!/bin/sh\nrm -rf /\n", "This file is a program"),
        ("blob.dat", lambda: os.urandom(64), "Files of type .dat are not accepted."),
        ("unknown", lambda: b"\x00\x01\x02\x03" * 16, "This type of file is not accepted"),
    ],
)
def test_content_that_is_not_what_the_name_says_or_is_dangerous_is_refused(
    place, upload_folder, name, content, reason
):
    with pytest.raises(ValidationError) as refused:
        upload(place.channel, place.contact_point, name, content())
    assert reason in refused.value.fields["file"]
    assert refused.value.fields["file"].startswith(attachments.clean_filename(name))
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []


def test_a_name_without_extension_gets_the_one_of_its_content(place):
    stored = upload(place.channel, place.contact_point, "../../etc/passwd", samples.pdf())
    assert stored.filename == "passwd.pdf"
    assert stored.content_type == "application/pdf"


def test_a_name_ending_in_digits_keeps_them_and_gets_its_extension(place):
    stored = upload(place.channel, place.contact_point, "Scan 12.05.2026", samples.pdf())
    assert stored.filename == "Scan 12.05.2026.pdf"


def test_a_name_with_bidi_override_is_stored_without_it(place):
    stored = upload(place.channel, place.contact_point, "Rapport\u202efdp.pdf", samples.pdf())
    assert stored.filename == "Rapportfdp.pdf"


def test_an_empty_file_is_refused(place, upload_folder):
    with pytest.raises(ValidationError) as refused:
        upload(place.channel, place.contact_point, "empty.pdf", b"")
    assert "empty" in refused.value.fields["file"]
    assert stored_files(upload_folder) == []


# --- Size ------------------------------------------------------------------------------------


def test_a_file_over_the_configured_limit_is_refused_and_nothing_is_stored(
    app, place, upload_folder, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 1000)
    exact = samples.pdf().ljust(1000, b"\n")
    assert upload(place.channel, place.contact_point, "exact.pdf", exact).size == 1000
    before = stored_files(upload_folder)

    with pytest.raises(TooLarge) as refused:
        upload(place.channel, place.contact_point, "big.pdf", exact + b"\n")
    assert refused.value.status == 413
    assert attachment_count() == 1
    assert stored_files(upload_folder) == before


class EndlessStream(io.RawIOBase):
    """A stream that never ends, like a client that lies about its length."""

    read_total = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        assert size > 0, "the whole stream was asked for"
        self.read_total += size
        return b"%PDF-" + b"a" * (size - 5) if self.read_total == size else b"a" * size


def test_the_size_limit_reads_the_stream_not_a_declared_length(app, place, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 100_000)
    stream = EndlessStream()
    with pytest.raises(TooLarge):
        attachments.store_upload(place.channel, place.contact_point, ("endless.pdf", stream))
    assert stream.read_total == 100_001


def test_more_files_than_a_message_may_carry_are_refused_at_once(
    app, place, upload_folder, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENTS_PER_MESSAGE", 2)
    files = [(f"r{n}.pdf", samples.pdf()) for n in range(3)]
    with pytest.raises(TooLarge):
        attachments.store_uploads(place.channel, place.contact_point, files)
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []


def test_one_refused_file_refuses_the_whole_upload(place, upload_folder):
    files = [("a.pdf", samples.pdf()), ("b.png", samples.png()), ("c.pdf", samples.exe())]
    with pytest.raises(ValidationError) as refused:
        attachments.store_uploads(place.channel, place.contact_point, files)
    assert refused.value.fields["file"].startswith("c.pdf")
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []


def test_pending_uploads_per_person_are_capped(place, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_PENDING_PER_USER", 2)
    upload(place.channel, place.contact_point)
    upload(place.channel, place.contact_point)
    with pytest.raises(ValidationError) as refused:
        upload(place.channel, place.contact_point)
    assert "waiting to be sent" in refused.value.fields["file"]
    upload(place.channel, place.coordinator)  # the cap is per person


def test_only_people_who_may_write_in_the_channel_upload(place):
    with pytest.raises(Forbidden):
        upload(place.channel, place.observer)


# --- Storage ----------------------------------------------------------------------------------


def test_the_stored_file_is_encrypted_outside_the_web_root_under_a_random_name(
    app, place, upload_folder
):
    stored = upload(place.channel, place.contact_point, "Dossier MLA-7731.pdf", samples.pdf())
    path = attachments.storage_path(stored)
    assert path.parent.parent == upload_folder.resolve()
    assert path.name == stored.storage_key
    assert len(stored.storage_key) == 64
    assert path.parent.name == stored.storage_key[:2]
    assert "MLA" not in str(path)
    static = Path(app.static_folder).resolve()
    assert static not in path.parents
    raw = path.read_bytes()
    assert samples.MARKER not in raw
    assert raw.startswith(b"v1:")
    # The documented format: exactly crypto.encrypt_bytes output under the key's context.
    plaintext = crypto.decrypt_bytes(raw, context=f"attachment:{stored.storage_key}")
    assert plaintext == samples.pdf()
    assert stored.sha256 == hashlib.sha256(samples.pdf()).hexdigest()
    assert stored_files(upload_folder) == [path]  # no temporary file left behind


def test_the_default_upload_folder_is_under_instance_not_static(app):
    from network.config import load_config

    config = load_config({"INSTANCE_PATH": app.config["INSTANCE_PATH"]})
    folder = Path(config["UPLOAD_FOLDER"]).resolve()
    assert folder.parent == Path(app.config["INSTANCE_PATH"]).resolve()
    assert Path(app.static_folder).resolve() not in folder.parents


def test_an_upload_folder_inside_static_is_refused(app, place, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(Path(app.static_folder) / "uploads"))
    with pytest.raises(RuntimeError):
        upload(place.channel, place.contact_point)


def test_a_failed_commit_leaves_no_file_behind(place, upload_folder, monkeypatch):
    from sqlalchemy.exc import OperationalError

    real_commit = _db.session.commit
    files_at_failure: list[Path] = []

    def commit() -> None:
        if _db.session.new:  # the commit of the new rows, after the file was written
            files_at_failure.extend(stored_files(upload_folder))
            raise OperationalError("COMMIT", {}, Exception("disk I/O error"))
        real_commit()

    monkeypatch.setattr(_db.session, "commit", commit)
    with pytest.raises(OperationalError):
        upload(place.channel, place.contact_point)
    monkeypatch.undo()
    assert len(files_at_failure) == 1
    assert stored_files(upload_folder) == []
    assert attachment_count() == 0


def test_content_is_read_back_verified(place):
    stored = upload(place.channel, place.contact_point, "notes.txt", samples.text())
    assert attachments.read_content(stored) == samples.text()


def test_altered_ciphertext_is_refused(place):
    stored = upload(place.channel, place.contact_point)
    path = attachments.storage_path(stored)
    raw = bytearray(path.read_bytes())
    raw[-20] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(attachments.AttachmentDamaged):
        attachments.read_content(stored)


def test_a_file_swapped_for_another_attachments_file_is_refused(place):
    first = upload(place.channel, place.contact_point, "a.pdf", samples.pdf(b"first"))
    second = upload(place.channel, place.contact_point, "b.pdf", samples.pdf(b"second"))
    attachments.storage_path(first).write_bytes(attachments.storage_path(second).read_bytes())
    with pytest.raises(attachments.AttachmentDamaged):
        attachments.read_content(first)


def test_a_wrong_recorded_digest_is_refused(place, db):
    stored = upload(place.channel, place.contact_point)
    stored.sha256 = hashlib.sha256(b"something else").hexdigest()
    db.session.commit()
    with pytest.raises(attachments.AttachmentDamaged):
        attachments.read_content(stored)


def test_a_missing_file_is_refused(place):
    stored = upload(place.channel, place.contact_point)
    assert attachments.delete_stored_file(stored.storage_key)
    assert not attachments.delete_stored_file(stored.storage_key)
    with pytest.raises(attachments.AttachmentDamaged):
        attachments.read_content(stored)


def test_storage_keys_are_checked_before_touching_the_disk():
    with pytest.raises(ValueError, match="storage key"):
        attachments.delete_stored_file("../../../etc/passwd")


def test_a_rewritten_file_replaces_the_old_one_atomically(place, upload_folder):
    stored = upload(place.channel, place.contact_point)
    blob = crypto.encrypt_bytes(samples.pdf(), context=f"attachment:{stored.storage_key}")
    attachments.write_stored_file(stored.storage_key, blob)
    assert attachments.storage_path(stored).read_bytes() == blob
    assert attachments.read_content(stored) == samples.pdf()
    assert len(stored_files(upload_folder)) == 1


def test_iter_all_yields_every_attachment_for_the_key_rotation(place):
    ids = {upload(place.channel, place.contact_point).id for _ in range(3)}
    assert {a.id for a in attachments.iter_all()} == ids


def test_rows_record_uploader_channel_and_a_pending_state(place, db):
    stored = upload(place.channel, place.contact_point)
    row = db.session.scalar(select(Attachment).where(Attachment.id == stored.id))
    assert row.uploader_id == place.contact_point.id
    assert row.channel_id == place.channel.id
    assert row.message_id is None
    assert row.size == len(samples.pdf())
