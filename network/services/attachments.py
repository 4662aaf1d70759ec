"""Message attachments: upload, type check, encrypted storage, download, deletion, purge.

Life of a file
    A member who may write in a channel uploads files to it (``store_uploads``); each is
    a *pending upload* (``message_id`` None) until a message names it in
    ``attachment_ids`` (``pending_for_send`` checks, ``link`` attaches, both inside the
    one message pipeline). Whoever may read the channel may then download it
    (``policy.can_download_attachment``). Deleting the message deletes its files
    (``discard``). Uploads never sent are removed by ``purge_stale_uploads``, which
    `network purge-expired` calls.

What is accepted
    At most ``MAX_ATTACHMENT_BYTES`` per file (read from the stream, never trusting a
    declared length) and ``MAX_ATTACHMENTS_PER_MESSAGE`` files per upload and per
    message. The type is told from the *content* (``puremagic`` names it, and a strict
    check of each format's structure confirms it), from an allowlist of what judicial
    practitioners exchange: PDF; Word, Excel and PowerPoint (OOXML, without macros, and
    the legacy binary formats); OpenDocument text, spreadsheet and presentation; RTF;
    UTF-8 plain text, CSV and e-mail (.eml) and Outlook messages (.msg); PNG, JPEG, GIF,
    WebP and TIFF images; MP3, M4A/MP4, Ogg/Opus, WAV and WebM voice notes and recordings.
    The name's extension must agree with the content. Programs, scripts, web pages and SVG
    are refused whatever their name, and so are archives (a .zip could carry anything past
    this check: send the documents themselves) and files hiding an archive behind another
    type (a polyglot).

File names
    ``clean_filename`` keeps what a person wrote, accents and non-Latin scripts included
    (werkzeug's ``secure_filename`` would reduce "Requête_Łódź.pdf" to "Requete_odz.pdf"
    and an Arabic or Cyrillic name to nothing), but removes what could deceive or break:
    directories ("../../etc/passwd" becomes "passwd"), control and invisible format
    characters including the bidirectional overrides that make "evil\u202egpj.exe" look
    like "evilexe.jpg", characters Windows forbids, leading dots, and Windows device
    names; it is NFC-normalised and shortened to ``MAX_FILENAME_CHARS`` keeping the
    extension. A name without an extension gets the one of its content.

Storage (outside the web root)
    The content is stored under ``UPLOAD_FOLDER/<storage_key[:2]>/<storage_key>``, where
    ``storage_key`` is ``secrets.token_hex(32)``; ``UPLOAD_FOLDER`` defaults to
    ``instance/uploads`` and is refused if placed inside the static folder. **File
    format:** the file is exactly the output of
    ``crypto.encrypt_bytes(plaintext, context=file_context(storage_key))``, the context
    being ``f"attachment:{storage_key}"`` —
    ``b"v1:" + key id (8 hex) + b":" + 12-byte nonce + AES-GCM ciphertext and tag`` — so a
    file cannot be swapped for another one unnoticed. The key rotation re-encrypts each
    file of ``iter_all()`` with ``read_content`` and ``write_stored_file``. Files are
    written to a temporary name and renamed into place, so a reader never sees half a
    file; the row is committed only after the file is written, and the file removed if
    the commit fails. ``sha256`` is of the plaintext, recorded at upload and verified on
    every read (``read_content``).

Deletion
    ``discard`` deletes the rows in the caller's transaction and the stored files once
    that transaction commits (nothing is removed if it rolls back). A file whose removal
    failed, or whose row went with a message deleted in the database directly, is an
    orphan: ``purge_stale_uploads`` removes orphans too.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import logging
import os
import re
import secrets
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import puremagic
from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from network import crypto, i18n, policy
from network.errors import DomainError, Forbidden, NotFound, TooLarge, ValidationError
from network.extensions import db
from network.models.base import utcnow
from network.models.messaging import Attachment, Channel, Message
from network.services import audit

log = logging.getLogger(__name__)

MAX_FILENAME_CHARS = 150
# Pending uploads one person may hold at once (uploaded, not yet sent): enough for
# several messages, not enough to fill the disk with files nobody will send.
MAX_PENDING_PER_USER = 50
# A stored file without a row is only removed when older than this, so that a file
# written a moment before its row is committed is never taken for an orphan.
ORPHAN_GRACE = timedelta(hours=1)
_CHUNK = 64 * 1024
_STORAGE_KEY = re.compile(r"^[0-9a-f]{64}$")


class AttachmentDamaged(DomainError):
    """The stored file is missing, was altered, or no longer matches its SHA-256: it is not
    served. An integrity failure, not a server fault: the person is told plainly, the
    failure is logged and audited."""

    status = 409
    code = "attachment_damaged"
    default_message = _l(
        "This file failed its integrity check and cannot be downloaded. "
        "The administrators have been told."
    )


class StorageFull(DomainError):
    """The upload folder's disk (or quota) is full: the file was not stored, nothing of it
    is left behind, and the person may try again once room is made (issue 8, faults)."""

    status = 507
    code = "storage_full"
    default_message = _l(
        "There is no room left on the server for this file. Nothing was stored; try again "
        "later. The administrators have been told."
    )


_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


# --- Settings ----------------------------------------------------------------------------


def max_bytes() -> int:
    return int(current_app.config.get("MAX_ATTACHMENT_BYTES", 25 * 1024 * 1024))


def max_parts() -> int:
    return int(current_app.config.get("MAX_ATTACHMENTS_PER_MESSAGE", 10))


def _upload_root() -> Path:
    """The upload folder; never inside the static folder, which the web server serves."""
    root = Path(current_app.config["UPLOAD_FOLDER"]).resolve()
    if current_app.static_folder:
        static = Path(current_app.static_folder).resolve()
        if root == static or static in root.parents:
            raise RuntimeError("UPLOAD_FOLDER must not be inside the static folder")
    return root


# --- File names ----------------------------------------------------------------------------

# Replaced by "_": path separators and what Windows forbids in a name.
_FORBIDDEN_CHARS = frozenset('/\\<>:"|?*')
# Zero-width (non-)joiners are format characters that Persian, Urdu and Indic names need;
# every other invisible format character (bidi controls, BOM, zero-width space…) goes.
_KEPT_FORMAT_CHARS = frozenset("\u200c\u200d")
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul"} | {f"com{n}" for n in range(10)} | {f"lpt{n}" for n in range(10)}
)


def _split_extension(name: str) -> tuple[str, str]:
    """``(stem, extension)``; digits alone are no extension ("Scan 12.05.2026", "v2.3")."""
    stem, dot, extension = name.rpartition(".")
    if (
        dot
        and stem
        and 1 <= len(extension) <= 10
        and extension.isalnum()
        and not extension.isdigit()
    ):
        return stem, extension
    return name, ""


def _shorten(stem: str, extension: str) -> str:
    suffix = f".{extension}" if extension else ""
    room = MAX_FILENAME_CHARS - len(suffix)
    stem = stem[:room]
    # File systems count bytes (255): keep the UTF-8 form well inside that.
    while len((stem + suffix).encode()) > 240:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix


def clean_filename(raw: Any) -> str:
    """A safe display and download name for an uploaded file's name (see the module
    docstring); never empty: "file" stands in for a name with nothing left."""
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]  # the last part of any path, either convention
    kept = []
    for char in name:
        category = unicodedata.category(char)
        if category in {"Zs", "Zl", "Zp"} or char in "\t\n\r\v\f":
            kept.append(" ")
        elif category[0] == "C" and char not in _KEPT_FORMAT_CHARS:
            continue  # control, format (bidi), surrogate, private use, unassigned
        elif char in _FORBIDDEN_CHARS:
            kept.append("_")
        else:
            kept.append(char)
    name = re.sub(r" {2,}", " ", "".join(kept)).strip(" ")
    name = name.lstrip(".").rstrip(". ")  # no hidden files; Windows drops trailing dots
    stem, extension = _split_extension(name)
    if stem.split(".")[0].strip().lower() in _WINDOWS_DEVICES:
        stem = "_" + stem
    if not stem.strip(" ._"):
        stem = "file"
    # Removing characters can leave a letter and a combining mark side by side again.
    return unicodedata.normalize("NFC", _shorten(stem, extension.lower()))


def filename_extension(name: str) -> str:
    return _split_extension(name)[1].lower()


# --- Content types -------------------------------------------------------------------------


@dataclass(frozen=True)
class FileKind:
    label: str  # what the person is told, e.g. "PDF document"
    content_type: str
    extensions: tuple[str, ...]  # the first is added to a name without one


_OOXML = "application/vnd.openxmlformats-officedocument"
_ODF = "application/vnd.oasis.opendocument"
KINDS: dict[str, FileKind] = {
    "pdf": FileKind(_l("PDF document"), "application/pdf", ("pdf",)),
    "docx": FileKind(_l("Word document"), f"{_OOXML}.wordprocessingml.document", ("docx",)),
    "xlsx": FileKind(_l("Excel workbook"), f"{_OOXML}.spreadsheetml.sheet", ("xlsx",)),
    "pptx": FileKind(
        _l("PowerPoint presentation"), f"{_OOXML}.presentationml.presentation", ("pptx",)
    ),
    "odt": FileKind(_l("OpenDocument text"), f"{_ODF}.text", ("odt",)),
    "ods": FileKind(_l("OpenDocument spreadsheet"), f"{_ODF}.spreadsheet", ("ods",)),
    "odp": FileKind(_l("OpenDocument presentation"), f"{_ODF}.presentation", ("odp",)),
    "doc": FileKind(_l("Word 97-2003 document"), "application/msword", ("doc",)),
    "xls": FileKind(_l("Excel 97-2003 workbook"), "application/vnd.ms-excel", ("xls",)),
    "ppt": FileKind(
        _l("PowerPoint 97-2003 presentation"), "application/vnd.ms-powerpoint", ("ppt",)
    ),
    "msg": FileKind(_l("Outlook message"), "application/vnd.ms-outlook", ("msg",)),
    "rtf": FileKind(_l("RTF document"), "application/rtf", ("rtf",)),
    "txt": FileKind(_l("text file"), "text/plain", ("txt",)),
    "csv": FileKind(_l("CSV file"), "text/csv", ("csv",)),
    "eml": FileKind(_l("e-mail message"), "message/rfc822", ("eml",)),
    "png": FileKind(_l("PNG image"), "image/png", ("png",)),
    "jpeg": FileKind(_l("JPEG image"), "image/jpeg", ("jpg", "jpeg")),
    "gif": FileKind(_l("GIF image"), "image/gif", ("gif",)),
    "webp": FileKind(_l("WebP image"), "image/webp", ("webp",)),
    "tiff": FileKind(_l("TIFF image"), "image/tiff", ("tif", "tiff")),
    "mp3": FileKind(_l("MP3 audio"), "audio/mpeg", ("mp3",)),
    "m4a": FileKind(_l("MPEG-4 audio"), "audio/mp4", ("m4a",)),
    "mp4": FileKind(_l("MPEG-4 video"), "video/mp4", ("mp4",)),
    "ogg": FileKind(_l("Ogg audio"), "audio/ogg", ("ogg", "oga", "opus")),
    "wav": FileKind(_l("WAV audio"), "audio/wav", ("wav",)),
    "webm": FileKind(_l("WebM recording"), "video/webm", ("webm",)),
}
# Every allowed extension, and the kinds an extension may hold (m4a and mp4 share a
# container; a recorder may name either).
_KINDS_BY_EXTENSION: dict[str, set[str]] = {}
for _key, _kind in KINDS.items():
    for _extension in _kind.extensions:
        _KINDS_BY_EXTENSION.setdefault(_extension, set()).add(_key)
_KINDS_BY_EXTENSION["m4a"].add("mp4")
_KINDS_BY_EXTENSION["mp4"].add("m4a")

# Byte prefixes of programs: refused whatever the name says (and "MZ", Windows and DOS
# programs, unless what follows is plain text).
_PROGRAM_PREFIXES = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",  # Mach-O
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # Mach-O universal, Java class
    b"#!",  # scripts
    b"\x00asm",  # WebAssembly
)
# What a browser takes for a web page when it sniffs (WHATWG MIME Sniffing, "HTML"), and
# SVG / XML, which carry scripts too; compared after leading whitespace, case-insensitive.
_MARKUP_PREFIXES = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
    b"<?xml",
    b"<svg",
    b"<xsl",
)
_TAG_ENDS = frozenset({b" ", b">", b"\t", b"\n", b"\r", b"\x0c", b"/"})
# Markup and script types, as ``puremagic`` names them (a second opinion on the sniffing
# above). Programs are told by their prefixes instead: puremagic takes any file starting
# with "MZ" for one, and any zip or OLE file for a Java archive or an installer.
_MARKUP_TYPES = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/javascript",
        "application/javascript",
        "application/ecmascript",
        "text/xsl",
        "application/xslt+xml",
        "application/hta",
    }
)
# Control characters (Unicode "Cc") other than tab, line feed, form feed, carriage return.
_TEXT_CONTROLS_REFUSED = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_EMAIL_HEADER = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*:[ \t]")


class _Refused(Exception):
    """Internal: a file's content is not accepted (the message says why)."""


def _markup_start(data: bytes) -> bool:
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c").lower()
    for prefix in _MARKUP_PREFIXES:
        # A tag name ends there (WHATWG's "tag-terminating byte" is a space or ">"; any
        # white space or "/" is taken too, to be on the safe side).
        if head.startswith(prefix) and (
            prefix in {b"<!--", b"<?xml"} or head[len(prefix) : len(prefix) + 1] in _TAG_ENDS
        ):
            return True
    return False


def _puremagic_markup(data: bytes) -> str:
    """The name ``puremagic`` gives the markup or script it recognises in ``data`` ("" when
    it sees none)."""
    try:
        matches = puremagic.magic_string(data)
    except puremagic.PureError:
        return ""
    for match in matches:
        if match.mime_type.lower() in _MARKUP_TYPES:
            return match.name.strip() or match.mime_type
    return ""


def _zip_kind(data: bytes) -> str:
    """An OOXML or OpenDocument file (both are zip files); any other zip is refused. Only
    two small entries are read, and at most a bounded amount of each (no zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if names and names[0] == "mimetype":
                with archive.open("mimetype") as entry:
                    declared = entry.read(100).decode("ascii", "replace").strip()
                for key in ("odt", "ods", "odp"):
                    if declared == KINDS[key].content_type:
                        return key
            if "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise _Refused(_("Documents with macros are not accepted."))
                with archive.open("[Content_Types].xml") as entry:
                    types = entry.read(1_000_000).decode("utf-8", "replace")
                if "macroenabled" in types.lower():
                    raise _Refused(_("Documents with macros are not accepted."))
                for key, part in (
                    ("docx", "wordprocessingml.document.main+xml"),
                    ("xlsx", "spreadsheetml.sheet.main+xml"),
                    ("pptx", "presentationml.presentation.main+xml"),
                ):
                    if f"{_OOXML}.{part}" in types:
                        return key
    except (zipfile.BadZipFile, zipfile.LargeZipFile, KeyError, OSError, EOFError) as exc:
        raise _Refused(_("This archive is damaged.")) from exc
    raise _Refused(_("Archives (.zip) are not accepted: attach the documents themselves."))


def _ole_kind(data: bytes) -> str | None:
    """A legacy Office file (OLE compound file) told apart by its main stream's name;
    one with a macro project is refused."""
    if "_VBA_PROJECT".encode("utf-16-le") in data:
        raise _Refused(_("Documents with macros are not accepted."))
    for key, stream in (
        ("doc", "WordDocument"),
        ("xls", "Workbook"),
        ("xls", "Book"),
        ("ppt", "PowerPoint Document"),
        ("msg", "__substg1.0_"),
    ):
        if stream.encode("utf-16-le") in data:
            return key
    return None


def _text_kind(data: bytes, extension: str) -> str | None:
    """UTF-8 text without NUL or other control characters: plain text, CSV, or an e-mail
    when it starts with header lines (the name decides between text and CSV)."""
    try:
        text = data.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError:
        return None
    if _TEXT_CONTROLS_REFUSED.search(text):
        return None
    if _EMAIL_HEADER.match(data.removeprefix(b"\xef\xbb\xbf")) and extension == "eml":
        return "eml"
    return "csv" if extension == "csv" else "txt"


def _has_hidden_archive(data: bytes) -> bool:
    """A file of another type that is also a readable zip (a polyglot)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return bool(archive.namelist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError):
        return False


def _mpeg_audio_frame(data: bytes) -> bool:
    """An MP3 without ID3 tag starts with a frame header: 11 sync bits, a valid version,
    layer and bitrate."""
    return (
        len(data) >= 4
        and data[0] == 0xFF
        and data[1] & 0xE0 == 0xE0
        and data[1] & 0x18 != 0x08  # version "reserved"
        and data[1] & 0x06 != 0  # layer "reserved"
        and data[2] & 0xF0 != 0xF0  # bitrate "bad"
    )


def _structural_kind(data: bytes, extension: str) -> str | None:
    """The kind whose structure ``data`` has, checked at offset 0 (a reader that looks
    further, as PDF readers do, would let a web page pass as a PDF)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_kind(data)
    if data.startswith(b"{\\rtf"):
        return "rtf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in {b"GIF87a", b"GIF89a"}:
        return "gif"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"RIFF") and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] in {b"II*\x00", b"MM\x00*"}:
        return "tiff"
    if data.startswith(b"ID3") or _mpeg_audio_frame(data):
        return "mp3"
    if data.startswith(b"OggS"):
        return "ogg"
    if data[4:8] == b"ftyp":
        return "m4a" if data[8:12] in {b"M4A ", b"M4B "} else "mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in data[:64]:
        return "webm"
    return _text_kind(data, extension)


def _described(data: bytes) -> str:
    """What ``puremagic`` says the content is, for the person's error message."""
    try:
        matches = puremagic.magic_string(data)
    except puremagic.PureError:
        return ""
    return matches[0].name.strip() if matches else ""


def _windows_program(data: bytes) -> bool:
    """A Windows or DOS program starts with "MZ" and a binary header (a text that merely
    begins with the letters MZ is not one)."""
    head = data[:256]
    return head.startswith(b"MZ") and (not head.isascii() or b"\x00" in head)


def detect_kind(data: bytes, filename: str) -> str:
    """The allowed kind of ``data`` named ``filename`` (a key of ``KINDS``); raises
    ``ValidationError`` (field ``file``) when the content is refused or disagrees with
    the name's extension."""
    extension = filename_extension(filename)

    def refuse(message: str) -> ValidationError:
        return ValidationError(fields={"file": f"{filename}: {message}"})

    if extension and extension not in _KINDS_BY_EXTENSION:
        raise refuse(_("Files of type .%(ext)s are not accepted.", ext=extension))
    if data.startswith(_PROGRAM_PREFIXES) or _windows_program(data):
        raise refuse(_("This file is a program, which is not accepted."))
    if _markup_start(data) or _puremagic_markup(data):
        raise refuse(_("This file is a web page or a script, which is not accepted."))
    try:
        kind = _structural_kind(data, extension)
    except _Refused as refused:
        raise refuse(str(refused.args[0])) from refused
    if kind is None:
        looks_like = _described(data)
        if extension in {"txt", "csv", "eml"} and not looks_like:
            raise refuse(_("Text files are accepted in UTF-8, without control characters."))
        if looks_like:
            raise refuse(
                _("This type of file is not accepted (it looks like: %(what)s).", what=looks_like)
            )
        raise refuse(_("This type of file is not accepted."))
    if kind not in {"docx", "xlsx", "pptx", "odt", "ods", "odp"} and _has_hidden_archive(data):
        raise refuse(_("This file hides an archive inside it and is not accepted."))
    if extension and kind not in _KINDS_BY_EXTENSION[extension]:
        raise refuse(
            _(
                "The content of this file (%(kind)s) does not match its name ending "
                ".%(ext)s. Rename it or send the right file.",
                kind=KINDS[kind].label,
                ext=extension,
            )
        )
    return kind


def content_type_for(kind: str, extension: str) -> str:
    if kind == "m4a" and extension == "mp4":
        return KINDS["mp4"].content_type
    if kind == "mp4" and extension == "m4a":
        return KINDS["m4a"].content_type
    return KINDS[kind].content_type


# --- Storage -------------------------------------------------------------------------------


def _path_for(storage_key: str) -> Path:
    if not _STORAGE_KEY.match(storage_key):
        raise ValueError("not a storage key")
    return _upload_root() / storage_key[:2] / storage_key


def storage_path(attachment: Attachment) -> Path:
    """Where the encrypted content of ``attachment`` is stored."""
    return _path_for(attachment.storage_key)


def file_context(storage_key: str) -> str:
    """The associated data a stored file is sealed with (``crypto.encrypt_bytes``): a file
    copied over another attachment's does not decrypt."""
    return f"attachment:{storage_key}"


def write_stored_file(storage_key: str, blob: bytes) -> Path:
    """Write ``blob`` (``crypto.encrypt_bytes`` output) as the stored file of
    ``storage_key``, atomically: a reader sees the old file or the new one, never a part.
    The key rotation uses it to replace a file with its re-encrypted form."""
    path = _path_for(storage_key)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed before the rename)
        dir=path.parent, prefix=".tmp-", delete=False
    )
    try:
        with handle:
            handle.write(blob)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise
    return path


def delete_stored_file(storage_key: str) -> bool:
    """Remove a stored file; True when there was one. Removing is idempotent."""
    try:
        _path_for(storage_key).unlink()
    except FileNotFoundError:
        return False
    return True


def _damaged(attachment: Attachment, reason: str) -> AttachmentDamaged:
    log.error(
        "attachment %s (channel %s) failed its integrity check: %s",
        attachment.id,
        attachment.channel_id,
        reason,
    )
    return AttachmentDamaged()


def read_content(attachment: Attachment) -> bytes:
    """The plaintext of ``attachment``, decrypted and checked against its SHA-256.

    Raises ``AttachmentDamaged`` (and logs why) when the file is missing, its ciphertext
    does not verify (altered, or moved from another attachment) or the plaintext does not
    match the recorded digest.
    """
    try:
        blob = storage_path(attachment).read_bytes()
    except FileNotFoundError as exc:
        raise _damaged(attachment, "the stored file is missing") from exc
    try:
        data = crypto.decrypt_bytes(blob, context=file_context(attachment.storage_key))
    except ValueError as exc:
        raise _damaged(attachment, f"decryption failed ({exc})") from exc
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), attachment.sha256):
        raise _damaged(attachment, "the SHA-256 of the content does not match")
    return data


def iter_all() -> Iterator[Attachment]:
    """Every attachment (sent or pending), a batch at a time: for the key rotation, which
    rewrites each stored file with ``write_stored_file``."""
    yield from db.session.scalars(
        select(Attachment).order_by(Attachment.id).execution_options(yield_per=200)
    )


# --- Upload ---------------------------------------------------------------------------------


def _read_limited(stream: IO[bytes], limit: int, filename: str) -> bytes:
    """At most ``limit`` bytes of ``stream``; one byte more means the file is too large,
    whatever length the request declared."""
    parts: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    data = b"".join(parts)
    if len(data) > limit:
        raise TooLarge(
            _(
                "%(name)s is larger than %(size)s.",
                name=i18n.isolate(filename, markup=False),
                size=_human_size(limit),
            ),
            fields={"file": _("A file may be at most %(size)s.", size=_human_size(limit))},
        )
    return data


def _human_size(size: int) -> str:
    from network.i18n import format_file_size

    return format_file_size(size)


def _name_and_stream(upload: Any) -> tuple[str, IO[bytes]]:
    """A werkzeug ``FileStorage`` or a ``(filename, bytes or binary stream)`` pair."""
    if isinstance(upload, tuple) and len(upload) == 2:
        name, content = upload
        stream = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
        return str(name or ""), stream
    return str(getattr(upload, "filename", "") or ""), upload.stream


@dataclass
class _Prepared:
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str


def _prepare(upload: Any) -> _Prepared:
    """Read, check, encrypt and write one file; raises ``TooLarge`` or ``ValidationError``."""
    raw_name, stream = _name_and_stream(upload)
    filename = clean_filename(raw_name)
    data = _read_limited(stream, max_bytes(), filename)
    if not data:
        raise ValidationError(
            fields={"file": _("%(name)s is empty.", name=i18n.isolate(filename, markup=False))}
        )
    kind = detect_kind(data, filename)
    extension = filename_extension(filename)
    if not extension:
        filename = _shorten(filename, KINDS[kind].extensions[0])
        extension = KINDS[kind].extensions[0]
    storage_key = secrets.token_hex(32)
    try:
        write_stored_file(
            storage_key, crypto.encrypt_bytes(data, context=file_context(storage_key))
        )
    except OSError as exc:
        if exc.errno not in _NO_ROOM:
            raise
        # write_stored_file removed its temporary file: no part of this one is left.
        log.error("the upload folder is full: a file of %d bytes was not stored", len(data))
        raise StorageFull(fields={"file": str(StorageFull.default_message)}) from exc
    return _Prepared(
        filename=filename,
        content_type=content_type_for(kind, extension),
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        storage_key=storage_key,
    )


def _pending_count(user: Any) -> int:
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Attachment)
            .where(Attachment.uploader_id == user.id, Attachment.message_id.is_(None))
        )
        or 0
    )


def store_uploads(channel: Channel, user: Any, uploads: Iterable[Any]) -> list[Attachment]:
    """Store files uploaded to ``channel`` as pending uploads of ``user``, all or none.

    Each upload is a werkzeug ``FileStorage`` or a ``(filename, bytes or stream)`` pair.
    Raises ``Forbidden`` (the user may not write in the channel), ``TooLarge`` (a file over
    the size limit, or more files than a message may carry) or ``ValidationError`` (an
    empty file, a refused type, too many pending uploads).
    """
    if not policy.can_write_channel(user, channel):
        raise Forbidden(_("You can read this channel but not send files to it."))
    uploads = list(uploads)
    if not uploads:
        raise ValidationError(fields={"file": _("Choose a file to send.")})
    if len(uploads) > max_parts():
        raise TooLarge(
            _("Send at most %(n)d files at once.", n=max_parts()),
            fields={"file": _("Send at most %(n)d files at once.", n=max_parts())},
        )
    if _pending_count(user) + len(uploads) > MAX_PENDING_PER_USER:
        raise ValidationError(
            fields={"file": _("You have too many files waiting to be sent. Send them first.")}
        )
    channel_id, user_id = channel.id, user.id
    # End the read-only part of the transaction before the files are read and written: on
    # SQLite a read transaction that later writes fails if another writer came between.
    db.session.commit()
    written: list[_Prepared] = []
    try:
        for upload in uploads:
            written.append(_prepare(upload))
        rows = [
            Attachment(
                channel_id=channel_id,
                uploader_id=user_id,
                filename=p.filename,
                content_type=p.content_type,
                size=p.size,
                sha256=p.sha256,
                storage_key=p.storage_key,
            )
            for p in written
        ]
        db.session.add_all(rows)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for prepared in written:
            delete_stored_file(prepared.storage_key)
        raise
    for row in rows:
        log.info(
            "user %s uploaded attachment %s (%s bytes) to channel %s",
            user_id,
            row.id,
            row.size,
            channel_id,
        )
    return rows


def store_upload(channel: Channel, user: Any, upload: Any) -> Attachment:
    """Store one file (see ``store_uploads``)."""
    return store_uploads(channel, user, [upload])[0]


def discard_pending(attachment_id: Any, user: Any) -> None:
    """The uploader removes an upload not yet sent (a file taken out of the composer).
    Raises ``NotFound`` for anything else, so ids cannot be probed."""
    attachment = (
        db.session.get(Attachment, attachment_id)
        if isinstance(attachment_id, int) and not isinstance(attachment_id, bool)
        else None
    )
    if (
        attachment is None
        or attachment.message_id is not None
        or not policy.is_signed_in(user)
        or attachment.uploader_id != user.id
    ):
        raise NotFound(_("No such file."))
    _remove_after_commit(db.session(), [attachment.storage_key])
    db.session.delete(attachment)
    db.session.commit()


# --- Download --------------------------------------------------------------------------------


def get_for_download(attachment_id: Any, user: Any) -> tuple[Attachment, bytes]:
    """A file the user may download, with its verified content; the download is audited.

    Raises ``NotFound`` (no such file, or not readable by the user: ids cannot be probed;
    a signed-in person's refused attempt is audited) or ``AttachmentDamaged``.
    """
    attachment = (
        db.session.get(Attachment, attachment_id)
        if isinstance(attachment_id, int) and not isinstance(attachment_id, bool)
        else None
    )
    if attachment is None or not policy.can_download_attachment(user, attachment):
        if attachment is not None and policy.is_signed_in(user):
            audit.record_channel_event(
                user, "attachment.access_denied", attachment.channel, attachment_id=attachment.id
            )
            db.session.commit()
        raise NotFound(_("No such file."))
    try:
        data = read_content(attachment)
    except AttachmentDamaged:
        audit.record_channel_event(
            user, "attachment.integrity_failed", attachment.channel, attachment_id=attachment.id
        )
        db.session.commit()
        raise
    audit.record_channel_event(
        user, "attachment.download", attachment.channel, attachment_id=attachment.id
    )
    db.session.commit()
    return attachment, data


def download_url(attachment: Attachment) -> str:
    if has_request_context():
        return url_for("attachments.download", attachment_id=attachment.id)
    return f"/attachments/{attachment.id}/download"


# --- The message pipeline ----------------------------------------------------------------------


def pending_for_send(attachment_ids: Any, author: Any, channel: Channel) -> list[Attachment]:
    """The uploads named by ``attachment_ids`` (None or a list of ids), checked: each was
    uploaded by ``author`` to ``channel`` and is not yet part of a message. Raises
    ``ValidationError``."""
    if attachment_ids in (None, []):
        return []
    limit = max_parts()
    if (
        not isinstance(attachment_ids, list)
        or not all(isinstance(i, int) and not isinstance(i, bool) for i in attachment_ids)
        or not all(0 < i < 2**31 for i in attachment_ids)
    ):
        raise ValidationError(fields={"attachment_ids": _("Give a list of file ids.")})
    if len(attachment_ids) > limit:
        raise ValidationError(
            fields={"attachment_ids": _("A message carries at most %(n)d files.", n=limit)}
        )
    if len(set(attachment_ids)) != len(attachment_ids):
        raise ValidationError(fields={"attachment_ids": _("A file is listed twice.")})
    found = {
        a.id: a
        for a in db.session.scalars(select(Attachment).where(Attachment.id.in_(attachment_ids)))
    }
    usable = [
        found[i]
        for i in attachment_ids
        if i in found
        and found[i].uploader_id == author.id
        and found[i].channel_id == channel.id
        and found[i].message_id is None
    ]
    if len(usable) != len(attachment_ids):
        # One message for all cases: someone else's upload is not told apart from none.
        raise ValidationError(
            fields={
                "attachment_ids": _(
                    "Only files you uploaded to this channel and have not sent yet can be attached."
                )
            }
        )
    return usable


def by_ids(ids: list[int]) -> list[Attachment]:
    """The uploads with these ids, loaded in the current (writing) transaction."""
    if not ids:
        return []
    return list(
        db.session.scalars(select(Attachment).where(Attachment.id.in_(ids)).order_by(Attachment.id))
    )


def link(message: Message, attachments: list[Attachment]) -> None:
    """Make the uploads part of ``message`` (in the current transaction).

    Only uploads still pending, by the message's author, in its channel are taken: two
    sends racing for the same upload cannot both have it. When one of them was taken
    meanwhile, the transaction is rolled back and ``ValidationError`` raised.
    """
    if not attachments:
        return
    ids = [a.id for a in attachments]
    taken = db.session.execute(
        update(Attachment)
        .where(
            Attachment.id.in_(ids),
            Attachment.message_id.is_(None),
            Attachment.channel_id == message.channel_id,
            Attachment.uploader_id == message.author_id,
        )
        .values(message_id=message.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken != len(ids):
        db.session.rollback()
        raise ValidationError(
            fields={"attachment_ids": _("One of these files was sent with another message.")}
        )
    for attachment in attachments:
        # What the UPDATE did, told to the loaded objects without issuing another.
        set_committed_value(attachment, "message_id", message.id)


def discard(message: Message) -> None:
    """A deleted message loses its files: the rows go in the caller's transaction, the
    stored files once it commits (kept if it rolls back)."""
    rows = list(db.session.scalars(select(Attachment).where(Attachment.message_id == message.id)))
    if not rows:
        return
    _remove_after_commit(db.session(), [a.storage_key for a in rows])
    for attachment in rows:
        db.session.delete(attachment)
    log.info("message %s lost its %d attachment(s)", message.id, len(rows))


def payload(attachment: Attachment) -> dict[str, Any]:
    """An attachment as the API and the socket events carry it."""
    return {
        "id": attachment.id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "url": download_url(attachment),
    }


# --- Removal after commit, purge ----------------------------------------------------------------

_PENDING_REMOVALS = "attachments.remove_after_commit"


def _remove_after_commit(session: Session, storage_keys: list[str]) -> None:
    session.info.setdefault(_PENDING_REMOVALS, []).extend(storage_keys)


@event.listens_for(Session, "after_commit")
def _remove_files_after_commit(session: Session) -> None:
    for storage_key in session.info.pop(_PENDING_REMOVALS, []):
        try:
            delete_stored_file(storage_key)
        except OSError:
            # The row is gone; the file is an orphan that purge_stale_uploads removes.
            log.warning("could not remove the stored file of a deleted attachment", exc_info=True)


@event.listens_for(Session, "after_soft_rollback")
def _keep_files_after_rollback(session: Session, previous_transaction: Any) -> None:
    # Any rollback, even of a savepoint, keeps the files: at worst they become orphans
    # for the purge, never a row without its file.
    session.info.pop(_PENDING_REMOVALS, None)


def purge_stale_uploads(older_than: timedelta) -> int:
    """Remove uploads never sent that are older than ``older_than``, and stored files that
    no row names (older than ``older_than`` and at least ``ORPHAN_GRACE``, so a file being
    uploaded right now is safe); returns how many files were removed.

    Safe while the server runs: a row is deleted only if it is still pending at the
    moment of the delete, and files go after the commit.
    """
    cutoff = utcnow() - older_than
    stale = list(
        db.session.execute(
            select(Attachment.id, Attachment.storage_key).where(
                Attachment.message_id.is_(None), Attachment.created_at < cutoff
            )
        ).all()
    )
    removed_rows = 0
    if stale:
        removed_rows = db.session.execute(
            delete(Attachment)
            .where(Attachment.id.in_([row.id for row in stale]), Attachment.message_id.is_(None))
            .execution_options(synchronize_session=False)
        ).rowcount
        # Keys of rows sent meanwhile are still named by a row: the orphan check keeps them.
        db.session.commit()
        for row in stale:
            if not _is_referenced(row.storage_key):
                delete_stored_file(row.storage_key)
    orphans = _sweep_orphans(max(older_than, ORPHAN_GRACE))
    if removed_rows or orphans:
        log.info("purged %d stale upload(s) and %d orphan file(s)", removed_rows, orphans)
    return removed_rows + orphans


def _is_referenced(storage_key: str) -> bool:
    return (
        db.session.scalar(select(Attachment.id).where(Attachment.storage_key == storage_key))
        is not None
    ) or any(
        db.session.scalar(select(column).where(column == storage_key)) is not None
        for column in _STORAGE_OWNERS
    )


def _sweep_orphans(min_age: timedelta) -> int:
    root = _upload_root()
    if not root.is_dir():
        return 0
    deadline = time.time() - min_age.total_seconds()
    candidates: list[Path] = []
    for folder in root.iterdir():
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        for path in folder.iterdir():
            try:
                old = path.stat().st_mtime < deadline
            except FileNotFoundError:
                continue
            if old and (_STORAGE_KEY.match(path.name) or path.name.startswith(".tmp-")):
                candidates.append(path)
    removed = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        named = set(
            db.session.scalars(
                select(Attachment.storage_key).where(
                    Attachment.storage_key.in_([p.name for p in batch])
                )
            )
        )
        for column in _STORAGE_OWNERS:
            named.update(
                db.session.scalars(select(column).where(column.in_([p.name for p in batch])))
            )
        for path in batch:
            if path.name not in named:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed += 1
    db.session.commit()
    return removed


# --- Files of other domains (meeting documents, training materials) -------------------------
# Files that belong to something other than a message go through the same checks,
# encryption and storage: ``store_file`` checks, encrypts and writes one upload (the caller
# records the returned name, type, size, SHA-256 and storage key in a row of its own, and
# calls ``delete_stored_file`` if that row is not committed); ``read_stored_file`` reads it
# back verified. The owning domain registers its ``storage_key`` column (its table has a
# ``sha256`` and an ``id`` column too): the orphan sweep of ``purge_stale_uploads`` then
# keeps those files, and ``network rotate-key`` seals them again with the rest.

StoredFile = _Prepared
_STORAGE_OWNERS: list[Any] = []


def register_storage_owner(column: Any) -> None:
    """Declare a column naming stored files (idempotent)."""
    if not any(column is known for known in _STORAGE_OWNERS):
        _STORAGE_OWNERS.append(column)


def store_file(upload: Any) -> StoredFile:
    """Read, check (size, type from content), encrypt and write one upload; returns its
    ``filename, content_type, size, sha256, storage_key``. Raises ``TooLarge`` or
    ``ValidationError``."""
    return _prepare(upload)


def read_stored_file(storage_key: str, sha256: str) -> bytes:
    """The verified plaintext of a file stored with ``store_file``; raises
    ``AttachmentDamaged`` when missing, altered or not matching ``sha256``."""
    try:
        blob = _path_for(storage_key).read_bytes()
        data = crypto.decrypt_bytes(blob, context=file_context(storage_key))
    except (FileNotFoundError, ValueError) as exc:
        log.error("stored file %s failed its integrity check: %s", storage_key[:8], exc)
        raise AttachmentDamaged() from exc
    if not secrets.compare_digest(hashlib.sha256(data).hexdigest(), sha256):
        log.error("stored file %s failed its integrity check: SHA-256 differs", storage_key[:8])
        raise AttachmentDamaged()
    return data


def _stored_key_id(storage_key: str) -> str | None:
    try:
        with open(_path_for(storage_key), "rb") as handle:
            return crypto.key_id_of(handle.read(16))
    except (FileNotFoundError, ValueError):
        return None


def _owned_files() -> Iterator[tuple[str, Any, str, str]]:
    """(table name, row id, storage key, sha256) of every registered domain's file."""
    for column in _STORAGE_OWNERS:
        table = column.table
        rows = list(db.session.execute(select(table.c.id, column, table.c.sha256)))
        db.session.commit()
        for row_id, storage_key, sha256 in rows:
            yield table.name, row_id, storage_key, sha256


def stale_owned_files(key_id: str) -> int:
    """How many files of other domains are sealed under another key than ``key_id``."""
    return sum(1 for _t, _i, key, _s in _owned_files() if _stored_key_id(key) not in (key_id, None))


def reencrypt_owned_files(key_id: str, failed: set[str]) -> int:
    """Seal every file of other domains again under ``key_id`` (``network rotate-key``);
    a file that does not open is added to ``failed``. Returns how many were rewritten."""
    done = 0
    for table, row_id, storage_key, sha256 in _owned_files():
        if _stored_key_id(storage_key) in (key_id, None):
            continue
        try:
            plaintext = read_stored_file(storage_key, sha256)
        except AttachmentDamaged:
            failed.add(f"{table}:{row_id}")
            continue
        write_stored_file(
            storage_key, crypto.encrypt_bytes(plaintext, context=file_context(storage_key))
        )
        done += 1
    return done
