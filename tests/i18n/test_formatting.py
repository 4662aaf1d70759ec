"""Numbers, sizes and directions follow the reader's language (CLDR through Babel), and the
page tells its scripts the reader's language and time zone (issue 9)."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from network import i18n
from network.services import accounts


def _spaces(text: str) -> str:
    """CLDR separates with no-break spaces (narrow ones in French)."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("code", "size", "expected"),
    [
        ("en", 25 * 1024 * 1024, "25 MB"),
        ("fr", 25 * 1024 * 1024, "25 Mo"),
        ("ru", 25 * 1024 * 1024, "25 МБ"),
        ("fr", 1536, "1,5 ko"),
        ("en", 2000, "2 kB"),
        ("en", 12, "12 bytes"),
        ("en", 1, "1 byte"),
        ("pt", 1, "1 byte"),
        ("fr", 117, "117 octets"),
        ("ru", 2, "2 байта"),
    ],
)
def test_file_sizes_are_written_the_readers_way(app, code, size, expected):
    with app.test_request_context():
        assert _spaces(i18n.format_file_size(size, code)) == expected


def test_file_sizes_in_arabic_use_arabic_units(app):
    with app.test_request_context():
        text = i18n.format_file_size(25 * 1024 * 1024, "ar")
    assert "MB" not in text
    assert any("\u0600" <= ch <= "\u06ff" for ch in text)


def test_numbers_follow_the_locale(app):
    with app.test_request_context():
        assert i18n.format_number(1234.5, "en") == "1,234.5"
        assert _spaces(i18n.format_number(1234.5, "fr")) == "1 234,5"
        assert i18n.format_number(1234.5, "ru").replace("\xa0", " ") == "1 234,5"


def test_text_direction_comes_from_cldr(app):
    with app.test_request_context():
        assert i18n.text_direction("ar") == "rtl"
        for code in ("en", "fr", "es", "pt", "ru"):
            assert i18n.text_direction(code) == "ltr"
        with force_locale("fr"):
            assert i18n.text_direction() == "ltr"


def test_the_page_carries_the_readers_time_zone_for_its_scripts(client, make_user, login, db):
    user = make_user("observer", "wacap")
    accounts.update_preferences(user, timezone="Africa/Dakar")
    login(client, user)
    page = client.get("/").get_data(as_text=True)
    assert 'data-timezone="Africa/Dakar"' in page
    assert 'dir="ltr"' in page


def test_arabic_pages_are_right_to_left(app, client):
    if "ar" not in app.config["LANGUAGES"]:
        pytest.fail("no compiled Arabic catalogue: see tests/test_i18n.py", pytrace=False)
    page = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert '<html lang="ar" dir="rtl"' in page


def test_an_upload_limit_is_told_in_the_readers_units(app):
    from network.services.attachments import _human_size

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert _spaces(_human_size(25 * 1024 * 1024)) == "25 Mo"


@pytest.mark.parametrize("code", ["ar", "ru", "es", "pt"])
def test_country_and_language_names_are_in_the_readers_language(app, client, make_network, code):
    from babel import Locale

    if code not in app.config["LANGUAGES"]:
        pytest.fail(f"no compiled {code!r} catalogue: see tests/test_i18n.py", pytrace=False)
    make_network("names-net", acronym="NN", states="SN BR", languages=["pt"])
    page = client.get("/networks", headers={"Accept-Language": code}).get_data(as_text=True)
    section = page[page.index('id="names-net"') :]
    locale = Locale(code)
    assert locale.territories["SN"] in section
    assert locale.territories["BR"] in section
    if code in ("ar", "ru"):  # "Senegal" is Spanish and Portuguese too
        assert Locale("en").territories["SN"] not in section
    name = locale.languages["pt"]
    assert name[:1].upper() + name[1:] in section
