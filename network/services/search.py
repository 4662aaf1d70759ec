"""Search over encrypted messages through a blind index (``MessageTerm``).

Message bodies are encrypted at rest, so the database cannot search them. Instead every
distinct word of a message is stored as a keyed hash: HMAC-SHA-256 under a search key
derived from the data key (HKDF), truncated to 32 hex digits. A query is cut into words
the same way and hashed with the same key; a message matches when it holds every query
word. Without the data key nobody can compute the hash of a word, so a copy of the
database reveals no message text (README, "Security").

Words: the text is folded (compatibility decomposition, accents removed, case folded:
``network.i18n.fold``), cut at every character that is not a letter or a digit, and every
word of two or more characters is kept (no stop words). Words in scripts written without
spaces (Chinese, Japanese) are indexed as overlapping pairs of characters. Each word of
three or more characters is also indexed by its prefixes of 3 to ``MAX_PREFIX``
characters, so "extrad" finds "extradition"; a two-character query word matches whole
words only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import delete, func, insert, select, union
from sqlalchemy.orm import selectinload

from network import crypto, policy
from network.errors import Unauthorized, ValidationError
from network.extensions import db
from network.i18n import fold
from network.models.messaging import Channel, ChannelKind, Message, MessageTerm
from network.security import is_database_int
from network.services import audit

MIN_WORD = 2
MIN_PREFIX = 3
MAX_PREFIX = 24
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 8
PER_PAGE = 20
MAX_PER_PAGE = 100
SNIPPET_CHARS = 240

# Letters and digits (``\w`` without the underscore); runs of CJK characters within them.
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]+")


# --- Words --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A word of a folded text with its place in that text; ``whole`` is False for the
    pairs of characters cut from CJK runs (they have no prefixes)."""

    start: int
    end: int
    word: str
    whole: bool = True


def tokens(folded: str) -> list[Token]:
    """The words of an already folded text, in order."""
    found: list[Token] = []
    for run in _WORD.finditer(folded):
        text, base, position = run.group(), run.start(), 0
        for cjk in _CJK.finditer(text):
            _plain(found, text, base, position, cjk.start())
            for i in range(cjk.start(), cjk.end() - 1):
                found.append(Token(base + i, base + i + 2, text[i : i + 2], whole=False))
            position = cjk.end()
        _plain(found, text, base, position, len(text))
    return found


def _plain(found: list[Token], text: str, base: int, start: int, end: int) -> None:
    if end - start >= MIN_WORD:
        found.append(Token(base + start, base + end, text[start:end]))


def words(text: str) -> list[str]:
    """The distinct words of ``text`` as the index and the queries see them, in order."""
    return list(dict.fromkeys(t.word for t in tokens(fold(text))))


def index_words(text: str) -> set[str]:
    """What is indexed for ``text``: its words and the prefixes of its longer words."""
    indexed: set[str] = set()
    for token in tokens(fold(text)):
        indexed.add(token.word)
        if token.whole:
            for length in range(MIN_PREFIX, min(len(token.word) - 1, MAX_PREFIX) + 1):
                indexed.add(token.word[:length])
    return indexed


# --- The index ------------------------------------------------------------------------------


def index_message(message: Message, text: str, *, new: bool = False) -> None:
    """(Re)index ``message`` whose plaintext is ``text``, in the current transaction
    (the caller commits), under the current data key. ``new``: the message was just
    inserted, so it has no rows to replace (one statement fewer per send)."""
    write_terms(message.id, message.channel_id, text, replace=not new)


def index_new_messages(
    messages: Iterable[tuple[int, int, str]], ring: crypto.Keyring | None = None
) -> None:
    """Index messages just inserted, given as ``(message id, channel id, plaintext)``, in
    the current transaction with one bulk insert for them all (a batch of sends), under
    ``ring`` (the keyring their bodies were sealed with) or else the current one."""
    search_key = crypto.search_keys(ring)[0]
    rows = [
        (message_id, channel_id, term)
        for message_id, channel_id, text in messages
        for term in {crypto.blind_term(search_key, w) for w in index_words(text)}
    ]
    if not rows:
        return
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        # sqlite3's executemany takes the rows as they are; SQLAlchemy's builds and
        # processes a parameter dictionary per row first, which was a tenth of a send's
        # time (a message has a row per word and prefix).
        connection.exec_driver_sql(_INSERT_TERMS_SQLITE, rows)
        return
    # PostgreSQL: SQLAlchemy turns the rows into one multi-row INSERT (a round trip).
    db.session.execute(
        insert(MessageTerm.__table__),
        [{"message_id": m, "channel_id": c, "term": t} for m, c, t in rows],
    )


_INSERT_TERMS_SQLITE = "INSERT INTO message_terms (message_id, channel_id, term) VALUES (?, ?, ?)"


def write_terms(message_id: int, channel_id: int, text: str, *, replace: bool = True) -> None:
    """Replace the index rows of one message (used by ``index_message`` and by the key
    rotation, which works on rows rather than loaded messages), in one bulk insert."""
    if replace:
        db.session.execute(delete(MessageTerm).where(MessageTerm.message_id == message_id))
    index_new_messages([(message_id, channel_id, text)])


def forget_message(message: Message) -> None:
    """Remove ``message`` from the index (deleted or purged), in the current transaction."""
    if message.id is not None:
        db.session.execute(delete(MessageTerm).where(MessageTerm.message_id == message.id))


def rebuild_index(batch_size: int = 200) -> int:
    """Index every message again under the current key, in batches (each committed);
    returns how many messages were indexed."""
    from network.services import messaging

    done, last_id = 0, 0
    while True:
        batch = list(
            db.session.scalars(
                select(Message)
                .where(Message.id > last_id, Message.body_encrypted.is_not(None))
                .order_by(Message.id)
                .limit(batch_size)
            )
        )
        if not batch:
            db.session.commit()
            return done
        for message in batch:
            write_terms(message.id, message.channel_id, messaging.message_body(message))
            last_id = message.id
        done += len(batch)
        db.session.commit()


# --- Searching ----------------------------------------------------------------------------


@dataclass
class SearchHit:
    message: Message
    channel: Channel
    snippet: Markup


@dataclass
class SearchPage:
    query: str
    items: list[SearchHit] = field(default_factory=list)
    total: int = 0
    page: int = 1
    per_page: int = PER_PAGE
    channel: Channel | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _whole_number(name: str, value: Any, low: int, high: int | None = None) -> int:
    if not is_database_int(value) or value < low:
        raise ValidationError(fields={name: _("Use a whole number of %(n)d or more.", n=low)})
    if high is not None and value > high:
        raise ValidationError(
            fields={name: _("Use a number from %(low)d to %(high)d.", low=low, high=high)}
        )
    return value


def query_words(query: Any) -> list[str]:
    """The words of a search query; raises ``ValidationError`` when there is nothing to
    search for or too much."""
    if not isinstance(query, str) or not query.strip():
        raise ValidationError(fields={"q": _("Type the words to search for.")})
    if len(query) > MAX_QUERY_CHARS:
        raise ValidationError(
            fields={"q": _("A search has at most %(n)d characters.", n=MAX_QUERY_CHARS)}
        )
    found = words(query)
    if not found:
        raise ValidationError(fields={"q": _("Search for words of two letters or more.")})
    if len(found) > MAX_QUERY_WORDS:
        raise ValidationError(
            fields={"q": _("A search has at most %(n)d words.", n=MAX_QUERY_WORDS)}
        )
    return found


def _matching_ids(query: list[str], channel_ids: list[int]) -> Any:
    """The ids of the messages holding every query word, under any key of the keyring
    (all the terms of one message are made with one key, so each key is asked alone)."""
    selects = []
    for search_key in crypto.search_keys():
        terms = {crypto.blind_term(search_key, w) for w in query}
        selects.append(
            select(MessageTerm.message_id)
            .where(MessageTerm.term.in_(terms), MessageTerm.channel_id.in_(channel_ids))
            .group_by(MessageTerm.message_id)
            .having(func.count(MessageTerm.term.distinct()) == len(terms))
        )
    if len(selects) == 1:
        return selects[0]
    either = union(*selects).subquery()
    return select(either.c.message_id)


def search_messages(
    user: Any,
    query: Any,
    *,
    channel_id: Any = None,
    page: Any = 1,
    per_page: Any = PER_PAGE,
) -> SearchPage:
    """The messages holding every word of ``query`` in the channels ``user`` may read now
    (optionally one of them), newest first, one page at a time.

    Channels come from ``messaging.channels_for``, which asks the policy: a message in a
    channel the user left or was removed from is not found. Showing case-channel messages
    is reading them, so it is audited like reading the channel. Raises
    ``Unauthorized``, ``ValidationError`` or ``NotFound`` (a channel not readable).
    """
    from network.services import messaging

    if not policy.is_signed_in(user):
        raise Unauthorized()
    query_list = query_words(query)
    page = _whole_number("page", page, 1)
    per_page = _whole_number("per_page", per_page, 1, MAX_PER_PAGE)
    chosen: Channel | None = None
    if channel_id is not None:
        chosen = messaging.get_channel(channel_id, user)
        channels = {chosen.id: chosen}
    else:
        channels = {s.channel.id: s.channel for s in messaging.channels_for(user)}
    result = SearchPage(query=query, page=page, per_page=per_page, channel=chosen)
    if not channels:
        return result
    ids = list(channels)
    where = (
        Message.id.in_(_matching_ids(query_list, ids)),
        Message.channel_id.in_(ids),
        Message.deleted_at.is_(None),
    )
    result.total = db.session.scalar(select(func.count()).select_from(Message).where(*where))
    found = db.session.scalars(
        select(Message)
        .where(*where)
        .options(selectinload(Message.author))
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    for message in found:
        text = messaging.message_body(message)
        result.items.append(
            SearchHit(message, channels[message.channel_id], snippet(text, query_list))
        )
    _audit_case_reads(user, result.items)
    return result


def _audit_case_reads(user: Any, hits: list[SearchHit]) -> None:
    shown: dict[int, list[int]] = {}
    for hit in hits:
        if hit.channel.kind == ChannelKind.CASE.value:
            shown.setdefault(hit.channel.id, []).append(hit.message.seq)
    for channel_id, seqs in shown.items():
        channel = next(h.channel for h in hits if h.channel.id == channel_id)
        audit.record_channel_event(
            user, "case_channel.read", channel, via="search", seqs=sorted(seqs)
        )
    if shown:
        db.session.commit()


# --- Snippets -------------------------------------------------------------------------------


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """``fold(text)`` character by character, with the index in ``text`` of each folded
    character (folding is done per character, which gives the same result as folding
    the whole text: it only drops marks and changes case)."""
    pieces: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = char.lower() if char.isascii() else fold(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    return "".join(pieces), origin


def _matches(token: Token, query: Iterable[str]) -> bool:
    for word in query:
        if token.word == word:
            return True
        if token.whole and MIN_PREFIX <= len(word) <= MAX_PREFIX and token.word.startswith(word):
            return True
    return False


def highlight_spans(text: str, query: list[str]) -> list[tuple[int, int]]:
    """Where in ``text`` the query words match (start, end), merged and in order."""
    folded, origin = _fold_with_map(text)
    spans: list[tuple[int, int]] = []
    for token in tokens(folded):
        if not _matches(token, query):
            continue
        start, end = origin[token.start], origin[token.end - 1] + 1
        # Combining marks after the last letter fold to nothing: keep them in the mark.
        while end < len(text) and not (
            text[end].lower() if text[end].isascii() else fold(text[end])
        ):
            end += 1
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((start, end))
    return spans


def snippet(text: str, query: list[str], width: int = SNIPPET_CHARS) -> Markup:
    """A passage of ``text`` around the first match, escaped, with the matches in
    ``<mark>``: the text is escaped piece by piece and only the marks are markup."""
    text = " ".join(text.split())
    spans = highlight_spans(text, query)
    start = 0
    if spans and spans[0][0] > width // 4:
        start = text.rfind(" ", 0, spans[0][0] - width // 4) + 1
    end = min(len(text), start + width)
    if end < len(text):
        cut = text.rfind(" ", start, end)
        end = cut if cut > start else end
    parts: list[str] = ["…" if start > 0 else ""]
    position = start
    for span_start, span_end in spans:
        if span_end <= start or span_start >= end:
            continue
        span_start, span_end = max(span_start, start), min(span_end, end)
        parts.append(str(escape(text[position:span_start])))
        parts.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        position = span_end
    parts.append(str(escape(text[position:end])))
    if end < len(text):
        parts.append("…")
    return Markup("".join(parts))  # noqa: S704 - every piece of text was escaped above
