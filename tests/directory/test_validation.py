"""Bad input on the entry forms: a clear message on the field, and nothing written."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

from network.extensions import db as _db
from network.models.base import utcnow
from network.models.directory import ContactPoint
from network.models.people import AuditEvent


def field_errors(page: str) -> dict[str, str]:
    """{field id: message} of the errors shown under the fields."""
    return {
        key: html.unescape(message)
        for key, message in re.findall(
            r'<p class="field-error" id="([^"]+)-error">([^<]*)</p>', page
        )
    }


@pytest.fixture
def new_form(client, login, make_network, make_user, pages):
    """The filled-in "new entry" form of alpha's secretariat, ready to spoil."""
    login(client, make_user("secretariat", make_network("alpha", states="SN")))
    form = pages.form_values(pages.text(client.get("/directory/new")))
    for key, value in {
        "name": "Valid Person",
        "authority_type": "prosecution",
        "country": "SN",
        "email": "valid.person@example.org",
        "phones": "+000 777 1234",
        "office_timezone": "Africa/Dakar",
    }.items():
        form[key] = value
    form.setlist("networks", ["alpha"])
    form.setlist("languages", ["fr"])
    form.setlist("expertise", ["mla"])
    return form


def test_the_valid_form_is_accepted(client, new_form, pages):
    before = pages.count_rows(ContactPoint)
    assert client.post("/directory/new", data=new_form).status_code == 302
    assert pages.count_rows(ContactPoint) == before + 1


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("email", "not-an-address", "Invalid email address."),
        ("email", "two@@example.org", "Invalid email address."),
        ("phones", "12345678", "Use the international format"),
        ("phones", "+000 12", "7 to 15 digits"),
        ("phones", "+221 abc def", "Use the international format"),
        ("phones", "+44 12", "Use the international format"),
        ("phones", "+221 33 849 00 0", "not a possible number"),
        ("phones", "+000 123 4567; call me", "Use the international format"),
        ("country", "XX", "Not a valid choice"),
        ("authority_type", "king", "Not a valid choice"),
        ("office_timezone", "Mars/Olympus_Mons", "Not a valid choice"),
        ("name", "x" * 201, "200 characters"),
        ("name", "", "This field is required."),
        ("title", "t" * 201, "200 characters"),
        ("institution", "i" * 301, "300 characters"),
        ("notes", "n" * 5001, "5000 characters"),
        ("name", "Tab\x07Bell", "Contains control characters."),
        ("last_confirmed", "31/01/2026", "Not a valid date value."),
    ],
)
def test_bad_single_values_are_refused_with_a_message(client, new_form, pages, key, value, message):
    new_form[key] = value
    before = (pages.count_rows(ContactPoint), pages.count_rows(AuditEvent))
    response = client.post("/directory/new", data=new_form)
    assert response.status_code == 422
    errors = field_errors(pages.text(response))
    assert key in errors, errors
    assert message in errors[key]
    assert (pages.count_rows(ContactPoint), pages.count_rows(AuditEvent)) == before


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("expertise", ["mla", "astrology"]),
        ("languages", ["fr", "xx"]),
        ("request_languages", ["klingon"]),
        ("channels", ["carrier_pigeon"]),
        ("networks", ["alpha", "no-such-network"]),
    ],
)
def test_unknown_codes_in_lists_are_refused(client, new_form, pages, key, values):
    new_form.setlist(key, values)
    before = pages.count_rows(ContactPoint)
    response = client.post("/directory/new", data=new_form)
    assert response.status_code == 422
    assert key in field_errors(pages.text(response))
    assert pages.count_rows(ContactPoint) == before


def test_a_date_in_the_future_is_refused(client, new_form, pages):
    new_form["last_confirmed"] = (utcnow().date() + timedelta(days=3)).isoformat()
    before = pages.count_rows(ContactPoint)
    response = client.post("/directory/new", data=new_form)
    assert response.status_code == 422
    assert "cannot be in the future" in field_errors(pages.text(response))["last_confirmed"]
    assert pages.count_rows(ContactPoint) == before


def test_a_bad_edit_leaves_the_entry_as_it_was(
    client, login, make_user, make_contact_point, make_network, pages
):
    cp = make_contact_point(name="Stays The Same", networks=["alpha"])
    login(client, make_user("secretariat", make_network("alpha")))
    path = f"/directory/{cp.id}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form["name"] = "Changed Name"
    form["phones"] = "not a phone"
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert "Use the international format" in field_errors(pages.text(response))["phones"]
    _db.session.expire_all()
    assert _db.session.get(ContactPoint, cp.id).name == "Stays The Same"


def test_html_in_a_name_is_stored_as_is_and_shown_as_text(client, new_form, pages):
    evil = '<script>alert("x")</script><b>Bold</b> Person'
    new_form["name"] = evil
    new_form["notes"] = "<img src=x onerror=alert(1)>"
    response = client.post("/directory/new", data=new_form)
    assert response.status_code == 302
    entry_path = response.headers["Location"]
    cp_id = int(entry_path.rsplit("/", 1)[1])
    assert _db.session.get(ContactPoint, cp_id).name == evil  # stored as typed

    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt; Person"
    for path in (
        entry_path,
        f"{entry_path}/edit",
        "/directory/?q=bold",
        "/directory/find?measure=mla&country=SN",
    ):
        page = pages.text(client.get(path))
        assert "<script>alert" not in page, path
        assert "<b>Bold" not in page, path
        assert "<img src=x" not in page, path
        assert escaped in page or "&lt;script&gt;" in page, path
    assert client.get(f"/api/v1/contact-points/{cp_id}").get_json()["name"] == evil
