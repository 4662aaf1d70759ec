"""Locale and time zone selection, and localised names from Babel's CLDR data."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, time
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, available_timezones

import pycountry
from babel import Locale
from babel import dates as babel_dates
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import format_time as babel_format_time
from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal, get_minus_sign_symbol, get_plus_sign_symbol
from babel.numbers import format_percent as babel_format_percent
from babel.units import format_unit
from flask import current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale, get_timezone
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape


def offered_languages(wanted: Iterable[str], translations: Path, default: str = "en") -> list[str]:
    """The languages of ``wanted`` the interface can speak now: the default (the source
    language of the messages) and every other one whose compiled catalogue
    ``<translations>/<code>/LC_MESSAGES/messages.mo`` exists (`make translations`)."""
    return [
        code
        for code in wanted
        if code == default or (translations / code / "LC_MESSAGES" / "messages.mo").is_file()
    ]


def text_direction(code: str | None = None) -> str:
    """ "rtl" or "ltr" for the language (the current one by default), from CLDR."""
    return "rtl" if _locale(code or current_locale_code()).text_direction == "rtl" else "ltr"


def current_timezone_name() -> str:
    """The viewer's IANA time zone, for scripts that format instants themselves."""
    return str(get_timezone() or current_app.config["BABEL_DEFAULT_TIMEZONE"])


def format_number(
    value: float | int | None, locale: str | None = None, *, signed: bool = False
) -> str:
    """A number with the reader's digits, decimal sign and grouping (1,234.5 / 1 234,5);
    ``signed``: with its sign and one decimal (+17,9); an em dash when there is none."""
    if value is None:
        return "\u2014"
    code = locale or current_locale_code()
    pattern = _signed_pattern("#,##0.0", code) if signed else None
    return format_decimal(value, format=pattern, locale=code)


def _signed_pattern(pattern: str, code: str) -> str:
    """``pattern`` with an explicit sign, the locale's own plus and minus signs: Arabic's
    carry a left-to-right mark, without which a right-to-left page shows "+17.9" as
    "17.9+"."""
    return f"{get_plus_sign_symbol(code)}{pattern};{get_minus_sign_symbol(code)}{pattern}"


def number_locale_tag() -> str:
    """The BCP 47 tag under which a browser's ``Intl`` writes numbers as the server does
    for the current language: Babel writes Latin digits by default (the "latn" numbering
    system) where a browser would write Arabic-Indic ones for "ar"."""
    return current_locale_code().replace("_", "-") + "-u-nu-latn"


# Multiples of 1024, as the limits are set (MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024 is
# "25 MB"); the unit names are CLDR's in the reader's language.
_SIZE_UNITS = (
    (1024**3, "digital-gigabyte"),
    (1024**2, "digital-megabyte"),
    (1024, "digital-kilobyte"),
)


def format_file_size(size: int, locale: str | None = None) -> str:
    """A byte count for people, in the reader's language ("25 MB", "25 Mo", "25 МБ",
    "117 bytes")."""
    loc = locale or current_locale_code()
    for factor, unit in _SIZE_UNITS:
        if size >= factor:
            return format_unit(size / factor, unit, length="short", format="#,##0.#", locale=loc)
    # CLDR's short form of a byte is "byte" in English and "bytes" for one in Portuguese;
    # the long form is what people write ("117 bytes", "117 octets", "117 байт").
    return format_unit(size, "digital-byte", length="long", locale=loc)


# The Unicode isolates: FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE, plain text's <bdi>.
FSI, PDI = "\u2068", "\u2069"


def isolate(value: object, *, markup: bool = True) -> Markup | str:
    """``value`` set apart from the sentence around it for the bidirectional algorithm, so
    that a Latin name in an Arabic sentence (or an Arabic name in an English one) takes
    its own direction and does not carry the punctuation next to it along: "Edit
    <bdi>Ada</bdi>". The value is escaped, the tags are markup (the Jinja filter ``bdi``).

    Where markup cannot go (a page's <title>, an attribute, a flash message, which is
    shown as escaped text), ``markup=False`` puts the value between the Unicode isolates
    FSI and PDI instead, which do the same in plain text."""
    if markup:
        return Markup("<bdi>%s</bdi>") % (value,)
    return f"{FSI}{value}{PDI}"


_LIST_SLOT = re.compile("\x00(\\d+)\x00")


_isolate = isolate  # ``format_items`` has a parameter of that name


def format_items(
    items: Iterable[object],
    label: Callable[[object], object] | None = None,
    *,
    isolate: bool = False,
    style: str = "standard",
    empty: str = "\u2014",
) -> Markup:
    """Items joined as the reader's language joins a list ("French, English and Spanish",
    "الفرنسية والإنجليزية"), each through ``label`` if given; ``isolate`` puts each item in
    a <bdi> (names that people typed); ``empty`` when there is none. A Jinja filter."""
    texts = [str(label(item) if label else item) for item in items]
    if not texts:
        return escape(empty)
    slots = [f"\x00{n}\x00" for n in range(len(texts))]
    pattern = babel_format_list(slots, style=style, locale=current_locale_code())
    # Split into CLDR's connecting text (even places) and slot numbers (odd places).
    pieces = _LIST_SLOT.split(pattern)
    return Markup("").join(
        (_isolate(texts[int(piece)]) if isolate else escape(texts[int(piece)]))
        if odd
        else escape(piece)
        for odd, piece in ((n % 2 == 1, piece) for n, piece in enumerate(pieces))
    )


def available_languages() -> list[tuple[str, str]]:
    """(code, name in its own language) for each UI language."""
    return [
        (code, Locale.parse(code).get_display_name(code).capitalize())
        for code in current_app.config["LANGUAGES"]
    ]


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # the command line: messages in the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/") and request.headers.get("Accept-Language"):
        # An API client that names a language gets it, whoever the token belongs to.
        asked = request.accept_languages.best_match(supported)
        if asked:
            return asked
    if current_user and current_user.is_authenticated and current_user.locale in supported:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in supported:
        return chosen
    return request.accept_languages.best_match(supported) or supported[0]


def select_timezone() -> str:
    if current_user and current_user.is_authenticated and current_user.timezone:
        return current_user.timezone
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def recipient_locale(person_locale: str | None, network_languages: Iterable[str] = ()) -> str:
    """The language of an e-mail to someone: their own choice if they made one, else the
    first working language of their network that the platform speaks, else the default."""
    supported = current_app.config["LANGUAGES"]
    if person_locale in supported:
        return person_locale  # type: ignore[return-value]
    for code in network_languages:
        if code in supported:
            return code
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def current_locale_code() -> str:
    return str(get_locale() or "en")


@cache
def country_codes() -> tuple[str, ...]:
    """ISO 3166-1 alpha-2 codes (pycountry holds the standard's list)."""
    return tuple(sorted(c.alpha_2 for c in pycountry.countries))


@cache
def language_codes() -> tuple[str, ...]:
    """ISO 639-1 two-letter language codes."""
    return tuple(sorted(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2")))


@cache
def timezone_names() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def country_name(code: str, locale: str | None = None) -> str:
    """The country's name in the user's language, from CLDR."""
    if not code:
        return ""
    loc = _locale(locale or current_locale_code())
    return loc.territories.get(code.upper(), code.upper())


def language_name(code: str, locale: str | None = None) -> str:
    if not code:
        return ""
    loc = _locale(locale or current_locale_code())
    name = loc.languages.get(code, code)
    return name[:1].upper() + name[1:]


def fold(text: str) -> str:
    """Lower case without accents: the key for accent-insensitive search and for sorting
    names as a reader expects ("Bénin" between "Belgique" and "Bhoutan", not after "Z")."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def sort_names(names: Iterable[str]) -> list[str]:
    """Names in alphabetical order, accents ignored (a Jinja filter too)."""
    return sorted(names, key=lambda name: (fold(name), name))


def country_code_message() -> str:
    """The services' message for a country that is not an ISO code: right for API clients
    and CSV files, which write codes."""
    return _("Choose a country (ISO 3166 two-letter code).")


def country_choice_message() -> str:
    """The same mistake said to someone who picks the country from a dropdown of names."""
    return _("Choose a country from the list.")


def country_choices() -> list[tuple[str, str]]:
    """(code, localised name) pairs sorted by name, for select boxes."""
    return sorted(((c, country_name(c)) for c in country_codes()), key=lambda p: fold(p[1]))


def language_choices() -> list[tuple[str, str]]:
    return sorted(((c, language_name(c)) for c in language_codes()), key=lambda p: fold(p[1]))


_STYLES = ("full", "long", "medium", "short")


def datetime_pattern(
    fmt: str = "medium", locale: str | None = None, *, seconds: bool = False
) -> str:
    """The CLDR pattern for a date in style ``fmt`` with the time as people read it: the
    short time ("Dec 8, 2026, 2:00 PM"), or the medium one when ``seconds`` matter (the
    audit log). CLDR's own "medium" datetime carries seconds ("2:00:00 PM"), and its
    "long" and "full" ones a zone name. A pattern that is not a style name is returned as
    it is."""
    if fmt not in _STYLES:
        return fmt
    loc = _locale(locale or current_locale_code())
    time_pattern = loc.time_formats["medium" if seconds else "short"].pattern
    date_pattern = loc.date_formats[fmt].pattern
    joined = str(loc.datetime_formats[fmt])
    return joined.replace("{1}", date_pattern).replace("{0}", time_pattern)


def format_instant(value: datetime | None, fmt: str = "medium", *, seconds: bool = False) -> str:
    """An instant in the viewer's time zone, its time without seconds unless ``seconds``."""
    return format_datetime(value, datetime_pattern(fmt, seconds=seconds)) if value else ""


def format_time_of_day(value: datetime | None) -> str:
    """The time of an instant in the viewer's zone, as the reader writes it ("2:00 PM",
    "14:00")."""
    return (
        babel_format_time(value, "short", tzinfo=get_timezone(), locale=current_locale_code())
        if value
        else ""
    )


def format_times(start: datetime | None, end: datetime | None) -> str:
    """From ``start`` to ``end`` as times of day ("2:00 to 3:00 PM" with CLDR's dash),
    with the dates when they fall on different local days."""
    if start is None or end is None:
        return format_instant(start or end, "short")
    locale, zone = get_locale() or Locale("en"), get_timezone()
    if start.astimezone(zone).date() != end.astimezone(zone).date():
        return f"{format_instant(start, 'short')} \u2013 {format_instant(end, 'short')}"
    twelve_hours = "h" in locale.time_formats["short"].pattern
    return babel_dates.format_interval(
        start.astimezone(zone),
        end.astimezone(zone),
        "hm" if twelve_hours else "Hm",
        tzinfo=zone,
        locale=locale,
    )


def format_span(start: datetime | None, end: datetime | None) -> str:
    """A start to end range in the viewer's time zone and locale, the date once when both
    fall on the same local day ("Dec 8, 2026, 2:00 to 3:00 PM" with CLDR's dash)."""
    if start is None or end is None:
        return format_instant(start or end)
    zone = get_timezone()
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() == local_end.date():
        return f"{format_date(local_start, 'medium')}, {format_times(start, end)}"
    return f"{format_instant(start)} \u2013 {format_instant(end)}"


def format_iso_instant(value: str | None, fmt: str = "medium") -> str:
    """An ISO 8601 instant (as the API carries it) in the viewer's time zone."""
    return format_instant(datetime.fromisoformat(value), fmt) if value else ""


def format_wall_clock(value: datetime | time | None, fmt: str = "medium") -> str:
    """A datetime in its own zone (a participant's local time), or a time of day, in the
    reader's language - not converted to the reader's zone; times without seconds."""
    if value is None:
        return ""
    loc = current_locale_code()
    if isinstance(value, datetime):
        return babel_format_datetime(
            value, datetime_pattern(fmt, loc), tzinfo=value.tzinfo, locale=loc
        )
    return babel_format_time(value, "short" if fmt in _STYLES else fmt, locale=loc)


def format_day(value: date | None, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def format_day_skeleton(value: date | None, skeleton: str = "MMMEd") -> str:
    """A date from a CLDR skeleton, in the reader's order and words ("Mon, Nov 30",
    "lun. 30 nov.", "الاثنين، 30 نوفمبر")."""
    if value is None:
        return ""
    return babel_dates.format_skeleton(
        skeleton, datetime.combine(value, time()), locale=current_locale_code()
    )


def is_valid_timezone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (KeyError, ValueError):
        return False
    return name in timezone_names()


def format_percent_value(value: float | None, *, signed: bool = False, decimals: int = 1) -> str:
    """A value already in per cent (53.6) in the reader's locale ("53,6 %" in French), with
    ``decimals`` places always shown (one column reads 73.0% and 73.3%, not 73% and 73.3%)
    and its sign when ``signed``; an em dash when there is none."""
    if value is None:
        return "\u2014"
    code = current_locale_code()
    # The locale's own pattern (its spacing and sign placement), with fixed decimals.
    digits = "#,##0" + ("." + "0" * decimals if decimals else "")
    own = _locale(code).percent_formats[None].pattern.replace("#,##0", digits, 1)
    pattern = _signed_pattern(own, code) if signed else own
    return babel_format_percent(value / 100, format=pattern, locale=code)
