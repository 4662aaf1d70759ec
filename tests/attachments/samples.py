"""Small but well-formed files of each type, and hostile ones, built in memory."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

# A word that must never appear in a stored (encrypted) file.
MARKER = b"EXTRADITION-REQUEST-7731-CONFIDENTIAL"


def pdf(text: bytes = MARKER) -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n% "
        + text
        + b"\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _zip(entries: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            # OpenDocument wants its mimetype first and stored uncompressed.
            kind = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=kind)
    return buffer.getvalue()


_OOXML = "application/vnd.openxmlformats-officedocument"


def _content_types(main: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
        'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/main.xml" ContentType="{main}"/></Types>'
    ).encode()


def docx(text: bytes = MARKER) -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", _content_types(f"{_OOXML}.wordprocessingml.document.main+xml")),
            ("_rels/.rels", b"<Relationships/>"),
            ("word/document.xml", b"<w:document><w:t>" + text + b"</w:t></w:document>"),
        ]
    )


def docm() -> bytes:
    """A Word document with a macro project."""
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types("application/vnd.ms-word.document.macroEnabled.main+xml"),
            ),
            ("word/document.xml", b"<w:document/>"),
            ("word/vbaProject.bin", b"\x00" * 64),
        ]
    )


def xlsx() -> bytes:
    return _zip(
        [
            ("[Content_Types].xml", _content_types(f"{_OOXML}.spreadsheetml.sheet.main+xml")),
            ("xl/workbook.xml", b"<workbook/>"),
        ]
    )


def pptx() -> bytes:
    return _zip(
        [
            (
                "[Content_Types].xml",
                _content_types(f"{_OOXML}.presentationml.presentation.main+xml"),
            ),
            ("ppt/presentation.xml", b"<presentation/>"),
        ]
    )


def odt() -> bytes:
    return _zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.text"),
            ("content.xml", b"<office:document-content/>"),
        ]
    )


def ods() -> bytes:
    return _zip(
        [
            ("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", b"<office:document-content/>"),
        ]
    )


def plain_zip() -> bytes:
    return _zip([("evidence/readme.txt", b"hello"), ("tool.exe", exe())])


def ole(stream: str = "WordDocument") -> bytes:
    """A legacy Office compound file: the header, and the main stream's directory entry."""
    header = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504
    entry = stream.encode("utf-16-le").ljust(64, b"\x00") + b"\x00" * 64
    return header + entry + b"\x00" * 384


def rtf() -> bytes:
    return b"{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times;}} Demande d'entraide.}"


def png() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
        + chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    return bytes.fromhex("FFD8FFE000104A46494600010100000100010000") + b"\x00" * 64 + b"\xff\xd9"


def gif() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"  # noqa: E501


def webp() -> bytes:
    return b"RIFF\x1a\x00\x00\x00WEBPVP8 \x0e\x00\x00\x00" + b"\x00" * 14


def tiff() -> bytes:
    return b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32


def mp3() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + b"\x00" * 64


def ogg() -> bytes:
    return b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead" + b"\x00" * 16


def m4a() -> bytes:
    return b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + b"\x00" * 32


def mp4() -> bytes:
    return b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 32


def wav() -> bytes:
    return b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00" + b"\x00" * 24


def webm() -> bytes:
    return (
        bytes.fromhex("1A45DFA3")
        + b"\x9fB\x86\x81\x01B\xf7\x81\x01B\xf2\x81\x04B\xf3\x81\x08B\x82\x84webmB\x87"
        + b"\x00" * 32
    )


def text() -> bytes:
    return "Demande d'entraide n° 17 — état civil, Łódź\n".encode() + MARKER + b"\n"


def csv() -> bytes:
    return "reference;état\nMLA/2026/17;reçu\n".encode()


def eml() -> bytes:
    return (
        b"From: parquet@example.org\r\nTo: central@example.org\r\n"
        b"Subject: MLA request\r\n\r\nPlease find the request attached.\r\n"
    )


def exe() -> bytes:
    header = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"
    return header + b"\x00" * 50 + b"PE\x00\x00" + b"\x00" * 64


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 100


def html() -> bytes:
    return b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def svg() -> bytes:
    return b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def html_with_pdf_header() -> bytes:
    """A web page that PDF readers also open (they look for %PDF in the first 1024 bytes)."""
    return b"<html><script>alert(1)</script>\n%PDF-1.7\n" + pdf()[9:]


def pdf_with_zip() -> bytes:
    """A PDF with a zip carrying a program appended: a reader of either format opens it."""
    return pdf() + plain_zip()


def jpeg_with_zip() -> bytes:
    return jpeg() + plain_zip()
