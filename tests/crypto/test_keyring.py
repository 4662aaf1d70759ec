"""The keyring: the current key from the key file or NETWORK_DATA_KEY, previous keys
from data_key.previous or NETWORK_DATA_KEYS_PREVIOUS, decryption by the key id written
in each ciphertext, and a running process that picks up a rotated key."""

from __future__ import annotations

import base64
import stat

import pytest

from network import crypto


def _key_id(encoded: str) -> str:
    return crypto.key_id_for(base64.urlsafe_b64decode(encoded))


def test_the_key_file_is_made_once_readable_by_its_owner_only(instance):
    token = crypto.encrypt_text("secret", context="t:1")
    path = instance / "data_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert crypto.key_id_of(token) == _key_id(path.read_text())
    assert crypto.encrypt_text("again", context="t:1").split(":")[1] == crypto.key_id_of(token)


def test_ciphertexts_under_a_previous_key_still_open_and_new_ones_use_the_new_key(instance):
    old_text = crypto.encrypt_text("old text", context="t:1")
    old_file = crypto.encrypt_bytes(b"old file", context="f:1")
    old_id, new_id = crypto.install_new_key()
    assert old_id != new_id
    assert crypto.key_id_of(old_text) == old_id
    assert crypto.decrypt_text(old_text, context="t:1") == "old text"
    assert crypto.decrypt_bytes(old_file, context="f:1") == b"old file"
    assert crypto.key_id_of(crypto.encrypt_text("new", context="t:1")) == new_id
    assert crypto.key_id_of(crypto.encrypt_bytes(b"new", context="f:1")) == new_id
    previous = instance / "data_key.previous"
    assert stat.S_IMODE(previous.stat().st_mode) == 0o600
    assert _key_id(previous.read_text().splitlines()[0]) == old_id


def test_once_the_previous_key_is_dropped_its_ciphertexts_no_longer_open(instance):
    old_text = crypto.encrypt_text("old text", context="t:1")
    crypto.install_new_key()
    assert crypto.drop_previous_keys() is True
    assert not (instance / "data_key.previous").exists()
    with pytest.raises(ValueError, match="not in the keyring"):
        crypto.decrypt_text(old_text, context="t:1")


def test_a_ciphertext_moved_to_another_context_does_not_open(instance):
    token = crypto.encrypt_text("text", context="message:1:1")
    with pytest.raises(ValueError, match="does not verify"):
        crypto.decrypt_text(token, context="message:1:2")


def test_a_running_process_uses_a_key_written_by_another_process(instance):
    crypto.encrypt_text("warm the cache", context="t:1")
    cached = crypto.keyring()
    # Another process (the rotate-key command) writes a new key and keeps the old one.
    new_key = crypto.generate_key()
    old_key = (instance / "data_key").read_text()
    (instance / "data_key.previous").write_text(old_key)
    (instance / "data_key").write_text(new_key + "\n")
    sealed_elsewhere = crypto.encrypt_text("from the other process", context="t:2")
    assert crypto.key_id_of(sealed_elsewhere) == _key_id(new_key) != cached.current_id
    assert crypto.decrypt_text(sealed_elsewhere, context="t:2") == "from the other process"


def test_an_unknown_key_id_reloads_the_keyring_before_giving_up(instance, app):
    token = crypto.encrypt_text("text", context="t:1")
    stale = crypto.Keyring(current=b"\0" * 32, by_id={crypto.key_id_for(b"\0" * 32): b"\0" * 32})
    app.extensions["network.keyring"] = (crypto._signature(), stale)
    assert crypto.decrypt_text(token, context="t:1") == "text"


def test_environment_mode_takes_previous_keys_from_the_variable(instance, app, monkeypatch):
    old_key, new_key = crypto.generate_key(), crypto.generate_key()
    monkeypatch.setitem(app.config, "DATA_KEY", old_key)
    sealed = crypto.encrypt_text("under the old key", context="t:1")
    monkeypatch.setitem(app.config, "DATA_KEY", new_key)
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", "")
    monkeypatch.delenv(crypto.PREVIOUS_KEYS_ENV, raising=False)
    with pytest.raises(ValueError, match="not in the keyring"):
        crypto.decrypt_text(sealed, context="t:1")
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", None)
    monkeypatch.setenv(crypto.PREVIOUS_KEYS_ENV, f"{crypto.generate_key()}, {old_key}")
    assert crypto.decrypt_text(sealed, context="t:1") == "under the old key"
    assert crypto.current_key_id() == _key_id(new_key)
    with pytest.raises(RuntimeError):
        crypto.install_new_key()


def test_a_malformed_previous_key_is_reported_without_showing_it(instance, app, monkeypatch):
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", "not-a-key")
    with pytest.raises(ValueError, match="NETWORK_DATA_KEYS_PREVIOUS") as error:
        crypto.encrypt_text("x", context="t:1")
    assert "not-a-key" not in str(error.value)


def test_search_keys_differ_from_the_data_key_and_follow_the_keyring(instance):
    [current] = crypto.search_keys()
    assert current != crypto.keyring().current
    crypto.install_new_key()
    new, previous = crypto.search_keys()
    assert previous == current
    assert new != current
    assert crypto.blind_term(new, "word") != crypto.blind_term(previous, "word")
