"""Directory import and export: CSV (with a dry run and a row-by-row report) and vCard 4.0."""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from network import i18n, policy
from network.errors import Forbidden, TooLarge, ValidationError
from network.extensions import db
from network.models.directory import ContactPoint, Network, contact_point_networks
from network.services import directory

log = logging.getLogger(__name__)

COLUMNS = (
    "name",
    "title",
    "institution",
    "authority_type",
    "country",
    "networks",
    "languages",
    "request_languages",
    "channels",
    "expertise",
    "e_signature_accepted",
    "available_24_7",
    "office_hours",
    "office_timezone",
    "email",
    "phones",
    "postal_address",
    "notes",
    "last_confirmed",
)
# The header row of an export is in the reader's language (issue 9); the import reads these
# labels in any of the app's languages as well as the machine keys above.
LABELS = {
    "name": _l("Name"),
    "title": _l("Title"),
    "institution": _l("Institution"),
    "authority_type": _l("Authority type"),
    "country": _l("Country"),
    "networks": _l("Networks"),
    "languages": _l("Languages"),
    "request_languages": _l("Languages in which requests are accepted"),
    "channels": _l("Accepted transmission channels"),
    "expertise": _l("Expertise"),
    "e_signature_accepted": _l("Electronic signature accepted"),
    "available_24_7": _l("Available 24/7"),
    "office_hours": _l("Office hours"),
    "office_timezone": _l("Time zone"),
    "email": _l("E-mail"),
    "phones": _l("Phones"),
    "postal_address": _l("Postal address"),
    "notes": _l("Notes"),
    "last_confirmed": _l("Last confirmed"),
}
REQUIRED_COLUMNS = ("name", "authority_type", "country")
LIST_COLUMNS = {"networks", "languages", "request_languages", "channels", "expertise", "phones"}
MAX_ROWS = 50_000
# A cell starting with one of these is a formula to a spreadsheet program (OWASP "CSV
# injection"); the export puts a "'" in front and the import takes it off again. A cell
# that itself starts with "'" is guarded too, so that the round trip is exact.
_FORMULA_START = ("=", "@", "\t", "\r", "+", "-", "'")
_UID_NAMESPACE = uuid.UUID("7d1f6a52-8c1e-4e47-9a8e-3f0d2a6b9c10")


# --- CSV export ---------------------------------------------------------------------------


def csv_cell(column: str, value: Any) -> str:
    """A value as a CSV cell, guarded against spreadsheet formula injection."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    text = str(value)
    # A cell a spreadsheet would run as a formula gets a leading quote; phone numbers
    # (which start with "+") are checked by the import and are not formulas.
    if text.startswith(_FORMULA_START) and column != "phones":
        text = "'" + text
    return text


def header_row(columns: Iterable[str], labels: Mapping[str, Any]) -> list[str]:
    """The header of a CSV export: each column's label in the current locale (the
    request's), the column key itself where it has no label. Shared by every CSV export."""
    return [str(labels[column]) if column in labels else column for column in columns]


def export_csv(entries: Iterable[ContactPoint]) -> str:
    """The entries as CSV with the import's columns, so an export can be re-imported; the
    header is in the reader's language, which the import reads back (``header_key``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header_row(COLUMNS, LABELS))
    for cp in entries:
        values = directory.snapshot(cp)
        writer.writerow([csv_cell(column, values[column]) for column in COLUMNS])
    return "\ufeff" + buffer.getvalue()  # the BOM lets spreadsheet programs read UTF-8


# --- vCard 4.0 (RFC 6350) -------------------------------------------------------------------


def _escape(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets without splitting a UTF-8 character."""
    out: list[str] = []
    current = ""
    limit = 75
    for ch in line:
        if len((current + ch).encode()) > limit:
            out.append(current)
            current = " " + ch
            limit = 75
        else:
            current += ch
    out.append(current)
    return "\r\n".join(out)


def vcard(cp: ContactPoint) -> str:
    """One entry as a vCard 4.0."""
    country = i18n.country_name(cp.country, "en")
    lines = [
        "BEGIN:VCARD",
        "VERSION:4.0",
        "KIND:individual",
        f"UID:urn:uuid:{uuid.uuid5(_UID_NAMESPACE, str(cp.id))}",
        f"FN:{_escape(cp.name)}",
    ]
    if cp.title:
        lines.append(f"TITLE:{_escape(cp.title)}")
    if cp.institution:
        lines.append(f"ORG:{_escape(cp.institution)}")
    if cp.email:
        lines.append(f"EMAIL;TYPE=work:{_escape(cp.email)}")
    for index, phone in enumerate(cp.phones or [], start=1):
        uri = "tel:" + "".join(ch for ch in phone if ch.isdigit() or ch == "+")
        lines.append(f"TEL;VALUE=uri;TYPE=work,voice;PREF={index}:{uri}")
    if cp.postal_address or cp.country:
        lines.append(f"ADR;TYPE=work:;;{_escape(cp.postal_address)};;;;{_escape(country)}")
    for index, language in enumerate(cp.languages, start=1):
        lines.append(f"LANG;PREF={index}:{language}")
    networks = [n.acronym for n in cp.networks]
    if networks:
        lines.append("CATEGORIES:" + ",".join(_escape(n) for n in networks))
    note = cp.notes
    if cp.available_24_7:
        note = (note + "\n" if note else "") + "Available 24/7 for urgent requests."
    if note:
        lines.append(f"NOTE:{_escape(note)}")
    lines.append(f"REV:{cp.updated_at.strftime('%Y%m%dT%H%M%SZ')}")
    lines.append("END:VCARD")
    return "".join(_fold(line) + "\r\n" for line in lines)


def export_vcards(entries: Iterable[ContactPoint]) -> str:
    return "".join(vcard(cp) for cp in entries)


# --- CSV import ---------------------------------------------------------------------------


@dataclass
class RowError:
    row: int
    column: str
    reason: str


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = True

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "dry_run": self.dry_run,
            "errors": [e.__dict__ for e in self.errors],
        }


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            _('The file is not UTF-8 text. Save it as "CSV UTF-8" and try again.'),
            fields={"file": _("not UTF-8 (byte %(n)d)", n=exc.start + 1)},
        ) from exc


def _unguard(value: str) -> str:
    """Undo the export's formula guard: one leading "'" before a guarded character."""
    if value.startswith("'") and value[1:2] and value[1] in _FORMULA_START:
        return value[1:]
    return value


def _fold_label(text: str) -> str:
    """A header cell compared without case, accents or surrounding spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'")  # typographic apostrophes
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _label_keys() -> dict[str, str]:
    """Every column label in every language of the app, folded, mapped to its column key.

    Built once per app (the labels and languages do not change while it runs). A label
    that two columns share in different languages is left out rather than guessed.
    """
    cached = current_app.extensions.get("directory_csv_labels")
    if cached is not None:
        return cached
    found: dict[str, set[str]] = {}
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            for key, label in LABELS.items():
                found.setdefault(_fold_label(str(label)), set()).add(key)
    mapping = {label: next(iter(keys)) for label, keys in found.items() if len(keys) == 1}
    current_app.extensions["directory_csv_labels"] = mapping
    return mapping


def header_key(cell: str) -> str:
    """The column key a header cell names: a machine key (any case) or a column label in
    any of the app's languages; the folded cell itself when it names no column."""
    folded = _fold_label(cell)
    if folded in COLUMNS:
        return folded
    return _label_keys().get(folded, cell.strip().lower())


def _delimiter(text: str) -> str:
    """The separator of the header row: comma, semicolon or tab (README, "CSV format").

    Column names contain none of them, so the header tells reliably, whereas sniffing
    data rows is fooled by lists such as "fr; en" inside comma-separated cells.
    """
    header = text.split("\n", 1)[0]
    counts = {candidate: header.count(candidate) for candidate in (",", ";", "\t")}
    best = max(counts, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _network_problem(
    slugs: list[str], target: ContactPoint | None, networks: dict[str, Network], actor: Any
) -> str | None:
    """Why a row cannot list these networks, if it cannot: an unknown slug, or a network
    the importer does not manage (unless the entry it updates is already in it)."""
    already = {n.slug for n in target.networks} if target is not None else set()
    for slug in slugs:
        found = networks.get(slug)
        if found is None:
            return _("Unknown network: %(slug)s", slug=slug)
        if slug not in already and not policy.can_manage_directory(actor, found):
            return _("You cannot add entries to %(network)s.", network=found.acronym)
    return None


def import_directory(
    data: bytes,
    network: Network,
    actor: Any,
    *,
    dry_run: bool = True,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Check a CSV file row by row and, unless ``dry_run``, write it in one transaction.

    Nothing is written unless every row is valid. A row whose e-mail matches a current
    entry of ``network`` updates that entry; any other row creates one. ``progress`` is
    called with the number of rows handled since the last call.
    Raises ``Forbidden``, ``TooLarge`` or ``ValidationError`` (for a file that is not a
    readable CSV at all); row problems go into the report.
    """
    if not policy.can_manage_directory(actor, network):
        raise Forbidden()
    if len(data) > current_app.config["MAX_IMPORT_BYTES"]:
        raise TooLarge(
            _(
                "The file is larger than %(size)s.",
                size=i18n.format_file_size(current_app.config["MAX_IMPORT_BYTES"]),
            )
        )
    text = _decode(data)
    if "\x00" in text:
        raise ValidationError(
            _("The file is not a CSV text file."), fields={"file": _("binary content")}
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    report = ImportReport(dry_run=dry_run)
    try:
        header = [header_key(h) for h in next(reader)]
    except StopIteration as exc:
        raise ValidationError(_("The file is empty."), fields={"file": _("no header row")}) from exc
    except csv.Error as exc:
        raise ValidationError(
            _("The file is not a readable CSV."), fields={"file": str(exc)}
        ) from exc
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    duplicated = sorted({h for h in header if header.count(h) > 1})
    for column in unknown:
        report.errors.append(RowError(1, column, _("Unknown column.")))
    for column in missing:
        report.errors.append(RowError(1, column, _("Required column is missing.")))
    for column in duplicated:
        report.errors.append(RowError(1, column, _("Column appears twice.")))
    if report.errors:
        return report

    existing: dict[str, ContactPoint] = dict(
        db.session.execute(
            select(func.lower(ContactPoint.email), ContactPoint)
            .join(contact_point_networks)
            .where(
                contact_point_networks.c.network_id == network.id,
                ContactPoint.succeeded_by_id.is_(None),
                ContactPoint.email != "",
            )
            .options(selectinload(ContactPoint.networks))
        ).all()
    )
    networks = {n.slug: n for n in db.session.scalars(select(Network))}
    seen_emails: dict[str, int] = {}
    cleaned: list[tuple[int, dict[str, Any]]] = []
    row_number = 1
    pending_progress = 0
    try:
        for values in reader:
            row_number = reader.line_num
            pending_progress += 1
            if progress and pending_progress >= 200:
                progress(pending_progress)
                pending_progress = 0
            if not any(v.strip() for v in values):
                continue
            report.rows += 1
            if report.rows > MAX_ROWS:
                report.errors.append(
                    RowError(row_number, "", _("More than %(n)d rows.", n=MAX_ROWS))
                )
                break
            if len(values) != len(header):
                report.errors.append(
                    RowError(
                        row_number,
                        "",
                        _("Expected %(a)d columns, found %(b)d.", a=len(header), b=len(values)),
                    )
                )
                continue
            raw = {
                column: _unguard(value.strip())
                for column, value in zip(header, values, strict=True)
            }
            raw["networks"] = [
                network.slug,
                *[s for s in directory._as_list(raw.get("networks")) if s != network.slug],
            ]
            try:
                clean = directory.clean_contact_point(raw)
            except ValidationError as error:
                for column, reason in error.fields.items():
                    report.errors.append(RowError(row_number, column, reason))
                continue
            email = clean["email"].lower()
            if email:
                if email in seen_emails:
                    report.errors.append(
                        RowError(
                            row_number,
                            "email",
                            _("Same e-mail as row %(n)d.", n=seen_emails[email]),
                        )
                    )
                    continue
                seen_emails[email] = row_number
            problem = _network_problem(raw["networks"], existing.get(email), networks, actor)
            if problem:
                report.errors.append(RowError(row_number, "networks", problem))
                continue
            cleaned.append((row_number, raw))
    except csv.Error as exc:
        report.errors.append(
            RowError(row_number + 1, "", _("Unreadable CSV: %(reason)s", reason=str(exc)))
        )
    if progress and pending_progress:
        progress(pending_progress)

    for _row, raw in cleaned:
        email = str(raw.get("email") or "").strip().lower()
        if email in existing:
            report.updated += 1
        else:
            report.created += 1
    if dry_run or report.errors:
        if report.errors:
            report.created = report.updated = 0
        return report

    try:
        for row, raw in cleaned:
            email = str(raw.get("email") or "").strip().lower()
            try:
                if email in existing:
                    target = existing[email]
                    kept = [n.slug for n in target.networks if n.slug not in raw["networks"]]
                    raw["networks"] = [*raw["networks"], *kept]
                    directory.update_contact_point(target, raw, actor, commit=False)
                else:
                    directory.create_contact_point(raw, actor, commit=False)
            except ValidationError as error:
                for column, reason in error.fields.items():
                    report.errors.append(RowError(row, column, reason))
        if report.errors:
            db.session.rollback()
            report.created = report.updated = 0
            return report
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    log.info(
        "directory import into %s: %d created, %d updated",
        network.slug,
        report.created,
        report.updated,
    )
    return report
