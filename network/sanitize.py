"""Markdown rendering and HTML sanitising of message bodies: the one door for bleach.

Every message body is written in Markdown and goes through :func:`render_markdown`
(markdown-it-py, raw HTML off) and then :func:`clean_html` (bleach, explicit
allowlist) before it is stored or shown. :func:`mentions` reads ``@handle`` mentions
from the same Markdown source.

The fence around bleach
    bleach is marked inactive upstream. The product owner keeps it, but it is imported
    here and nowhere else in the ``network`` package (a test greps the package to
    prove it), so replacing it later touches one module. What we rely on from it is
    small: html5lib's browser-grade parser, a tag/attribute/protocol allowlist and a
    serialiser. We do not rely on its defaults: every list below is explicit.

Choices
    * Raw HTML typed in a message is text: ``<b>hi</b>`` shows as the characters
      ``<b>hi</b>``, never as bold.
    * Images are not allowed (attachments are the way to share files). Markdown image
      syntax ``![alt](url)`` renders as an ordinary link whose text is the alt text
      (or the URL when the alt text is empty); inside another link only the alt text
      is kept, since links cannot nest.
    * Headings are downgraded: ``# Title`` renders as ``<p><strong>Title</strong></p>``.
      A message lives inside a page that has its own heading outline, and a chat
      message must not add page-level headings to it (screen readers navigate by
      them). ``h1`` to ``h6`` are therefore not in :data:`ALLOWED_TAGS`.
    * Links must be absolute ``http://``, ``https://`` or ``mailto:`` URLs. Relative
      links and bare fragments are dropped: a message is also shown in e-mail
      notifications, exports and other pages, where a relative URL would point
      somewhere else. A link whose URL is refused loses its ``<a>`` element; its text
      stays. Every kept link gets ``rel="noopener noreferrer"`` and no ``target``.
    * No ``style`` attribute anywhere. Table column alignment, which markdown-it
      writes as ``style="text-align:…"``, is carried by ``align`` instead.
    * ``code`` keeps a ``class`` only when it is ``language-…`` (fenced code info).
    * :func:`clean_html` is idempotent: cleaning its output again changes nothing.
      Attribute values are decoded and written back fully escaped, attributes in name
      order, and the newline a parser drops after ``<pre>`` is doubled. A serialised
      tree can still parse into a different one (a link inside a table inside a link
      is un-nested on the second parse), so cleaning repeats until the output is a
      fixed point, and refuses input that never settles.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from html import unescape
from typing import Any

import bleach
from bleach.html5lib_shim import Filter, HTMLSerializer
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

logger = logging.getLogger(__name__)

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "br",
        "strong",
        "em",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "hr",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
"""Elements that may appear in a rendered message; everything else is stripped."""

ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})
"""URL schemes a link may use; links must be absolute and use one of these."""

_CODE_CLASS = re.compile(r"language-[a-z0-9+-]+")
_CELL_ALIGN = frozenset({"left", "center", "right"})
_LINK_REL = "noopener noreferrer"
# What a browser ignores or strips before it reads a URL's scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f-\xa0\s]+")
_ABSOLUTE_URL = re.compile(r"(?:https?://|mailto:)")
# Each pass of bleach moves towards a tree that parses back to itself; two or three
# passes settle every input we have seen. The bound only guards against a loop.
_MAX_PASSES = 8


def _allowed_url(value: str) -> bool:
    """Whether ``value`` (an attribute value, entities not yet decoded) is a URL we keep."""
    normalized = _URL_NOISE.sub("", unescape(value)).lower()
    return _ABSOLUTE_URL.match(normalized) is not None


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if tag == "a":
        return name == "title" or (name == "href" and _allowed_url(value))
    if tag in {"th", "td"}:
        return name == "align" and value in _CELL_ALIGN
    if tag == "code":
        return name == "class" and _CODE_CLASS.fullmatch(value) is not None
    return False


class _LinksAndLayoutFilter(Filter):
    """Finish what bleach's allowlist leaves: links, attribute order, ``<pre>`` newlines.

    * ``<a>`` without a (surviving) ``href`` is unwrapped, its content kept;
    * every ``<a>`` gets ``rel="noopener noreferrer"``;
    * attribute values are decoded (the parser leaves their entities as typed) and
      written in name order, so a second pass writes them the same way;
    * a ``<pre>`` whose text starts with a newline gets one more, because the parser
      drops the first newline after ``<pre>`` and would otherwise eat one per pass.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        unwrapped: list[bool] = []  # one entry per open <a>: was it dropped?
        after_pre = False
        for token in super().__iter__():
            kind, name = token["type"], token.get("name")
            is_text = kind in {"Characters", "SpaceCharacters"}
            if after_pre and is_text and token["data"].startswith("\n"):
                token = {**token, "data": "\n" + token["data"]}

            if name == "a" and kind == "StartTag":
                has_href = (None, "href") in token["data"]
                unwrapped.append(not has_href)
                if not has_href:
                    continue
                token["data"][(None, "rel")] = _LINK_REL
            elif name == "a" and kind == "EndTag":
                # The stream comes from a parsed tree, so every </a> closes an <a> seen.
                was_unwrapped = unwrapped.pop()
                if was_unwrapped:
                    continue
            if kind in {"StartTag", "EmptyTag"} and token.get("data"):
                token["data"] = {
                    key: unescape(value)
                    for key, value in sorted(token["data"].items(), key=lambda item: item[0][1])
                }
            # Only what is written counts: an unwrapped <a> right after <pre> must not
            # hide the newline that follows it.
            after_pre = kind == "StartTag" and name == "pre"
            yield token


def _new_cleaner() -> bleach.Cleaner:
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=_allow_attribute,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
        filters=[_LinksAndLayoutFilter],
    )
    # bleach's own serialiser writes attribute values back with their entities as
    # typed, which a second parse reads differently (a title holding a quote grows an
    # "&amp;" per pass). Our filter decodes every kept value, so html5lib's plain
    # serialiser, which escapes "&", "<" and '"' in full, writes it back exactly.
    cleaner.serializer = HTMLSerializer(
        quote_attr_values="always",
        use_best_quote_char=False,
        omit_optional_tags=False,
        escape_lt_in_attrs=True,
        resolve_entities=False,
        sanitize=False,
        alphabetical_attributes=False,
    )
    return cleaner


# A bleach.Cleaner keeps parser state between calls and is not thread-safe.
_local = threading.local()


def _clean_once(html_text: str) -> str:
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        cleaner = _local.cleaner = _new_cleaner()
    return cleaner.clean(html_text)


def clean_html(html: str) -> str:
    """Return ``html`` reduced to the allowlist; the result is a fixed point.

    Disallowed elements are removed (their text is kept, escaped), disallowed
    attributes and URLs are dropped, comments are removed.

    :raises ValueError: if the HTML does not settle into a stable form; no input is
        known to do this, and refusing it is safer than storing a body that a second
        cleaning would change.
    """
    cleaned = _clean_once(html)
    for _ in range(_MAX_PASSES):
        again = _clean_once(cleaned)
        if again == cleaned:
            return cleaned
        cleaned = again
    logger.warning("HTML cleaning did not settle after %d passes", _MAX_PASSES)
    raise ValueError("HTML could not be sanitised to a stable form")


def _render_image(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    """Render ``![alt](url)`` as a link (or as plain alt text inside another link)."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children, options, env)
    depth = sum((t.type == "link_open") - (t.type == "link_close") for t in tokens[:idx])
    if depth > 0:
        return escapeHtml(alt)
    src = token.attrGet("src") or ""
    title = token.attrGet("title")
    title_attr = f' title="{escapeHtml(str(title))}"' if title else ""
    return f'<a href="{escapeHtml(str(src))}"{title_attr}>{escapeHtml(alt or str(src))}</a>'


def _render_heading_open(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    return "<p><strong>"


def _render_heading_close(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    return "</strong></p>\n"


def _render_cell_open(self: Any, tokens: list[Any], idx: int, options: Any, env: Any) -> str:
    """Render ``th``/``td`` with ``align`` in place of markdown-it's ``style``."""
    token = tokens[idx]
    style = token.attrGet("style")
    if style is not None:
        del token.attrs["style"]
        align = str(style).removeprefix("text-align:")
        if align in _CELL_ALIGN:
            token.attrSet("align", align)
    return self.renderToken(tokens, idx, options, env)


def _make_markdown() -> MarkdownIt:
    md = MarkdownIt(
        "commonmark",
        {"html": False, "linkify": False, "typographer": False, "breaks": True},
    ).enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image)
    md.add_render_rule("heading_open", _render_heading_open)
    md.add_render_rule("heading_close", _render_heading_close)
    md.add_render_rule("th_open", _render_cell_open)
    md.add_render_rule("td_open", _render_cell_open)
    return md


_markdown = _make_markdown()


# A single paragraph of plain text, as markdown-it renders most chat messages: no markup
# and no character that HTML gives a meaning to (markdown-it would have escaped "<", "&"
# and quotes, so their absence means the text went through unchanged), no control
# character, surrogate or noncharacter for html5lib to replace.
_PLAIN_PARAGRAPH = re.compile(
    "<p>[^<>&\"'\x00-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]*</p>\n"
)


def render_markdown(text: str) -> str:
    """Render a message's Markdown to sanitised HTML, safe to insert into a page.

    A plain paragraph is returned as rendered: it is already what cleaning would return
    (``tests/test_sanitize.py`` checks that equality over generated text), and bleach's
    two passes were a third of the cost of sending a message.
    """
    rendered = _markdown.render(text)
    if _PLAIN_PARAGRAPH.fullmatch(rendered):
        return rendered
    return clean_html(rendered)


# A handle starts and ends with a letter or digit; dots, underscores and hyphens may
# sit inside. Not after a word character, dot, slash, @ and the like, so the "@" of an
# e-mail address or of a URL path never starts a mention; not before "@" either, so
# "@name@example.org" is not a mention of "name".
_MENTION = re.compile(
    r"(?<![\w.%+\-/@])@([A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9])"
    r"(?![A-Za-z0-9_@]|[._-][A-Za-z0-9])"
)


def _mention_text(children: list[Any]) -> Iterator[str]:
    """The visible prose of an inline token, without code spans and autolinks."""
    in_autolink = False
    for child in children:
        if child.type == "link_open" and child.markup == "autolink":
            in_autolink = True
            yield " "
        elif child.type == "link_close" and child.markup == "autolink":
            in_autolink = False
        elif child.type == "text" and not in_autolink:
            yield child.content
        elif child.type in {"code_inline", "image"}:
            yield " "
        elif child.type in {"softbreak", "hardbreak"}:
            yield "\n"


def mentions(text: str) -> list[str]:
    """Return the handles mentioned in Markdown ``text``, lowercased, unique, in order.

    A mention is ``@handle`` where the handle has 2 to 64 characters from
    ``A-Z a-z 0-9 . _ -`` and starts and ends with a letter or digit (so the full stop
    in "ask @maria." is not part of it). E-mail addresses, URLs, code spans, code
    blocks and image descriptions hold no mentions. Mapping handles to users, and
    ignoring handles that name nobody, is the caller's job.
    """
    if "@" not in text:
        return []  # most messages: no Markdown parse needed
    found: dict[str, None] = {}
    for token in _markdown.parse(text):
        if token.type != "inline" or not token.children:
            continue
        prose = "".join(_mention_text(token.children))
        for match in _MENTION.finditer(prose):
            found.setdefault(match.group(1).lower(), None)
    return list(found)
