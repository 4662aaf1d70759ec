"""Search over encrypted messages through a blind index (MessageTerm).

STUB: filled in by the search work; the message pipeline already calls these.
"""

from __future__ import annotations

from typing import Any

from network.models.messaging import Message


def index_message(message: Message, text: str) -> None:
    """(Re)index ``message`` whose plaintext is ``text``, in the current transaction."""


def forget_message(message: Message) -> None:
    """Remove ``message`` from the index (deleted or purged), in the current transaction."""


def search_messages(user: Any, query: Any, **options: Any) -> Any:
    raise NotImplementedError
