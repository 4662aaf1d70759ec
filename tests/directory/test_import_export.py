"""CSV import (web page) with its row report, and the CSV and vCard exports."""

from __future__ import annotations

import csv
import io
import re

import pytest
import vobject
from sqlalchemy import func, select

from network.extensions import db as _db
from network.models.directory import ContactPoint
from network.models.people import AuditEvent
from network.services import directory, directory_io

HEADER = "name,authority_type,country,email,phones,expertise,languages,notes"
GOOD_ROWS = [
    "Ama Owusu,central_authority,GH,ama.owusu@example.org,+000 233 1111,mla;extradition,en,",
    "Kojo Asante,prosecution,GH,kojo.asante@example.org,+000 233 2222,confiscation,en,",
    'Adjoa "Ada" Mensah,judiciary,GH,adjoa.mensah@example.org,+000 233 3333,mla,en;fr,"a, b"',
]


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode()


def entry_count() -> int:
    return _db.session.scalar(select(func.count()).select_from(ContactPoint)) or 0


def audit_count() -> int:
    return _db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


@pytest.fixture
def importer(client, login, make_network, make_user, pages):
    """Upload a file on /directory/import as the secretariat of ``alpha``."""
    network = make_network("alpha", acronym="ALPHA", states="GH SN")
    login(client, make_user("secretariat", network))

    def upload(data: bytes, *, dry_run: bool = False, filename: str = "contacts.csv"):
        token = pages.form_token(client, "/directory/import")
        form = {
            "csrf_token": token,
            "network": "alpha",
            "file": (io.BytesIO(data), filename),
        }
        if dry_run:
            form["dry_run"] = "y"
        return client.post("/directory/import", data=form, content_type="multipart/form-data")

    return upload


def report_rows(page: str) -> list[tuple[str, str, str]]:
    """(row, column, problem) of the error table."""
    table = re.search(r'<table class="table" id="import-errors">(.*?)</table>', page, re.S)
    if not table:
        return []
    return [
        tuple(cell.strip() for cell in row)
        for row in re.findall(
            r"<tr><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>", table.group(1), re.S
        )
    ]


# --- Import through the web page -------------------------------------------------------


def test_a_valid_file_creates_entries(client, importer, pages):
    before = entry_count()
    response = importer(csv_bytes(*GOOD_ROWS))
    assert response.status_code == 200
    page = pages.text(response)
    assert "Imported: 3 created, 0 updated." in page
    assert entry_count() == before + 3
    body = client.get("/api/v1/contact-points?country=GH&sort=name").get_json()
    assert [i["name"] for i in body["items"]] == [
        'Adjoa "Ada" Mensah',
        "Ama Owusu",
        "Kojo Asante",
    ]
    ama = body["items"][1]
    assert ama["networks"] == ["alpha"]
    assert ama["expertise"] == ["mla", "extradition"]
    assert ama["phone"] == "+000 233 1111"


def test_dry_run_reports_and_writes_nothing(importer, pages):
    before = (entry_count(), audit_count())
    response = importer(csv_bytes(*GOOD_ROWS), dry_run=True)
    assert response.status_code == 200
    page = pages.text(response)
    assert "The file is valid." in page
    assert "Would create 3 and update 0 entries." in page
    assert (entry_count(), audit_count()) == before


def test_dry_run_reports_every_bad_row_with_row_column_and_reason(importer, pages):
    rows = [
        GOOD_ROWS[0],
        "Bad Mail,prosecution,GH,not-an-address,+000 233 4444,mla,en,",
        "Bad Country,prosecution,XX,bad.country@example.org,+000 233 5555,mla,en,",
        "Bad Phone,prosecution,GH,bad.phone@example.org,12345,mla,en,",
        "Bad Code,unknown_type,GH,bad.code@example.org,+000 233 6666,astrology,zz,",
        ",prosecution,GH,no.name@example.org,+000 233 7777,mla,en,",
        GOOD_ROWS[1],
        "Same Mail,prosecution,GH,AMA.OWUSU@example.org,+000 233 8888,mla,en,",
        "Too Few,prosecution",
        "x" * 201 + ",prosecution,GH,long@example.org,,,,",
    ]
    before = entry_count()
    response = importer(csv_bytes(*rows), dry_run=True)
    assert response.status_code == 422
    page = pages.text(response)
    assert "The file has errors: nothing was written." in page
    found = report_rows(page)
    got = {(int(row), column) for row, column, _reason in found}
    assert got == {
        (3, "email"),
        (4, "country"),
        (5, "phones"),
        (6, "authority_type"),
        (6, "expertise"),
        (6, "languages"),
        (7, "name"),
        (9, "email"),
        (10, "—"),
        (11, "name"),
    }
    reasons = {(int(row), column): reason for row, column, reason in found}
    assert "valid e-mail" in reasons[(3, "email")]
    assert "Same e-mail as row 2" in reasons[(9, "email")]
    assert "Expected 8 columns, found 2" in reasons[(10, "—")]
    assert "200 characters" in reasons[(11, "name")]
    assert "astrology" in reasons[(6, "expertise")]
    assert entry_count() == before


def test_one_bad_row_among_good_ones_writes_nothing(importer, pages):
    rows = [*GOOD_ROWS, "Bad Phone,prosecution,GH,bad.phone@example.org,12345,mla,en,"]
    before = (entry_count(), audit_count())
    response = importer(csv_bytes(*rows))  # not a dry run
    assert response.status_code == 422
    assert report_rows(pages.text(response))[0][:2] == ("5", "phones")
    assert (entry_count(), audit_count()) == before


def test_re_import_updates_entries_by_email(client, importer, pages):
    importer(csv_bytes(*GOOD_ROWS))
    before = entry_count()
    changed = (
        GOOD_ROWS[0].replace("+000 233 1111", "+000 233 9999").replace("ama.owusu@", "Ama.Owusu@")
    )
    response = importer(csv_bytes(changed, "New Person,judiciary,GH,new@example.org,,,,"))
    assert "Imported: 1 created, 1 updated." in pages.text(response)
    assert entry_count() == before + 1
    body = client.get("/api/v1/contact-points?q=owusu").get_json()
    assert body["total"] == 1
    assert body["items"][0]["phone"] == "+000 233 9999"
    page = pages.text(client.get(f"/directory/{body['items'][0]['id']}"))
    assert "+000 233 1111" in page.split("History of changes")[1]  # the before value


def test_semicolon_separated_file_with_bom_is_read(importer, pages):
    data = "\ufeffname;authority_type;country;languages\nÉlodie Sène;prosecution;SN;fr\n"
    response = importer(data.encode())
    assert "Imported: 1 created, 0 updated." in pages.text(response)


def test_comma_file_with_lists_is_not_mistaken_for_semicolons(importer, pages):
    data = (
        "name,authority_type,country,languages,expertise\n"
        'A One,prosecution,SN,"fr; en",mla; extradition\n'
        "B Two,judiciary,SN,fr; en,mla\n"
    )
    response = importer(data.encode())
    assert "Imported: 2 created, 0 updated." in pages.text(response)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        ("\ufeff".encode(), "The file is empty."),
        (b"name,authority_type,country\nGon\xe7alves,prosecution,PT\n", "not UTF-8"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "not UTF-8"),
        (b"name,authority_type,country\n\x00\x01\x02\x03,prosecution,SN\n", "not a CSV text"),
    ],
)
def test_unreadable_files_get_a_clear_message(importer, pages, data, message):
    before = entry_count()
    response = importer(data)
    assert response.status_code == 422
    assert message in pages.flashes(pages.text(response))
    assert entry_count() == before


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"name,authority_type,country,favourite_colour\nA,prosecution,SN,blue\n",
            [("1", "favourite_colour", "Unknown column.")],
        ),
        (
            b"name,country\nA,SN\n",
            [("1", "authority_type", "Required column is missing.")],
        ),
        (
            b"name,authority_type,country,name\nA,prosecution,SN,B\n",
            [("1", "name", "Column appears twice.")],
        ),
        (
            b'name,authority_type,country\n"Closed"junk,prosecution,SN\n',
            [("2", "—", "Unreadable CSV")],
        ),
        (
            b'name,authority_type,country\nA,prosecution,SN\n"Never closed,prosecution,SN\n',
            [("3", "—", "Unreadable CSV")],
        ),
        (
            b"name,authority_type,country\nA,prosecution,SN,extra,cells\n",
            [("2", "—", "Expected 3 columns, found 5.")],
        ),
        (b"just some words\nand more\n", [("1", "name", "Required column is missing.")]),
    ],
)
def test_malformed_csv_is_reported_and_nothing_written(importer, pages, data, expected):
    before = entry_count()
    response = importer(data)
    assert response.status_code == 422
    found = report_rows(pages.text(response))
    for row, column, reason in expected:
        assert any(f[0] == row and f[1] == column and reason in f[2] for f in found), found
    assert entry_count() == before


def test_an_oversize_file_is_refused_before_reading_it(app, importer, pages, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_IMPORT_BYTES", 200)
    data = csv_bytes(*GOOD_ROWS * 3)
    assert len(data) > 200
    before = entry_count()
    response = importer(data)
    assert response.status_code == 413
    assert "The file is larger than" in pages.flashes(pages.text(response))
    assert entry_count() == before


def test_secretariat_cannot_import_into_another_network(client, importer, make_network, pages):
    make_network("other")
    token = pages.form_token(client, "/directory/import")
    response = client.post(
        "/directory/import",
        data={
            "csrf_token": token,
            "network": "other",
            "file": (io.BytesIO(csv_bytes(*GOOD_ROWS)), "x.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "Not a valid choice" in pages.text(response)
    assert entry_count() == 0


def test_secretariat_cannot_import_rows_into_networks_they_do_not_run(
    importer, make_network, pages
):
    make_network("other")
    data = b"name,authority_type,country,networks\nA,prosecution,SN,alpha; other\n"
    before = entry_count()
    response = importer(data)
    assert response.status_code == 422
    row, column, reason = report_rows(pages.text(response))[0]
    assert (row, column) == ("2", "networks")
    assert "You cannot add entries to OTHER" in reason
    assert entry_count() == before


def test_dry_run_reports_rows_with_unknown_or_foreign_networks(importer, make_network, pages):
    make_network("other", acronym="OTHER")
    data = (
        b"name,authority_type,country,networks\n"
        b"A,prosecution,SN,alpha\n"
        b"B,prosecution,SN,alpha; other\n"
        b"C,prosecution,SN,atlantis\n"
    )
    before = entry_count()
    response = importer(data, dry_run=True)
    assert response.status_code == 422
    found = report_rows(pages.text(response))
    assert [(row, column) for row, column, _reason in found] == [
        ("3", "networks"),
        ("4", "networks"),
    ]
    assert "You cannot add entries to OTHER" in found[0][2]
    assert "Unknown network: atlantis" in found[1][2]
    assert entry_count() == before


def test_contact_point_cannot_import(client, login, world):
    login(client, world.member)
    assert client.get("/directory/import").status_code == 403


# --- Export ----------------------------------------------------------------------------


def exported_rows(response) -> list[dict[str, str]]:
    """The rows of an export, keyed by column key (the header is in the reader's language)."""
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [directory_io.header_key(cell) for cell in next(reader)]
    assert set(header) <= set(directory_io.COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in reader]


def test_csv_export_follows_the_search_and_the_readers_networks(client, login, world):
    login(client, world.member)
    response = client.get("/directory/export.csv?country=SN")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert {r["name"] for r in exported_rows(response)} == {"Moussa Diallo", "Fatou Ndiaye"}
    everything = {r["name"] for r in exported_rows(client.get("/directory/export.csv"))}
    assert "Hidden Outsider" not in everything
    assert "Former Predecessor" not in everything
    assert len(everything) == 5


def test_csv_export_guards_formulas_and_import_undoes_the_guard(
    client, login, make_network, make_user, make_contact_point, pages
):
    network = make_network("alpha", acronym="ALPHA")
    names = ['=HYPERLINK("http://evil.example.org","x")', "+1 plus", "-minus", "@at", "'quoted"]
    for index, name in enumerate(names):
        make_contact_point(
            name=name, networks=["alpha"], notes="=1+2", email=f"f{index}@example.org"
        )
    login(client, make_user("secretariat", network))
    rows = exported_rows(client.get("/directory/export.csv"))
    cells = {r["email"]: r for r in rows}
    for index, name in enumerate(names):
        row = cells[f"f{index}@example.org"]
        assert row["name"] == "'" + name
        assert row["notes"] == "'=1+2"
        assert row["phones"].startswith("+000")  # phones are validated, not guarded
    # re-importing the export gives the names back exactly, changing nothing
    data = client.get("/directory/export.csv").get_data()
    token = pages.form_token(client, "/directory/import")
    response = client.post(
        "/directory/import",
        data={"csrf_token": token, "network": "alpha", "file": (io.BytesIO(data), "e.csv")},
        content_type="multipart/form-data",
    )
    assert "Imported: 0 created, 5 updated." in pages.text(response)
    _db.session.expire_all()
    stored = set(_db.session.scalars(select(ContactPoint.name)))
    assert set(names) <= stored


def test_csv_export_round_trips_through_the_import(client, login, world, make_user, pages):
    """Export a search, import it again: every value reads back identical."""
    login(client, make_user("secretariat", world.alpha))
    response = client.get("/directory/export.csv?network=alpha")
    data = response.get_data()
    rows = exported_rows(response)
    assert len(rows) == 4
    snapshots = {
        cp.email: directory.snapshot(cp)
        for cp in _db.session.scalars(
            select(ContactPoint).where(ContactPoint.succeeded_by_id.is_(None))
        )
    }
    events_before = audit_count()
    token = pages.form_token(client, "/directory/import")
    response = client.post(
        "/directory/import",
        data={"csrf_token": token, "network": "alpha", "file": (io.BytesIO(data), "e.csv")},
        content_type="multipart/form-data",
    )
    assert "Imported: 0 created, 4 updated." in pages.text(response)
    assert audit_count() == events_before  # no value changed, so no edit was recorded
    _db.session.expire_all()
    for cp in _db.session.scalars(
        select(ContactPoint).where(ContactPoint.succeeded_by_id.is_(None))
    ):
        assert directory.snapshot(cp) == snapshots[cp.email]


def test_a_french_export_has_a_french_header_and_re_imports_unchanged(
    client, login, world, make_user, pages
):
    """Issue 9: the header follows the reader's language and the import still reads it."""
    login(client, make_user("secretariat", world.alpha))
    french = {"Accept-Language": "fr"}
    response = client.get("/directory/export.csv?network=alpha", headers=french)
    data = response.get_data()
    header = next(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert header[0] == "Nom"
    assert header[3:5] == ["Type d\u2019autorité", "Pays"]
    assert "Courriel" in header
    assert not set(header) & set(directory_io.COLUMNS)
    snapshots = {
        cp.email: directory.snapshot(cp)
        for cp in _db.session.scalars(
            select(ContactPoint).where(ContactPoint.succeeded_by_id.is_(None))
        )
    }
    events_before = audit_count()
    for dry_run in (True, False):
        form = {"csrf_token": pages.form_token(client, "/directory/import"), "network": "alpha"}
        form["file"] = (io.BytesIO(data), "e.csv")
        if dry_run:
            form["dry_run"] = "y"
        response = client.post("/directory/import", data=form, content_type="multipart/form-data")
        assert response.status_code == 200
        assert report_rows(response.get_data(as_text=True)) == []
    assert "Imported: 0 created, 4 updated." in pages.text(response)
    assert audit_count() == events_before  # nothing changed
    _db.session.expire_all()
    for cp in _db.session.scalars(
        select(ContactPoint).where(ContactPoint.succeeded_by_id.is_(None))
    ):
        assert directory.snapshot(cp) == snapshots[cp.email]


def test_an_arabic_header_is_imported(client, importer, pages):
    header = " الاسم ,نوع السلطة,البلد,البريد الإلكتروني"  # name, authority type, country, e-mail
    response = importer(
        csv_bytes("Ama Owusu,central_authority,GH,ama.owusu@example.org", header=header)
    )
    assert "Imported: 1 created, 0 updated." in pages.text(response)
    assert entry_count() == 1


def test_labels_in_other_languages_and_unknown_headers(importer, pages):
    """Keys, labels of any language (any case, accents or not) mix; unknown ones are
    reported as before."""
    header = "NAME,Type d'autorite,país,Фамилия,email"
    response = importer(csv_bytes("Ama Owusu,central_authority,GH,x,a@example.org", header=header))
    assert ("1", "фамилия", "Unknown column.") in report_rows(response.get_data(as_text=True))
    assert entry_count() == 0


# --- vCard -----------------------------------------------------------------------------


def test_vcard_export_of_a_search(client, login, world):
    login(client, world.member)
    response = client.get("/directory/export.vcf?country=SN")
    assert response.status_code == 200
    assert response.mimetype == "text/vcard"
    raw = response.get_data()
    text = raw.decode()
    assert text.count("BEGIN:VCARD") == 2
    assert text.count("VERSION:4.0\r\n") == 2
    cards = list(vobject.readComponents(text))
    by_name = {card.fn.value: card for card in cards}
    assert set(by_name) == {"Moussa Diallo", "Fatou Ndiaye"}
    moussa = world.entries["moussa"]
    card = by_name["Moussa Diallo"]
    assert card.email.value == moussa.email
    assert card.tel.value == "tel:+0001234567" + "89"
    assert card.org.value == ["Parquet général"]


def test_single_entry_vcard_is_valid_folded_and_escaped(
    client, login, make_network, make_user, make_contact_point
):
    network = make_network("alpha")
    cp = make_contact_point(
        name="Zoë Ñandú-Øster; Jr, the Second",
        institution="Ministère de la Justice, Direction des affaires criminelles et des grâces",
        networks=["alpha"],
        phones="+000 111 2222; +221 33 849 00 00",
        notes="Line one\nLine two, with a comma; and a semicolon — " + "é" * 60,
    )
    login(client, make_user("contact_point", network))
    for path in (f"/directory/{cp.id}.vcf", f"/api/v1/contact-points/{cp.id}.vcf"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/vcard"
        raw = response.get_data()
        assert raw.startswith(b"BEGIN:VCARD\r\nVERSION:4.0\r\n")
        assert raw.endswith(b"END:VCARD\r\n")
        lines = raw.split(b"\r\n")
        assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, no bare LF
        assert all(len(line) <= 75 for line in lines), [len(x) for x in lines]
        assert any(line.startswith(b" ") for line in lines)  # long lines were folded
        # folding never splits a UTF-8 character
        for line in lines:
            line.decode()
        card = vobject.readOne(raw.decode())
        assert card.fn.value == "Zoë Ñandú-Øster; Jr, the Second"
        assert card.email.value == cp.email
        assert [t.value for t in card.tel_list] == ["tel:+0001112222", "tel:+221338490000"]
        assert card.org.value == [
            "Ministère de la Justice, Direction des affaires criminelles et des grâces"
        ]
        assert card.note.value.startswith("Line one\nLine two, with a comma; and a semicolon")


def test_vcard_of_an_entry_of_another_network_is_forbidden(client, login, world):
    login(client, world.member)
    assert client.get(f"/directory/{world.id('hidden')}.vcf").status_code == 403
    response = client.get(f"/api/v1/contact-points/{world.id('hidden')}.vcf")
    assert response.status_code == 403
    assert b"BEGIN:VCARD" not in response.get_data()
