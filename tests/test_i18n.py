"""The interface speaks English and French: the French catalogue is complete and current,
the language switcher and the browser's preference choose it, names of countries and
languages come from CLDR in the reader's language, and times are in the reader's zone."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_datetime
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from network.models.people import AccessToken, AuditEvent
from network.services import accounts
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "network" / "translations"
FR_PO = TRANSLATIONS / "fr" / "LC_MESSAGES" / "messages.po"
FR_MO = FR_PO.with_suffix(".mo")
POT = TRANSLATIONS / "messages.pot"
# The keywords `make extract-messages` passes to pybabel, on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
# %(name)s, %(n)d, %(mb).1f, %s and %% - everything Python's %-formatting reads.
DIRECTIVE = re.compile(r"%(?:\((\w+)\))?[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")

# An instant whose date differs between UTC and Tokyo (UTC+9, no summer time).
INSTANT = datetime(2026, 3, 10, 20, 30, tzinfo=UTC)


def _read_po(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f)


def _strings(message) -> list[str]:  # type: ignore[no-untyped-def]
    """The msgstr, or each plural form of it."""
    return [message.string] if isinstance(message.string, str) else list(message.string)


def _translated(message) -> bool:  # type: ignore[no-untyped-def]
    strings = _strings(message)
    return bool(strings) and all(s.strip() for s in strings) and not message.fuzzy


def _label(msgid: str | tuple[str, ...]) -> str:
    return msgid if isinstance(msgid, str) else msgid[0]


@pytest.fixture(scope="module")
def fr_catalog():  # type: ignore[no-untyped-def]
    return _read_po(FR_PO)


@pytest.fixture(scope="module")
def source_messages() -> set[str | tuple[str, ...]]:
    """Every message the code and templates ask for, extracted now with babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: set[str | tuple[str, ...]] = set()
    for _file, _line, msgid, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if msgid and (msgid if isinstance(msgid, str) else msgid[0]):
            found.add(msgid)
    return found


# --- The catalogue -----------------------------------------------------------------------


def test_every_string_in_the_code_is_in_the_catalogue(source_messages):
    """A string added to a template or module without `make extract-messages` fails here."""
    pot_ids = {m.id for m in _read_po(POT) if m.id}
    missing = sorted(_label(m) for m in source_messages - pot_ids)
    assert not missing, f"run `make extract-messages` and translate: {missing}"


def test_every_string_in_the_code_has_a_french_translation(source_messages, fr_catalog):
    untranslated = sorted(
        _label(m)
        for m in source_messages
        if fr_catalog.get(m) is None or not _translated(fr_catalog.get(m))
    )
    assert not untranslated, f"no French (or fuzzy) for: {untranslated}"


def test_every_catalogue_message_has_a_french_translation(fr_catalog):
    pot_ids = [m.id for m in _read_po(POT) if m.id]
    assert pot_ids
    untranslated = [
        _label(i) for i in pot_ids if fr_catalog.get(i) is None or not _translated(fr_catalog[i])
    ]
    assert not untranslated, f"no French (or fuzzy) for: {untranslated}"


def test_plural_messages_have_both_french_forms(fr_catalog):
    plurals = [m for m in fr_catalog if m.id and m.pluralizable]
    assert plurals
    for message in plurals:
        assert len(message.string) == fr_catalog.num_plurals == 2, message.id


def _directives(text: str) -> tuple[set[str], str]:
    """The %-directives of ``text`` and what is left once they are taken out."""
    found = {m.group(0) for m in DIRECTIVE.finditer(text)}
    return found, DIRECTIVE.sub("", text)


def test_translations_keep_the_placeholders_of_the_original(fr_catalog):
    problems = []
    for message in fr_catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = _strings(message)
        expected = _directives(ids[-1])[0]
        for text in strings:
            found, rest = _directives(text)
            if found != expected or "%" in rest:
                problems.append((_label(message.id), text))
    assert not problems


def test_the_compiled_catalogue_matches_the_translations(fr_catalog):
    """The app reads the .mo: `make translations` must have run since the .po changed."""
    assert FR_MO.exists(), "run `make translations`"
    with FR_MO.open("rb") as f:
        compiled = read_mo(f)
    stale = [
        _label(m.id)
        for m in fr_catalog
        if m.id
        and _translated(m)
        and (compiled.get(m.id) is None or _strings(compiled[m.id]) != _strings(m))
    ]
    assert not stale, f"run `make translations`: {stale[:5]}"


# --- Choosing the language ------------------------------------------------------------------


def _choose_language(client, locale: str, page: str = "/"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, page)
    return client.post("/language", data={"locale": locale, "next": page, "csrf_token": token})


def test_anonymous_visitor_switches_to_french(client):
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in english
    assert "Sign in" in english

    response = _choose_language(client, "fr", "/networks")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/networks")

    page = client.get("/networks").get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Se connecter" in page
    assert "Réseaux régionaux de coopération judiciaire" in page
    assert "Sign in" not in page
    assert "Trouvez votre homologue" in client.get("/").get_data(as_text=True)

    _choose_language(client, "en")
    assert "Find your counterpart" in client.get("/").get_data(as_text=True)


def test_signed_in_choice_is_kept_on_the_account(app, client, make_user, login, db):
    user = make_user("coordinator", "wacap")
    login(client, user)
    assert ">Directory<" in client.get("/").get_data(as_text=True)

    _choose_language(client, "fr")
    home = client.get("/").get_data(as_text=True)
    assert ">Annuaire<" in home
    assert "Se déconnecter" in home
    db.session.refresh(user)
    assert user.locale == "fr"

    logout = client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert logout.status_code == 302
    login(client, user)
    assert ">Annuaire<" in client.get("/").get_data(as_text=True)

    other_browser = login(app.test_client(), user)  # no session, an English browser
    page = other_browser.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert ">Annuaire<" in page


def test_language_chosen_before_signing_in_is_kept(client, make_user, login, db):
    user = make_user("coordinator", "wacap")
    _choose_language(client, "fr", "/login")
    assert "Se connecter" in client.get("/login").get_data(as_text=True)
    login(client, user)
    assert ">Annuaire<" in client.get("/").get_data(as_text=True)


def test_unknown_language_is_refused_without_an_error_page(client, make_user, login, db):
    response = _choose_language(client, "xx")
    assert 400 <= response.status_code < 500
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)

    user = make_user("observer", "wacap")
    login(client, user)
    response = _choose_language(client, "de")
    assert 400 <= response.status_code < 500
    db.session.refresh(user)
    assert user.locale != "de"


def test_language_choice_needs_the_csrf_token(client):
    client.get("/")
    response = client.post("/language", data={"locale": "fr", "next": "/"})
    assert response.status_code == 400
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("header", "lang", "text"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Se connecter"),
        ("fr-CI", "fr", "Se connecter"),
        ("en-GB,en;q=0.8,fr;q=0.5", "en", "Sign in"),
        ("pt-BR", "en", "Sign in"),
    ],
)
def test_browser_language_chooses_the_first_visit(client, header, lang, text):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}">' in page
    assert text in page


def test_chosen_language_wins_over_the_browser(client):
    _choose_language(client, "en")
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en">' in page


# --- Names from CLDR ---------------------------------------------------------------------------


def test_country_and_language_names_follow_the_reader(client, make_network):
    make_network("i18n-net", acronym="I18N", states="SN CI ML", languages=["fr", "pt"])
    english = client.get("/networks").get_data(as_text=True)
    en = Locale("en")
    assert en.territories["SN"] in english
    assert "Portuguese" in english

    _choose_language(client, "fr", "/networks")
    french = client.get("/networks").get_data(as_text=True)
    fr = Locale("fr")
    section = french[french.index('id="i18n-net"') :]
    for code in ("SN", "CI", "ML"):
        assert fr.territories[code] in section
    assert "Sénégal" in section  # CLDR's French name, as a reader would check it
    assert en.territories["SN"] not in section
    assert fr.languages["pt"].capitalize() in section  # "Portugais"
    assert fr.languages["fr"].capitalize() in section  # "Français"
    assert "Portuguese" not in section


def test_member_states_are_in_the_readers_alphabetical_order(client, make_network):
    make_network("i18n-net", acronym="I18N", states="SL SN BF BJ")
    _choose_language(client, "fr", "/networks")
    page = client.get("/networks").get_data(as_text=True)
    section = page[page.index('id="i18n-net"') :]
    fr = Locale("fr")
    shown = [section.index(fr.territories[c]) for c in ("BJ", "BF", "SN", "SL")]
    assert shown == sorted(shown)  # Bénin, Burkina Faso, Sénégal, Sierra Leone


# --- Times in the reader's zone ---------------------------------------------------------


def _shown(instant: datetime, zone: str, locale: str = "en") -> str:
    return format_datetime(instant, "short", tzinfo=ZoneInfo(zone), locale=locale)


def test_history_times_are_shown_in_the_readers_time_zone(
    client, make_user, make_contact_point, login, db
):
    cp = make_contact_point(networks=["wacap"])
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "contact_point", AuditEvent.entity_id == cp.id
        )
    )
    event.created_at = INSTANT
    db.session.commit()
    reader = make_user("coordinator", "wacap")
    login(client, reader)

    page = client.get(f"/directory/{cp.id}").get_data(as_text=True)
    assert _shown(INSTANT, "UTC") in page

    accounts.update_preferences(reader, timezone="Asia/Tokyo")
    page = client.get(f"/directory/{cp.id}").get_data(as_text=True)
    assert _shown(INSTANT, "Asia/Tokyo") in page  # 3/11/26, 5:30 AM
    assert _shown(INSTANT, "UTC") not in page


def test_time_zone_chosen_in_the_account_form_applies_to_token_times(client, make_user, login, db):
    user = make_user("observer", "wacap")
    token, _plain = accounts.create_token(user, "reporting script")
    token.created_at = INSTANT
    db.session.commit()
    login(client, user)
    assert _shown(INSTANT, "UTC") in client.get("/account/").get_data(as_text=True)

    response = client.post(
        "/account/",
        data={
            "locale": "fr",
            "timezone": "America/Sao_Paulo",
            "submit": "Save",
            "csrf_token": csrf_token(client, "/account/"),
        },
    )
    assert response.status_code == 302
    page = client.get("/account/").get_data(as_text=True)
    assert "Jetons d\u2019accès personnels" in page
    assert _shown(INSTANT, "America/Sao_Paulo", "fr") in page  # 10/03/2026 17:30
    assert _shown(INSTANT, "UTC", "fr") not in page
    db.session.refresh(user)
    assert (user.locale, user.timezone) == ("fr", "America/Sao_Paulo")
    assert db.session.get(AccessToken, token.id).created_at == INSTANT


def test_a_time_zone_outside_the_list_is_refused(client, make_user, login, db):
    user = make_user("observer", "wacap")
    login(client, user)
    response = client.post(
        "/account/",
        data={
            "locale": "en",
            "timezone": "Mars/Olympus_Mons",
            "submit": "Save",
            "csrf_token": csrf_token(client, "/account/"),
        },
    )
    assert response.status_code == 422  # the form again, with the error
    assert 'id="timezone"' in response.get_data(as_text=True)
    db.session.refresh(user)
    assert user.timezone == "UTC"
