"""Recurring events: the limits every RFC 5545 RRULE must respect, the picker a coordinator
fills in ("Weekly, every 2 weeks, on Tuesday and Thursday, until 30 June 2027") turned into
an RRULE and back, and a description of any stored rule in the reader's language.

Rules are read on the event's local wall clock (DTSTART is a naive local time, as
``dateutil.rrule`` expands it), so an UNTIL is a local date-time too: the picker stores the
last day as ``UNTIL=<day>T235959``. The RRULE text is written and read by
``icalendar.vRecur``, never by hand.

The picker says what Google Calendar, Outlook and Indico say: daily, weekly, monthly or
yearly; every N (1 to 99); for a weekly series the days of the week (none ticked means the
weekday of the start); for a monthly one the start's day of the month, or its weekday in
the month ("the second Tuesday", "the last Friday"); and the end: never, on a date, or
after N occurrences. A stored rule the picker cannot say (BYSETPOS, several months, a
weekday that is not the start's...) is a "custom rule": it is kept as it is unless the
coordinator chooses another option.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Any

from babel import Locale
from babel.core import get_global
from babel.dates import format_date, format_skeleton, get_day_names, get_month_names
from babel.lists import format_list
from dateutil.rrule import rrulestr
from flask_babel import gettext as _
from flask_babel import lazy_pgettext, npgettext, pgettext
from icalendar import vRecur

from network import i18n

MAX_OCCURRENCES = 500
MAX_INTERVAL = 99

FREQUENCIES = ("daily", "weekly", "monthly", "yearly")
MONTHLY_OPTIONS = ("day", "nth", "last")
END_OPTIONS = ("never", "until", "count")
# RFC 5545 weekday codes, in the order of ``date.weekday()`` (Monday is 0).
WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")

_ALLOWED_FREQ = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
# Several occurrences a day would let one rule expand to thousands per range query; meetings
# repeat daily at most (DTSTART gives the time of day).
_REFUSED_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND", "DTSTART"}
# The parts a description puts into words; any other is quoted as it is.
_DESCRIBED_PARTS = {
    "FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS"
}  # fmt: skip
_WHOLE_NUMBER = re.compile(r"[0-9]{1,9}")
_BYDAY = re.compile(r"([+-]?[0-9]{1,2})?(MO|TU|WE|TH|FR|SA|SU)")

# "Weekly on the first Tuesday": whole phrases, so that a language can make the ordinal
# agree with the weekday or put it after it.
_NTH_WEEKDAY = {
    1: lazy_pgettext("recurrence", "the first %(weekday)s"),
    2: lazy_pgettext("recurrence", "the second %(weekday)s"),
    3: lazy_pgettext("recurrence", "the third %(weekday)s"),
    4: lazy_pgettext("recurrence", "the fourth %(weekday)s"),
    5: lazy_pgettext("recurrence", "the fifth %(weekday)s"),
    -1: lazy_pgettext("recurrence", "the last %(weekday)s"),
    -2: lazy_pgettext("recurrence", "the second-to-last %(weekday)s"),
}
# BYSETPOS: which of the dates a period gives are kept ("only the last of them").
_POSITION = {
    1: lazy_pgettext("recurrence position", "the first"),
    2: lazy_pgettext("recurrence position", "the second"),
    3: lazy_pgettext("recurrence position", "the third"),
    4: lazy_pgettext("recurrence position", "the fourth"),
    5: lazy_pgettext("recurrence position", "the fifth"),
    -1: lazy_pgettext("recurrence position", "the last"),
    -2: lazy_pgettext("recurrence position", "the second-to-last"),
}


# --- The limits of a rule ----------------------------------------------------------------------


def expand(rule_text: str, start_local: datetime) -> Any:
    """The ``dateutil`` rule of ``rule_text`` from the naive local ``start_local``."""
    return rrulestr(rule_text, dtstart=start_local)


def check_rule(rule_text: str, start_local: datetime) -> str | None:
    """A message when ``rule_text`` is not an acceptable RRULE value, else None: daily at
    most often, no more than ``MAX_OCCURRENCES`` when it ends, at least one occurrence."""
    if not re.fullmatch(r"[A-Za-z0-9=;,+\-]{1,500}", rule_text):
        return _("This is not a valid recurrence rule (RFC 5545 RRULE).")
    parts = dict(p.split("=", 1) for p in rule_text.upper().split(";") if "=" in p)
    if parts.get("FREQ") not in _ALLOWED_FREQ or parts.keys() & _REFUSED_PARTS:
        return _("Use a daily, weekly, monthly or yearly rule, e.g. FREQ=WEEKLY;COUNT=10.")
    try:
        rule = expand(rule_text, start_local)
    except (ValueError, TypeError):
        return _("This is not a valid recurrence rule (RFC 5545 RRULE).")
    if "COUNT" in parts or "UNTIL" in parts:
        count = 0
        for _occurrence in rule:
            count += 1
            if count > MAX_OCCURRENCES:
                return _("A series may have at most %(n)d occurrences.", n=MAX_OCCURRENCES)
        if count == 0:
            return _("This rule gives no occurrence.")
    return None


def same_rule(first: str, second: str, start_local: datetime) -> bool:
    """True when two acceptable RRULE texts give the same series from ``start_local``: the
    same parts in any order, or the same occurrences ("FREQ=WEEKLY" from a Tuesday and
    "FREQ=WEEKLY;BYDAY=TU"). Unbounded rules are compared over their first
    ``MAX_OCCURRENCES`` occurrences, decades for the daily-or-slower rules allowed here."""
    try:
        if _parts(first) == _parts(second):
            return True
        bounded = [bool({"COUNT", "UNTIL"} & _parts(rule).keys()) for rule in (first, second)]
        runs = [
            list(islice(expand(rule, start_local), MAX_OCCURRENCES + 1)) for rule in (first, second)
        ]
    except (ValueError, TypeError):
        return first == second
    return bounded[0] == bounded[1] and runs[0] == runs[1]


# --- Reading a rule ------------------------------------------------------------------------------


def _parts(rule_text: str) -> dict[str, list[Any]]:
    """The parts of an RRULE as ``vRecur`` reads them; raises ValueError when it cannot."""
    try:
        recur = vRecur.from_ical(rule_text.strip().removeprefix("RRULE:"))
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(rule_text) from exc
    return {str(key).upper(): list(value) for key, value in recur.items()}


def _integers(values: list[Any]) -> list[int]:
    return [int(str(v)) for v in values]


def _weekdays(values: list[Any]) -> list[tuple[int | None, int]]:
    """BYDAY values as (ordinal or None, weekday index): "-1FR" is (-1, 4)."""
    found = []
    for value in values:
        match = _BYDAY.fullmatch(str(value).upper())
        if match is None:
            raise ValueError(value)
        found.append(
            (int(match.group(1)) if match.group(1) else None, WEEKDAY_CODES.index(match.group(2)))
        )
    return found


def _last_day(until: date | datetime, start_local: datetime) -> date:
    """The last day a series may fall on, as ``dateutil`` reads UNTIL: a bare date is that
    day at midnight, so an occurrence later that day is left out."""
    moment = until if isinstance(until, datetime) else datetime.combine(until, time())
    moment = moment.replace(tzinfo=None)
    return moment.date() if moment.time() >= start_local.time() else moment.date() - timedelta(1)


def week_of_month(day: date) -> int:
    """1 for the first Tuesday of a month, 2 for the second...; 5 for a fifth one."""
    return (day.day - 1) // 7 + 1


def in_last_week(day: date) -> bool:
    """True when ``day`` is the last of its weekday in its month."""
    return (day + timedelta(days=7)).month != day.month


@dataclass
class Picker:
    """What the recurrence picker shows: ``repeat`` is "none", one of ``FREQUENCIES`` or
    "custom" (a stored rule the other fields cannot say)."""

    repeat: str = "none"
    interval: int = 1
    weekdays: list[str] = field(default_factory=list)
    monthly: str = "day"
    ends: str = "never"
    until: date | None = None
    count: int | None = None

    def form_values(self) -> dict[str, Any]:
        """The form's fields (``repeat``, ``repeat_interval``...) as the template reads them."""
        return {
            "repeat": self.repeat,
            "repeat_interval": str(self.interval),
            "repeat_weekdays": list(self.weekdays),
            "repeat_monthly": self.monthly,
            "repeat_ends": self.ends,
            "repeat_until": self.until.isoformat() if self.until else "",
            "repeat_count": str(self.count) if self.count else "",
        }


def picker_of(rule_text: str, start_local: datetime) -> Picker:
    """The picker that gives ``rule_text`` from ``start_local`` (the same occurrences), or a
    ``Picker(repeat="custom")`` when none does."""
    if not rule_text:
        return Picker()
    custom = Picker(repeat="custom", weekdays=[WEEKDAY_CODES[start_local.weekday()]])
    try:
        parts = _parts(rule_text)
        freq = str(parts.pop("FREQ", [""])[0]).lower()
        interval = _integers(parts.pop("INTERVAL", [1]))[0]
        count = _integers(parts.pop("COUNT", [0]))[0]
        until = parts.pop("UNTIL", [None])[0]
        byday = _weekdays(parts.pop("BYDAY", []))
        bymonthday = _integers(parts.pop("BYMONTHDAY", []))
        bymonth = _integers(parts.pop("BYMONTH", []))
    except (ValueError, TypeError, IndexError):
        return custom
    if parts or freq not in FREQUENCIES or not 1 <= interval <= MAX_INTERVAL:
        return custom
    picker = Picker(repeat=freq, interval=interval, weekdays=list(custom.weekdays))
    if count and until is not None:
        return custom
    if count:
        picker.ends, picker.count = "count", count
    elif until is not None:
        if not isinstance(until, date):
            return custom
        picker.ends, picker.until = "until", _last_day(until, start_local)
    start_day = start_local.date()
    weekday = start_day.weekday()
    if freq == "daily" and (byday or bymonthday or bymonth):
        return custom
    if freq == "weekly":
        days = {day for ordinal, day in byday if ordinal is None}
        if bymonthday or bymonth or len(days) != len(byday) or (days and weekday not in days):
            return custom
        picker.weekdays = [WEEKDAY_CODES[d] for d in sorted(days or {weekday})]
    if freq == "monthly":
        if (
            bymonth
            or (byday and bymonthday)
            or len(byday) > 1
            or bymonthday not in ([], [start_day.day])
        ):
            return custom
        if byday:
            ordinal, day = byday[0]
            if day != weekday:
                return custom
            if ordinal == week_of_month(start_day) and ordinal <= 4:
                picker.monthly = "nth"
            elif ordinal == -1 and in_last_week(start_day):
                picker.monthly = "last"
            else:
                return custom
    if freq == "yearly" and (
        byday or bymonth not in ([], [start_day.month]) or bymonthday not in ([], [start_day.day])
    ):
        return custom
    if freq == "yearly" and bymonthday and not bymonth:
        return custom  # YEARLY;BYMONTHDAY=10 is the 10th of every month
    return picker


# --- Writing a rule from the picker ------------------------------------------------------------


def _whole_number(raw: Any) -> int | None:
    text = str(raw if raw is not None else "").strip()
    return int(text) if _WHOLE_NUMBER.fullmatch(text) else None


def _weekday_name(index: int) -> str:
    return get_day_names("wide", "format", locale=i18n.current_locale_code())[index]


def rule_from_form(
    data: Mapping[str, Any], start_local: datetime | None, kept_rule: str = ""
) -> tuple[str, dict[str, str]]:
    """The RRULE the picker fields of ``data`` ask for, and the messages of the fields that
    are wrong (then the rule is ""). ``start_local`` is the naive local start (None when the
    start itself is wrong: the fields are then only checked on their own); ``kept_rule``
    is the event's stored rule, which "custom" keeps.

    A weekly series with no day ticked falls on the weekday of the start; one whose ticked
    days leave out the start's weekday is refused, since its first meeting would not be
    one of the series (RFC 5545 leaves such a set undefined)."""
    errors: dict[str, str] = {}
    repeat = str(data.get("repeat") or "none")
    if repeat == "none":
        return "", errors
    if repeat == "custom":
        if not kept_rule:
            errors["repeat"] = _("Choose how often the event repeats.")
        elif start_local and (message := check_rule(kept_rule, start_local)):
            errors["repeat"] = message
        return ("" if errors else kept_rule), errors
    if repeat not in FREQUENCIES:
        errors["repeat"] = _("Choose how often the event repeats.")
        return "", errors
    parts: dict[str, Any] = {"FREQ": repeat.upper()}

    interval = _whole_number(data.get("repeat_interval") or "1")
    if interval is None or not 1 <= interval <= MAX_INTERVAL:
        errors["repeat_interval"] = _(
            "Repeat every 1 to %(max)d days, weeks, months or years.", max=MAX_INTERVAL
        )
    elif interval > 1:
        parts["INTERVAL"] = interval

    ends = str(data.get("repeat_ends") or "never")
    if ends not in END_OPTIONS:
        errors["repeat_ends"] = _("Choose when the series ends.")
    elif ends == "until":
        try:
            until = date.fromisoformat(str(data.get("repeat_until") or "").strip())
        except ValueError:
            errors["repeat_until"] = _("Give the date of the last occurrence (YYYY-MM-DD).")
        else:
            if start_local and until < start_local.date():
                errors["repeat_until"] = _(
                    "The series cannot end before its first occurrence (%(date)s).",
                    date=format_date(start_local.date(), "long", i18n.current_locale_code()),
                )
            parts["UNTIL"] = datetime.combine(until, time(23, 59, 59))
    elif ends == "count":
        count = _whole_number(data.get("repeat_count"))
        if count is None or not 1 <= count <= MAX_OCCURRENCES:
            errors["repeat_count"] = _(
                "Give a number of occurrences from 1 to %(max)d.", max=MAX_OCCURRENCES
            )
        else:
            parts["COUNT"] = count

    if repeat == "weekly":
        raw_days = data.get("repeat_weekdays") or []
        codes = [raw_days] if isinstance(raw_days, str) else list(raw_days)
        codes = [str(code).strip().upper() for code in codes if str(code).strip()]
        if any(code not in WEEKDAY_CODES for code in codes):
            errors["repeat_weekdays"] = _("Tick days of the week from the list.")
        elif start_local:
            start_code = WEEKDAY_CODES[start_local.weekday()]
            days = set(codes) or {start_code}
            if start_code not in days:
                errors["repeat_weekdays"] = _(
                    "The first occurrence is on a %(weekday)s: tick %(weekday)s as well, or "
                    "start the event on one of the days you ticked.",
                    weekday=_weekday_name(start_local.weekday()),
                )
            parts["BYDAY"] = [code for code in WEEKDAY_CODES if code in days]

    if repeat == "monthly":
        monthly = str(data.get("repeat_monthly") or "day")
        if monthly not in MONTHLY_OPTIONS:
            errors["repeat_monthly"] = _("Choose on which day of the month the event repeats.")
        elif start_local and monthly != "day":
            start_day = start_local.date()
            code = WEEKDAY_CODES[start_day.weekday()]
            nth = week_of_month(start_day)
            if monthly == "last" and not in_last_week(start_day):
                errors["repeat_monthly"] = _(
                    "The start is not the last %(weekday)s of its month: choose another option.",
                    weekday=_weekday_name(start_day.weekday()),
                )
            elif monthly == "nth" and nth > 4:
                errors["repeat_monthly"] = _(
                    "The start is the fifth %(weekday)s of its month, which most months do "
                    "not have: choose the last %(weekday)s or a day of the month.",
                    weekday=_weekday_name(start_day.weekday()),
                )
            parts["BYDAY"] = [f"{-1 if monthly == 'last' else nth}{code}"]

    if errors or start_local is None:
        return "", errors
    rule = vRecur(parts).to_ical().decode("ascii")
    message = check_rule(rule, start_local)
    if message:
        errors[{"until": "repeat_until", "count": "repeat_count"}.get(ends, "repeat")] = message
        return "", errors
    return rule, errors


# --- Describing a rule ----------------------------------------------------------------------------


def frequency_label(freq: str) -> str:
    """ "Daily", "Weekly", "Monthly" or "Yearly": the picker's choices and a description's
    first words."""
    labels = {
        "daily": pgettext("recurrence", "Daily"),
        "weekly": pgettext("recurrence", "Weekly"),
        "monthly": pgettext("recurrence", "Monthly"),
        "yearly": pgettext("recurrence", "Yearly"),
    }
    return labels[freq]


def _every(freq: str, interval: int) -> str:
    if interval == 1:
        return frequency_label(freq)
    if freq == "daily":
        return npgettext("recurrence", "Every %(num)d day", "Every %(num)d days", interval)
    if freq == "weekly":
        return npgettext("recurrence", "Every %(num)d week", "Every %(num)d weeks", interval)
    if freq == "monthly":
        return npgettext("recurrence", "Every %(num)d month", "Every %(num)d months", interval)
    return npgettext("recurrence", "Every %(num)d year", "Every %(num)d years", interval)


def interval_unit(freq: str, interval: int) -> str:
    """The word after the "Repeat every" number: "week", "weeks"..."""
    if freq == "daily":
        return npgettext("repeat every N", "day", "days", interval)
    if freq == "weekly":
        return npgettext("repeat every N", "week", "weeks", interval)
    if freq == "monthly":
        return npgettext("repeat every N", "month", "months", interval)
    return npgettext("repeat every N", "year", "years", interval)


def _locale_list(items: list[str]) -> str:
    return format_list(items, locale=i18n.current_locale_code())


def nth_weekday(ordinal: int, weekday: int) -> str:
    """ "the first Tuesday", "the last Friday" (``weekday``: 0 for Monday)."""
    name = _weekday_name(weekday)
    phrase = _NTH_WEEKDAY.get(ordinal)
    if phrase is not None:
        return str(phrase) % {"weekday": name}
    if ordinal > 0:
        return pgettext("recurrence", "%(weekday)s number %(num)d", weekday=name, num=ordinal)
    return pgettext(
        "recurrence", "%(weekday)s number %(num)d from the end", weekday=name, num=-ordinal
    )


def _on_days(byday: list[tuple[int | None, int]]) -> str:
    if all(n is None for n, _d in byday):  # plain weekdays: in the reader's week order
        first = first_week_day(i18n.current_locale_code())
        byday = sorted(byday, key=lambda item: (item[1] - first) % 7)
    names = [_weekday_name(d) if n is None else nth_weekday(n, d) for n, d in byday]
    return pgettext("recurrence", "on %(days)s", days=_locale_list(names))


def _on_month_days(days: list[int]) -> str:
    numbers = [
        str(d) if d > 0 else pgettext("recurrence", "%(num)d from the end", num=-d) for d in days
    ]
    return npgettext(
        "recurrence", "on day %(days)s", "on days %(days)s", len(days), days=_locale_list(numbers)
    )


def _positions(values: list[int]) -> str:
    names = [
        str(_POSITION[v])
        if v in _POSITION
        else (
            pgettext("recurrence position", "number %(num)d", num=v)
            if v > 0
            else pgettext("recurrence position", "number %(num)d from the end", num=-v)
        )
        for v in values
    ]
    return pgettext("recurrence", "(only %(positions)s of them)", positions=_locale_list(names))


def _with(rule: str, detail: str) -> str:
    return pgettext(
        "recurrence: a rule and one of its details", "%(rule)s %(detail)s", rule=rule, detail=detail
    )


def describe(rule_text: str, start_local: datetime) -> str:
    """``rule_text`` in the reader's words: "Every 2 weeks on Tuesday and Thursday, until
    June 30, 2027", "Monthly on the first Tuesday, 6 times". Days, dates, months and lists
    come from CLDR in the reader's locale; what the rule leaves out is taken from the start,
    as ``dateutil`` does ("Monthly on day 10"). A part that has no words here is quoted."""
    if not rule_text:
        return ""
    try:
        parts = _parts(rule_text)
        freq = str(parts["FREQ"][0]).lower()
        interval = _integers(parts.get("INTERVAL", [1]))[0]
        count = _integers(parts.get("COUNT", [0]))[0]
        until = parts.get("UNTIL", [None])[0]
        byday = _weekdays(parts.get("BYDAY", []))
        bymonthday = _integers(parts.get("BYMONTHDAY", []))
        bymonth = _integers(parts.get("BYMONTH", []))
        bysetpos = _integers(parts.get("BYSETPOS", []))
    except (ValueError, TypeError, IndexError, KeyError):
        return rule_text
    if (
        freq not in FREQUENCIES
        or interval < 1
        or not all(1 <= m <= 12 for m in bymonth)
        or not all(1 <= abs(d) <= 31 for d in bymonthday)
    ):
        return rule_text
    locale = i18n.current_locale_code()
    if not (byday or bymonthday or {"BYYEARDAY", "BYWEEKNO"} & parts.keys()):
        if freq == "yearly":
            bymonth = bymonth or [start_local.month]
            bymonthday = [start_local.day]
        elif freq == "monthly":
            bymonthday = [start_local.day]
        elif freq == "weekly":
            byday = [(None, start_local.weekday())]
    text = _every(freq, interval)
    if len(bymonth) == 1 and len(bymonthday) == 1 and bymonthday[0] > 0 and not byday:
        try:
            day = datetime.combine(date(2000, bymonth[0], bymonthday[0]), time())
        except ValueError:
            return rule_text
        text = _with(
            text,
            pgettext(
                "recurrence", "on %(date)s", date=format_skeleton("MMMMd", day, locale=locale)
            ),
        )
        bymonth = bymonthday = []
    if byday:
        text = _with(text, _on_days(byday))
    if bymonthday:
        text = _with(text, _on_month_days(bymonthday))
    if bymonth:
        months = get_month_names("wide", "stand-alone", locale=locale)
        text = _with(
            text,
            pgettext(
                "recurrence", "in %(months)s", months=_locale_list([months[m] for m in bymonth])
            ),
        )
    if bysetpos:
        text = _with(text, _positions(bysetpos))
    others = [
        f"{key}={rule_part}"
        for key, rule_part in _raw_parts(rule_text)
        if key not in _DESCRIBED_PARTS
    ]
    if others:
        text = _with(text, pgettext("recurrence", "(and %(rule)s)", rule=";".join(others)))
    if count:
        return npgettext(
            "recurrence", "%(rule)s, %(num)d time", "%(rule)s, %(num)d times", count, rule=text
        )
    if until is not None:
        last = _last_day(until, start_local)
        return pgettext(
            "recurrence",
            "%(rule)s, until %(date)s",
            rule=text,
            date=format_date(last, "long", locale=locale),
        )
    return text


def _raw_parts(rule_text: str) -> list[tuple[str, str]]:
    pairs = [p.split("=", 1) for p in rule_text.strip().removeprefix("RRULE:").split(";")]
    return [(key.upper(), value) for key, value in (p for p in pairs if len(p) == 2)]


# --- What the form shows ------------------------------------------------------------------------


@dataclass
class PickerChoices:
    """The picker's options in the reader's language, for the event form."""

    frequencies: list[tuple[str, str]]
    custom_description: str
    weekdays: list[tuple[str, str]]
    monthly: list[tuple[str, str]]
    unit: str
    script_data: dict[str, Any]


def first_week_day(code: str) -> int:
    """The first day of the week where the language is mostly written (0 for Monday): a bare
    "en" or "ar" carries no territory, CLDR's likely one (US, Egypt) says Sunday, Saturday."""
    likely = get_global("likely_subtags").get(code, code)
    try:
        return Locale.parse(likely).first_week_day
    except ValueError:
        return 0


def picker_choices(
    values: Mapping[str, Any],
    kept_rule: str = "",
    kept_start: datetime | None = None,
    start_local: datetime | None = None,
) -> PickerChoices:
    """The options of the picker: "custom" only when the event's stored ``kept_rule`` (from
    its stored start ``kept_start``) is one the other fields cannot say; the monthly choices
    name the day and weekday of ``start_local`` (the start in the form) when there is one."""
    code = i18n.current_locale_code()
    frequencies = [("none", pgettext("recurrence", "Does not repeat"))]
    frequencies += [(freq, frequency_label(freq)) for freq in FREQUENCIES]
    description = ""
    if kept_rule and kept_start and picker_of(kept_rule, kept_start).repeat == "custom":
        description = describe(kept_rule, kept_start)
        frequencies.append(("custom", pgettext("recurrence", "Custom rule (kept as it is)")))
    first = first_week_day(code)
    names = get_day_names("wide", "stand-alone", locale=code)
    weekdays = [(WEEKDAY_CODES[(first + i) % 7], names[(first + i) % 7]) for i in range(7)]
    if start_local is None:
        monthly = [
            ("day", pgettext("recurrence", "on the day of the month of the start")),
            (
                "nth",
                pgettext(
                    "recurrence",
                    "on the same weekday of the month as the start (e.g. the second Tuesday)",
                ),
            ),
            (
                "last",
                pgettext("recurrence", "on the start's weekday in the last week of the month"),
            ),
        ]
    else:
        start_day = start_local.date()
        monthly = [("day", _on_month_days([start_day.day]))]
        if week_of_month(start_day) <= 4:
            monthly.append(("nth", _on_days([(week_of_month(start_day), start_day.weekday())])))
        if in_last_week(start_day):
            monthly.append(("last", _on_days([(-1, start_day.weekday())])))
    repeat = str(values.get("repeat") or "")
    interval = _whole_number(values.get("repeat_interval")) or 1
    unit = (
        interval_unit(repeat, interval)
        if repeat in FREQUENCIES
        else pgettext("repeat every N", "days, weeks, months or years")
    )
    # For static/js/recurrence.js: the unit after each number and the monthly choices of any
    # start date, so that they follow what the coordinator types without a round trip.
    script_data = {
        "units": {
            freq: [interval_unit(freq, n) for n in range(1, MAX_INTERVAL + 1)]
            for freq in FREQUENCIES
        },
        "day": npgettext("recurrence", "on day %(days)s", "on days %(days)s", 1, days="{day}"),
        "nth": {str(n): [_on_days([(n, day)]) for day in range(7)] for n in (1, 2, 3, 4, -1)},
    }
    return PickerChoices(frequencies, description, weekdays, monthly, unit, script_data)
