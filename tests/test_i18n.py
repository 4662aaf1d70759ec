"""The interface speaks English and French: the French catalogue is complete and current,
the language switcher and the browser's preference choose it, names of countries and
languages come from CLDR in the reader's language, and times are in the reader's zone."""

from __future__ import annotations

import gettext
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel import Locale
from babel.dates import format_datetime
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from sqlalchemy import select

from network.models.people import AccessToken, AuditEvent
from network.services import accounts
from tests.conftest import csrf_token

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "network" / "translations"
# The six interface languages (the UN's official languages); English is the source.
LANGUAGES = ("en", "fr", "es", "pt", "ar", "ru")
TRANSLATED = LANGUAGES[1:]
# How many plural forms a catalogue header may declare: gettext's classic rules, or CLDR's
# newer ones that `pybabel init` writes (a form for millions in French, Spanish, Portuguese).
PLURAL_FORMS = {"fr": {2, 3}, "es": {2, 3}, "pt": {2, 3}, "ar": {6}, "ru": {3, 4}}
POT = TRANSLATIONS / "messages.pot"
# The keywords `make extract-messages` passes to pybabel, on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_pgettext": ((1, "c"), 2)}
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


def _po_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def _missing_catalogue(code: str) -> str:
    return (
        f"there is no {code!r} catalogue ({_po_path(code).relative_to(ROOT)}): create it with "
        f"`pybabel init -i network/translations/messages.pot -d network/translations -l {code}`,"
        " translate every message and run `make translations`"
    )


_CATALOGUES: dict[str, object] = {}


def _catalog(code: str):  # type: ignore[no-untyped-def]
    """The catalogue of ``code``, read once; a clear failure when it does not exist."""
    if code not in _CATALOGUES:
        path = _po_path(code)
        if not path.is_file():
            pytest.fail(_missing_catalogue(code), pytrace=False)
        _CATALOGUES[code] = _read_po(path)
    return _CATALOGUES[code]


@pytest.fixture(scope="module")
def source_messages() -> set[tuple[str | tuple[str, ...], str | None]]:
    """Every message the code and templates ask for, with its msgctxt, extracted now with
    babel.cfg."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, "babel.cfg")
    found: set[tuple[str | tuple[str, ...], str | None]] = set()
    for _file, _line, msgid, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if msgid and (msgid if isinstance(msgid, str) else msgid[0]):
            found.add((msgid, context))
    return found


# --- The catalogue -----------------------------------------------------------------------


def test_every_string_in_the_code_is_in_the_catalogue(source_messages):
    """A string added to a template or module without `make extract-messages` fails here."""
    pot_ids = {(m.id, m.context) for m in _read_po(POT) if m.id}
    missing = sorted(_label(m) for m, _context in source_messages - pot_ids)
    assert not missing, f"run `make extract-messages` and translate: {missing}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_language_has_its_catalogue(code):
    assert _po_path(code).is_file(), _missing_catalogue(code)


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_string_in_the_code_has_a_translation(source_messages, code):
    catalog = _catalog(code)
    untranslated = sorted(
        _label(m)
        for m, context in source_messages
        if catalog.get(m, context) is None or not _translated(catalog.get(m, context))
    )
    assert not untranslated, f"{len(untranslated)} without {code} (or fuzzy): {untranslated[:20]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_catalogue_message_has_a_translation(code):
    catalog = _catalog(code)
    pot_ids = [(m.id, m.context) for m in _read_po(POT) if m.id]
    assert pot_ids
    untranslated = [
        _label(i)
        for i, context in pot_ids
        if catalog.get(i, context) is None or not _translated(catalog.get(i, context))
    ]
    assert not untranslated, f"{len(untranslated)} without {code} (or fuzzy): {untranslated[:20]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_plural_messages_have_the_forms_the_catalogue_header_declares(code):
    """Arabic has six plural forms, Russian three, French two: each plural message has as
    many as the header's Plural-Forms says, and the header is right for the language."""
    catalog = _catalog(code)
    assert catalog.num_plurals in PLURAL_FORMS[code], (
        f"{code}: the header declares {catalog.num_plurals} plural forms; "
        f"the language has {PLURAL_FORMS[code]} (Babel: {get_plural(code)})"
    )
    plurals = [m for m in catalog if m.id and m.pluralizable]
    assert plurals
    wrong = [(_label(m.id), len(m.string)) for m in plurals if len(m.string) != catalog.num_plurals]
    assert not wrong, f"{code}: not {catalog.num_plurals} forms: {wrong[:10]}"


def _forms_for_a_single_number(catalog) -> set[int]:  # type: ignore[no-untyped-def]
    """The plural forms (indexes) the catalogue's Plural-Forms rule uses for one n only."""
    rule = gettext.c2py(catalog.plural_expr)
    uses = Counter(rule(n) for n in range(1000))
    return {form for form, times in uses.items() if times == 1}


def _directives(text: str) -> tuple[set[str], str]:
    """The %-directives of ``text`` and what is left once they are taken out."""
    found = {m.group(0) for m in DIRECTIVE.finditer(text)}
    return found, DIRECTIVE.sub("", text)


@pytest.mark.parametrize("code", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_original(code):
    catalog = _catalog(code)
    single = _forms_for_a_single_number(catalog)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        expected = _directives(ids[-1])[0]
        counts = {d for d in expected if d.endswith("d")}
        for index, text in enumerate(_strings(message)):
            found, rest = _directives(text)
            # A plural form that stands for one number only ("one" in French, "zero",
            # "one", "two" in Arabic) may say it in words instead of the count placeholder.
            may_drop = len(ids) > 1 and index in single
            if not (found == expected or (may_drop and found == expected - counts)) or "%" in rest:
                problems.append((_label(message.id), text))
    assert not problems, f"{code}: placeholders differ: {problems[:10]}"


@pytest.mark.parametrize("code", TRANSLATED)
def test_the_compiled_catalogue_matches_the_translations(code):
    """The app reads the .mo: `make translations` must have run since the .po changed."""
    catalog = _catalog(code)
    mo = _po_path(code).with_suffix(".mo")
    assert mo.exists(), "run `make translations`"
    with mo.open("rb") as f:
        compiled = read_mo(f)
    stale = [
        _label(m.id)
        for m in catalog
        if m.id
        and _translated(m)
        and (
            compiled.get(m.id, m.context) is None
            or _strings(compiled.get(m.id, m.context)) != _strings(m)
        )
    ]
    assert not stale, f"run `make translations` ({code}): {stale[:5]}"


def test_the_app_offers_all_six_languages(app):
    missing = [code for code in LANGUAGES if code not in app.config["LANGUAGES"]]
    assert not missing, "; ".join(_missing_catalogue(code) for code in missing)


def test_only_languages_with_a_compiled_catalogue_are_offered(tmp_path):
    from network.i18n import offered_languages

    (tmp_path / "fr" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "fr" / "LC_MESSAGES" / "messages.mo").write_bytes(b"")
    (tmp_path / "es" / "LC_MESSAGES").mkdir(parents=True)
    (tmp_path / "es" / "LC_MESSAGES" / "messages.po").write_text("")  # not compiled
    assert offered_languages(LANGUAGES, tmp_path) == ["en", "fr"]


# --- Choosing the language ------------------------------------------------------------------


def _choose_language(client, locale: str, page: str = "/"):  # type: ignore[no-untyped-def]
    token = csrf_token(client, page)
    return client.post("/language", data={"locale": locale, "next": page, "csrf_token": token})


def test_anonymous_visitor_switches_to_french(client):
    english = client.get("/").get_data(as_text=True)
    assert '<html lang="en" ' in english
    assert "Sign in" in english

    response = _choose_language(client, "fr", "/networks")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/networks")

    page = client.get("/networks").get_data(as_text=True)
    assert '<html lang="fr" ' in page
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
    assert '<html lang="en" ' in client.get("/").get_data(as_text=True)

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
    assert '<html lang="en" ' in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    ("header", "lang", "text"),
    [
        ("fr-FR,fr;q=0.9,en;q=0.5", "fr", "Se connecter"),
        ("fr-CI", "fr", "Se connecter"),
        ("en-GB,en;q=0.8,fr;q=0.5", "en", "Sign in"),
        ("de-DE", "en", "Sign in"),
    ],
)
def test_browser_language_chooses_the_first_visit(client, header, lang, text):
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}" ' in page
    assert text in page


def _require(app, code: str) -> None:  # type: ignore[no-untyped-def]
    if code not in app.config["LANGUAGES"]:
        pytest.fail(_missing_catalogue(code), pytrace=False)


@pytest.mark.parametrize(
    ("header", "lang", "direction"),
    [
        ("pt-BR,pt;q=0.9", "pt", "ltr"),
        ("es-AR", "es", "ltr"),
        ("ru", "ru", "ltr"),
        ("ar-SD", "ar", "rtl"),
    ],
)
def test_browser_language_chooses_each_of_the_six(app, client, header, lang, direction):
    _require(app, lang)
    page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert f'<html lang="{lang}" dir="{direction}"' in page


def test_arabic_pages_are_right_to_left_and_others_left_to_right(app, client):
    from network.i18n import text_direction

    assert [text_direction(code) for code in LANGUAGES] == ["ltr"] * 4 + ["rtl", "ltr"]
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr"' in page


def test_the_switcher_is_on_public_pages(client):
    # the sign-in page, public pages, the confirmation link of a reminder, an error page
    for path in ("/", "/login", "/networks", "/confirm-entry/not-a-token", "/no-such-page"):
        page = client.get(path).get_data(as_text=True)
        assert 'id="lang-select"' in page, path
        assert 'value="fr"' in page


def test_chosen_language_wins_over_the_browser(client):
    _choose_language(client, "en")
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="en" ' in page


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
    # The audit log is append-only (its rows are hash-chained): the event's own time is
    # used; Tokyo is 9 hours off UTC, so the two renderings always differ.
    when = event.created_at
    reader = make_user("coordinator", "wacap")
    login(client, reader)

    page = client.get(f"/directory/{cp.id}").get_data(as_text=True)
    assert _shown(when, "UTC") in page

    accounts.update_preferences(reader, timezone="Asia/Tokyo")
    page = client.get(f"/directory/{cp.id}").get_data(as_text=True)
    assert _shown(when, "Asia/Tokyo") in page
    assert _shown(when, "UTC") not in page


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


@pytest.mark.parametrize(
    ("code", "value", "expected"),
    [
        ("en", 17.9, "+17.9"),
        ("fr", -17.9, "-17,9"),
        # Arabic's signs carry a left-to-right mark: "+17.9" reads so on an rtl page too.
        ("ar", 17.9, "\u200e+17.9"),
        ("ar", -17.9, "\u200e-17.9"),
    ],
)
def test_signed_numbers_use_the_locales_own_signs(app, code, value, expected):
    from network.i18n import format_number

    assert format_number(value, code, signed=True) == expected
