"""The hostile-input corpus and the helpers that aim it at the app (ASVS V5).

Values come in two classes:

* ``TEXT``: XSS / mutation-XSS vectors (the sanitiser's corpus), SQL metacharacters and
  Unicode tricks. They are valid *text*: a form may store them, as inert text; what must
  hold is no server error (and the sanitiser tests prove they render inert).
* ``INVALID``: values carrying control characters, invalid UTF-8, 10 MB. No field of the
  app accepts them: the request must be refused with a 4xx (or a form re-rendered with
  its error) and the database left as it was.
* ``ILL_TYPED``: invalid dates and time zones, absurd numbers. A typed field refuses them,
  a free-text field may keep them as text: no server error.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Flask

from network.extensions import db
from tests.messaging.test_sanitize import XSS_CORPUS

SQL = [
    "' OR '1'='1",
    "'; DROP TABLE users; --",
    '" OR ""="',
    "1; SELECT pg_sleep(5)--",
    "%' AND 1=1 --",
    "\\'; --",
    "1) UNION SELECT password_hash FROM users --",
    "_%_%",
]
UNICODE_TRICKS = [
    "\u202egnp.exe",  # right-to-left override
    "\ufeffBOM",
    "A\u0301\u0301\u0301\u0301",
    "\U0001d54f" * 20,
    "\u200b\u200c\u200d",
    "\ud7ff\ue000\uffef",
]
TEXT: list[str] = [*XSS_CORPUS[::6], *SQL, *UNICODE_TRICKS]

CONTROL = "\x01\x02\x1b[31m\x07\x7f\x85"
BAD_DATES = ["2026-02-30", "9999-99-99T25:61", "0000-00-00", "-1", "2026-13-01T00:00"]
BAD_ZONES = ["Mars/Olympus_Mons", "../../../etc/passwd", "UTC+99"]
# Refused by every field (the control-character gate, then each field's own check).
INVALID: list[str] = [
    f"{CONTROL}{BAD_DATES[0]}",
    f"{BAD_DATES[1]}{CONTROL}",
    f"{BAD_ZONES[0]}\x1b",
    f"\x0b{BAD_ZONES[1]}\x08",
    f"{10**40}\x0e",
]
# Refused by a date, time-zone or number field, but valid text in a free-text field.
ILL_TYPED: list[str] = [*BAD_DATES, *BAD_ZONES, str(10**40), "-1", "NaN", "1e999"]
HUGE = "A" * (10 * 1024 * 1024)
FORMULAS = [
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|'/C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]

# Tables whose rows are a record of the attempt itself, not data the input could change.
_LOG_TABLES = re.compile(r"audit|throttle|read_marker|receipt|notification|login")


def deep_json(levels: int = 10_000) -> str:
    return "[" * levels + "]" * levels


def deep_object(levels: int = 10_000) -> Any:
    value: Any = {}
    for _ in range(levels):
        value = {"a": value}
    return value


def fingerprint() -> tuple[tuple[str, int, str], ...]:
    """Per table: row count and a digest of its rows (timestamps left out, since a
    "last seen" moves on every request). Equal before and after = the data is unchanged."""
    result = []
    for table in db.metadata.sorted_tables:
        if _LOG_TABLES.search(table.name):
            continue
        columns = [c for c in table.columns if not c.name.endswith("_at")]
        order = list(table.primary_key.columns) or columns[:1]
        rows = db.session.execute(sa.select(*columns).order_by(*order)).all()
        digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]
        result.append((table.name, len(rows), digest))
    return tuple(result)


def changed(before: Any, after: Any) -> list[str]:
    b = {name: (n, d) for name, n, d in before}
    return [name for name, n, d in after if b.get(name) != (n, d)]


# --- the app's routes and their fields -------------------------------------------------

_FORM = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
_ACTION = re.compile(r'action="([^"]*)"')
_NAME = re.compile(r'<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"', re.I)


def form_fields(html: str, page_path: str) -> Iterator[tuple[str, set[str]]]:
    """Each form of a page: its action path and the names of its fields."""
    for attrs, body in _FORM.findall(html):
        match = _ACTION.search(attrs)
        action = (match.group(1) if match else page_path).split("?")[0].replace("&amp;", "&")
        if "method=" not in attrs.lower() or 'method="get"' in attrs.lower():
            continue
        names = set(_NAME.findall(body)) - {"csrf_token"}
        yield action or page_path, names


def wtforms_fields(view: Any) -> set[str]:
    """Names of the fields of the WTForms classes a view's source mentions."""
    import inspect
    import sys

    from flask_wtf import FlaskForm
    from wtforms.fields.core import UnboundField

    try:
        source = inspect.getsource(view)
    except (OSError, TypeError):
        return set()
    module = sys.modules[view.__module__]
    names: set[str] = set()
    for class_name in set(re.findall(r"\b([A-Z]\w*Form)\b", source)):
        cls = getattr(module, class_name, None)
        if isinstance(cls, type) and issubclass(cls, FlaskForm):
            for klass in cls.__mro__:
                names |= {k for k, v in vars(klass).items() if isinstance(v, UnboundField)}
    names |= set(
        re.findall(r"""(?:form|request\.form|request\.files)\.get(?:list)?\(\s*["'](\w+)""", source)
    )
    return names


def buildable(app: Flask, rule: Any, ids: dict[str, Any]) -> str | None:
    values: dict[str, Any] = {}
    for arg in rule.arguments:
        converter = rule._converters[arg]
        items = getattr(converter, "items", None)
        if items:
            values[arg] = sorted(items)[0]
        elif arg in ids:
            values[arg] = ids[arg]
        else:
            return None
    with app.test_request_context():
        from flask import url_for

        try:
            return url_for(rule.endpoint, **values)
        except Exception:
            return None
