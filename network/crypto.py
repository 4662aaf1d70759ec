"""Encryption of data at rest with AES-GCM under the platform's data key.

The key comes from ``NETWORK_DATA_KEY`` (32 bytes, URL-safe base64) or from a key file
generated once under ``instance/``. Ciphertexts carry a key id so a rotated key can be
told apart from the old one.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

_FORMAT = "v1"


def _load_key() -> bytes:
    configured = current_app.config.get("DATA_KEY")
    if configured:
        raw = base64.urlsafe_b64decode(configured)
    else:
        path = Path(current_app.config["INSTANCE_PATH"]) / "data_key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())
            path.chmod(0o600)
        raw = base64.urlsafe_b64decode(path.read_text().strip())
    if len(raw) != 32:
        raise ValueError("the data key must be 32 bytes (URL-safe base64)")
    return raw


def _key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def encrypt_text(plaintext: str, *, context: str) -> str:
    """Encrypt ``plaintext``; ``context`` (e.g. "totp:12") is bound as associated data."""
    key = _load_key()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    blob = base64.urlsafe_b64encode(nonce + sealed).decode()
    return f"{_FORMAT}:{_key_id(key)}:{blob}"


def decrypt_text(token: str, *, context: str) -> str:
    """Reverse ``encrypt_text``; raises ``ValueError`` when the text was tampered with."""
    from cryptography.exceptions import InvalidTag

    try:
        version, _key, blob = token.split(":", 2)
    except ValueError as exc:
        raise ValueError("not an encrypted value") from exc
    if version != _FORMAT:
        raise ValueError("unknown ciphertext format")
    data = base64.urlsafe_b64decode(blob)
    try:
        return AESGCM(_load_key()).decrypt(data[:12], data[12:], context.encode()).decode()
    except InvalidTag as exc:
        raise ValueError("ciphertext does not verify") from exc


def encrypt_bytes(plaintext: bytes, *, context: str) -> bytes:
    """Encrypt a file's content: ``version:key id:`` header, nonce, ciphertext and tag."""
    key = _load_key()
    nonce = os.urandom(12)
    sealed = AESGCM(key).encrypt(nonce, plaintext, context.encode())
    return f"{_FORMAT}:{_key_id(key)}:".encode() + nonce + sealed


def decrypt_bytes(blob: bytes, *, context: str) -> bytes:
    """Reverse ``encrypt_bytes``; raises ``ValueError`` when the content was tampered with."""
    from cryptography.exceptions import InvalidTag

    try:
        version, _key, data = blob.split(b":", 2)
    except ValueError as exc:
        raise ValueError("not an encrypted file") from exc
    if version.decode(errors="replace") != _FORMAT:
        raise ValueError("unknown ciphertext format")
    try:
        return AESGCM(_load_key()).decrypt(data[:12], data[12:], context.encode())
    except InvalidTag as exc:
        raise ValueError("ciphertext does not verify") from exc
