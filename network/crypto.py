"""Encryption of data at rest with AES-GCM under the platform's data key, and the keyring
that lets the key be rotated.

The current key comes from ``NETWORK_DATA_KEY`` (32 bytes, URL-safe base64) or from a key
file generated once under ``instance/`` (``instance/data_key``). Earlier keys, kept while
`network rotate-key` re-encrypts what they sealed, come from
``NETWORK_DATA_KEYS_PREVIOUS`` (comma-separated) and ``instance/data_key.previous`` (one
per line). Ciphertexts carry the id of the key that sealed them (``v1:<key id>:…``), so
decryption picks the right key and new writes always use the current one.

The keyring is cached per application. In file mode every use compares the key files'
metadata (one ``stat`` each), so a server that is running while the key is rotated starts
sealing with the new key as soon as it is written; and a ciphertext under a key id the
cache does not know makes it load the keyring again before giving up.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_FORMAT = "v1"
KEY_FILE = "data_key"
PREVIOUS_KEYS_FILE = "data_key.previous"
PREVIOUS_KEYS_ENV = "NETWORK_DATA_KEYS_PREVIOUS"
_SEARCH_INFO = b"network search index v1"
_EXTENSION = "network.keyring"
_lock = threading.Lock()


@dataclass(frozen=True)
class Keyring:
    """The current key and every earlier key still accepted for decryption."""

    current: bytes
    previous: tuple[bytes, ...] = ()
    by_id: dict[str, bytes] = field(default_factory=dict)

    @functools.cached_property
    def current_id(self) -> str:
        return key_id_for(self.current)

    @functools.cached_property
    def current_aead(self) -> AESGCM:
        """The AES-GCM cipher of the current key (made once per keyring, not per value)."""
        return AESGCM(self.current)

    @property
    def previous_ids(self) -> list[str]:
        return [key_id_for(k) for k in self.previous]


def key_id_for(key: bytes) -> str:
    """The short public id of a key written into every ciphertext (not secret)."""
    return hashlib.sha256(key).hexdigest()[:8]


def generate_key() -> str:
    """A new random data key, URL-safe base64, as the key file and the variable hold it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _decode_key(text: str, where: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip())
    except ValueError as exc:
        raise ValueError(f"a data key in {where} is not URL-safe base64") from exc
    if len(raw) != 32:
        raise ValueError(f"a data key in {where} is not 32 bytes (URL-safe base64)")
    return raw


def _instance() -> Path:
    return Path(current_app.config["INSTANCE_PATH"])


def uses_environment_key() -> bool:
    """Whether the current key comes from ``NETWORK_DATA_KEY`` rather than the key file."""
    return bool(current_app.config.get("DATA_KEY"))


def _previous_setting() -> str:
    configured = current_app.config.get("DATA_KEYS_PREVIOUS")
    if configured is None:
        configured = os.environ.get(PREVIOUS_KEYS_ENV, "")
    if isinstance(configured, list | tuple):
        configured = ",".join(configured)
    return str(configured or "")


def _stat(path: str) -> tuple[int, int, int] | None:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_mtime_ns, info.st_size, info.st_ino)


def _signature() -> tuple[Any, ...]:
    """What the keyring was loaded from: it is loaded again when any of it changes.
    Taken on every use of a key (two ``stat`` calls on paths as plain strings: this runs
    three times per message sent)."""
    config = current_app.config
    instance = config["INSTANCE_PATH"]
    configured = config.get("DATA_KEY")
    key_file = None if configured else _stat(os.path.join(instance, KEY_FILE))
    return (
        instance,
        configured,
        key_file,
        _previous_setting(),
        _stat(os.path.join(instance, PREVIOUS_KEYS_FILE)),
    )


def _write_secret_file(path: Path, text: str, *, replace: bool = True) -> bool:
    """Write ``text`` to ``path`` readable by the owner only (0600), atomically: a reader
    sees the old content or the new, never a partial file. With ``replace=False`` an
    existing file is kept (two processes starting at once make one key); returns whether
    this call wrote the file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
            return True
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def _load_keyring() -> Keyring:
    instance = _instance()
    configured = current_app.config.get("DATA_KEY")
    if configured:
        current = _decode_key(configured, "NETWORK_DATA_KEY")
    else:
        path = instance / KEY_FILE
        if not path.exists():
            _write_secret_file(path, generate_key() + "\n", replace=False)
        current = _decode_key(path.read_text(), str(path))
    previous: list[bytes] = []
    for part in _previous_setting().replace("\n", ",").split(","):
        if part.strip():
            previous.append(_decode_key(part, PREVIOUS_KEYS_ENV))
    previous_file = instance / PREVIOUS_KEYS_FILE
    if previous_file.exists():
        for line in previous_file.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                previous.append(_decode_key(line, str(previous_file)))
    unique = tuple(dict.fromkeys(k for k in previous if k != current))
    by_id = {key_id_for(k): k for k in (*reversed(unique), current)}
    return Keyring(current=current, previous=unique, by_id=by_id)


def keyring(*, reload: bool = False) -> Keyring:
    """The keyring of the running application (cached; loaded again when its sources
    change, or when ``reload`` asks for it)."""
    signature = _signature()
    cached = current_app.extensions.get(_EXTENSION)
    if not reload and cached is not None and cached[0] == signature:
        return cached[1]
    with _lock:
        loaded = _load_keyring()
        current_app.extensions[_EXTENSION] = (_signature(), loaded)
    return loaded


def _key_for(key_id: str) -> bytes:
    """The key with this id, loading the keyring again once when it is not known (another
    process may have rotated the key since this one loaded it)."""
    key = keyring().by_id.get(key_id)
    if key is None:
        key = keyring(reload=True).by_id.get(key_id)
    if key is None:
        raise ValueError("the ciphertext was sealed under a key that is not in the keyring")
    return key


def current_key_id() -> str:
    return keyring().current_id


def key_id_of(sealed: str | bytes) -> str | None:
    """The key id written into a ciphertext (text or file), or None if it is not one."""
    marker = b":" if isinstance(sealed, bytes) else ":"
    parts = sealed.split(marker, 2)  # type: ignore[arg-type]
    if len(parts) != 3:
        return None
    version, key_id = parts[0], parts[1]
    if isinstance(version, bytes):
        version, key_id = version.decode(errors="replace"), key_id.decode(errors="replace")
    return key_id if version == _FORMAT else None


# --- Sealing and opening -------------------------------------------------------------------


def encrypt_text(plaintext: str, *, context: str, ring: Keyring | None = None) -> str:
    """Encrypt ``plaintext``; ``context`` (e.g. "totp:12") is bound as associated data.
    ``ring``: the keyring to use (``keyring()``, taken once for many values), else the
    current one is looked up (a key rotated by another process is noticed here)."""
    ring = ring or keyring()
    nonce = os.urandom(12)
    sealed = ring.current_aead.encrypt(nonce, plaintext.encode(), context.encode())
    blob = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{_FORMAT}:{ring.current_id}:{blob}"


def decrypt_text(token: str, *, context: str) -> str:
    """Reverse ``encrypt_text`` with the key named in the token; raises ``ValueError``
    when the text was tampered with or its key is not in the keyring."""
    try:
        version, key_id, blob = token.split(":", 2)
    except ValueError as exc:
        raise ValueError("not an encrypted value") from exc
    if version != _FORMAT:
        raise ValueError("unknown ciphertext format")
    data = base64.urlsafe_b64decode(blob)
    try:
        return AESGCM(_key_for(key_id)).decrypt(data[:12], data[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise ValueError("ciphertext does not verify") from exc


def encrypt_bytes(plaintext: bytes, *, context: str) -> bytes:
    """Encrypt a file's content: ``version:key id:`` header, nonce, ciphertext and tag."""
    ring = keyring()
    nonce = os.urandom(12)
    sealed = AESGCM(ring.current).encrypt(nonce, plaintext, context.encode())
    return f"{_FORMAT}:{ring.current_id}:".encode() + nonce + sealed


def decrypt_bytes(blob: bytes, *, context: str) -> bytes:
    """Reverse ``encrypt_bytes``; raises ``ValueError`` when the content was tampered with
    or its key is not in the keyring."""
    try:
        version, key_id, data = blob.split(b":", 2)
    except ValueError as exc:
        raise ValueError("not an encrypted file") from exc
    if version.decode(errors="replace") != _FORMAT:
        raise ValueError("unknown ciphertext format")
    key = _key_for(key_id.decode(errors="replace"))
    try:
        return AESGCM(key).decrypt(data[:12], data[12:], context.encode())
    except InvalidTag as exc:
        raise ValueError("ciphertext does not verify") from exc


# --- The blind search index ------------------------------------------------------------------

_search_keys: dict[bytes, bytes] = {}


def _derive_search_key(key: bytes) -> bytes:
    derived = _search_keys.get(key)
    if derived is None:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEARCH_INFO).derive(
            key
        )
        _search_keys[key] = derived
    return derived


def search_keys(ring: Keyring | None = None) -> list[bytes]:
    """The keys of the blind search index: the current data key's first, then those of
    the previous keys (an index not yet rebuilt by a rotation is still searched); of
    ``ring`` when given, else of the current keyring."""
    ring = ring or keyring()
    return [_derive_search_key(k) for k in (ring.current, *ring.previous)]


def blind_term(search_key: bytes, word: str) -> str:
    """A word as the index stores it: HMAC-SHA-256 under the search key, 32 hex digits."""
    return hmac.digest(search_key, word.encode(), "sha256")[:16].hex()


# --- Rotation (file mode) ---------------------------------------------------------------------


def install_new_key() -> tuple[str, str]:
    """Make a new current key in ``instance/data_key``; the old one joins
    ``data_key.previous`` first, so that at every instant any process reading the files
    can open everything. Returns ``(old key id, new key id)``.

    Raises ``RuntimeError`` when the key comes from ``NETWORK_DATA_KEY`` (the operator
    sets the variables instead).
    """
    if uses_environment_key():
        raise RuntimeError("the data key comes from NETWORK_DATA_KEY")
    ring = keyring(reload=True)
    instance = _instance()
    lines = [base64.urlsafe_b64encode(k).decode() for k in (ring.current, *ring.previous)]
    _write_secret_file(instance / PREVIOUS_KEYS_FILE, "\n".join(lines) + "\n")
    new_key = generate_key()
    _write_secret_file(instance / KEY_FILE, new_key + "\n")
    new_ring = keyring(reload=True)
    return ring.current_id, new_ring.current_id


def drop_previous_keys() -> bool:
    """Forget the previous keys of the key file (``data_key.previous``); returns whether
    there was such a file. Keys from ``NETWORK_DATA_KEYS_PREVIOUS`` stay until the operator
    removes the variable."""
    path = _instance() / PREVIOUS_KEYS_FILE
    existed = path.exists()
    path.unlink(missing_ok=True)
    keyring(reload=True)
    return existed
