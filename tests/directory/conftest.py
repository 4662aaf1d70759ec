"""Fixtures for the directory tests: a small hand-built directory whose facet counts are
known by heart, and helpers to read what the pages show."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.datastructures import MultiDict

from network.extensions import db as _db
from network.models.base import utcnow
from network.models.directory import ContactPoint, Network
from network.models.people import User
from network.policy import SYSTEM
from network.services import directory


@dataclass
class World:
    """Three networks; the member belongs to alpha and beta, never to gamma."""

    alpha: Network
    beta: Network
    gamma: Network
    member: User
    entries: dict[str, ContactPoint]

    def id(self, key: str) -> int:
        return self.entries[key].id


def days_ago(n: int) -> date:
    return utcnow().date() - timedelta(days=n)


@pytest.fixture
def world(
    make_network: Callable[..., Network],
    make_user: Callable[..., User],
    make_contact_point: Callable[..., ContactPoint],
) -> World:
    """Entries (visible to the member unless said otherwise):

    ana      PT central_authority  beta         mla, extradition   pt,en / req pt     office
    moussa   SN prosecution        alpha        mla                fr                 24/7
    fatou    SN central_authority  alpha        extradition, e_ev  fr,en              office
    javier   ES judiciary          alpha, beta  mla, confiscation  es / req es,en     office
    shared   ML law_enforcement    alpha, gamma cybercrime         fr                 24/7
    hidden   ES central_authority  gamma only (never visible to the member)
    former   SN central_authority  alpha, succeeded by fatou (out of the default search)
    """
    alpha = make_network("alpha", acronym="ALPHA", states="SN ML ES")
    beta = make_network("beta", acronym="BETA", states="ES PT")
    gamma = make_network("gamma", acronym="GAMMA", states="ES ML")
    member = make_user(memberships=[(alpha, "contact_point"), (beta, "observer")])
    specs: dict[str, dict[str, Any]] = {
        "ana": {
            "name": "Ana Gonçalves",
            "institution": "Procuradoria-Geral da República",
            "authority_type": "central_authority",
            "country": "PT",
            "networks": ["beta"],
            "expertise": ["mla", "extradition"],
            "languages": ["pt", "en"],
            "request_languages": ["pt"],
            "available_24_7": False,
            "last_confirmed": days_ago(10),
        },
        "moussa": {
            "name": "Moussa Diallo",
            "institution": "Parquet général",
            "authority_type": "prosecution",
            "country": "SN",
            "networks": ["alpha"],
            "expertise": ["mla"],
            "languages": ["fr"],
            "request_languages": [],
            "available_24_7": True,
            "notes": "Speaks Wolof as well.",
            "last_confirmed": days_ago(400),
        },
        "fatou": {
            "name": "Fatou Ndiaye",
            "authority_type": "central_authority",
            "country": "SN",
            "networks": ["alpha"],
            "expertise": ["extradition", "e_evidence"],
            "languages": ["fr", "en"],
            "request_languages": [],
            "available_24_7": False,
            "last_confirmed": days_ago(30),
        },
        "javier": {
            "name": "Javier García",
            "institution": "Audiencia Nacional",
            "authority_type": "judiciary",
            "country": "ES",
            "networks": ["alpha", "beta"],
            "expertise": ["mla", "confiscation"],
            "languages": ["es"],
            "request_languages": ["es", "en"],
            "available_24_7": False,
            "last_confirmed": days_ago(200),
        },
        "shared": {
            "name": "Shared Person",
            "authority_type": "law_enforcement",
            "country": "ML",
            "networks": ["alpha", "gamma"],
            "expertise": ["cybercrime"],
            "languages": ["fr"],
            "request_languages": [],
            "available_24_7": True,
            "last_confirmed": days_ago(100),
        },
        "hidden": {
            "name": "Hidden Outsider",
            "institution": "Audiencia Nacional",
            "authority_type": "central_authority",
            "country": "ES",
            "networks": ["gamma"],
            "expertise": ["mla", "extradition"],
            "languages": ["es", "en"],
            "request_languages": ["es"],
            "available_24_7": True,
            "last_confirmed": days_ago(5),
        },
        "former": {
            "name": "Former Predecessor",
            "authority_type": "central_authority",
            "country": "SN",
            "networks": ["alpha"],
            "expertise": ["extradition", "mla"],
            "languages": ["fr"],
            "request_languages": [],
            "available_24_7": True,
            "last_confirmed": days_ago(3),
        },
    }
    entries = {key: make_contact_point(**spec) for key, spec in specs.items()}
    directory.hand_over(entries["former"], entries["fatou"], SYSTEM)
    return World(alpha, beta, gamma, member, entries)


def count_rows(model: type) -> int:
    """How many rows the table of ``model`` has (in this test's transaction)."""
    from sqlalchemy import func, select

    return _db.session.scalar(select(func.count()).select_from(model)) or 0


def page_text(response: Any) -> str:
    return response.get_data(as_text=True)


def facet_counts(page: str, facet: str) -> dict[str, int]:
    """{label: count} of one facet as the search page shows it."""
    match = re.search(rf'<section class="facet" data-facet="{facet}">(.*?)</section>', page, re.S)
    if not match:
        return {}
    pairs = re.findall(
        r'<span class="label">(.*?)</span> <span class="count">(\d+)</span>', match.group(1)
    )
    return {html.unescape(label): int(n) for label, n in pairs}


def result_names(page: str) -> list[str]:
    """The names on the result cards, in page order."""
    return [
        html.unescape(name)
        for name in re.findall(r'<article class="cp-card">\s*<h3><a [^>]*>(.*?)</a>', page)
    ]


def form_token(client: FlaskClient, path: str) -> str:
    """The CSRF token of the (first) form on ``path``."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def flashes(page: str) -> str:
    """The text of the page without tags, whitespace collapsed (for messages)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


class _FormReader(HTMLParser):
    """Collects what a browser would submit from the first ``<form method="post">`` whose
    ``action`` is ``action`` (``None``: a form that posts to its own page)."""

    def __init__(self, action: str | None) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.values: list[tuple[str, str]] = []
        self.in_form = False
        self.done = False
        self.select: str | None = None
        self.multiple = self.chosen = False
        self.first: str | None = None
        self.option: dict[str, str | None] | None = None
        self.textarea: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if self.done:
            return
        if tag == "form" and (a.get("method") or "").lower() == "post":
            self.in_form = (a.get("action") or None) == self.action
        if not self.in_form:
            return
        name = a.get("name")
        if tag == "input" and name and "disabled" not in a:
            kind = (a.get("type") or "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.values.append((name, a.get("value") or "y"))
            elif kind not in {"submit", "button", "file"}:
                self.values.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self.select, self.multiple, self.first, self.chosen = name, "multiple" in a, None, False
        elif tag == "option" and self.select:
            if self.first is None:
                self.first = a.get("value") or ""
            if "selected" in a:
                self.values.append((self.select, a.get("value") or ""))
                self.chosen = True
        elif tag == "textarea" and name:
            self.textarea, self.text = name, ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self.select:
            if not self.multiple and not self.chosen and self.first is not None:
                self.values.append((self.select, self.first))  # a browser sends the first
            self.select = None
        elif tag == "textarea" and self.textarea:
            text = self.text.removeprefix("\r").removeprefix("\n")  # as browsers do
            self.values.append((self.textarea, text))
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text += data


def form_values(page: str, action: str | None = None) -> MultiDict[str, str]:
    """The values a POST form on ``page`` would send, as a browser sends them."""
    reader = _FormReader(action)
    reader.feed(page)
    return MultiDict(reader.values)


@pytest.fixture
def pages() -> SimpleNamespace:
    """Helpers to read what the pages show (fixtures, so test modules need no imports)."""
    return SimpleNamespace(
        text=page_text,
        facet_counts=facet_counts,
        result_names=result_names,
        form_token=form_token,
        flashes=flashes,
        count_rows=count_rows,
        days_ago=days_ago,
        form_values=form_values,
    )
