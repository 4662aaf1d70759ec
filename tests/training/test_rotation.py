"""`network rotate-key` re-encrypts training materials with every other stored file: after a
rotation that drops the previous key, a module's material still downloads, and a
material is never taken for an orphan by the upload sweep."""

from __future__ import annotations

from network import crypto
from network.services import attachments, training

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_materials_are_reencrypted_by_a_key_rotation(app, own_keys, course):
    module = course.programme.modules[0]
    material = training.add_material(course.coordinator, module, ("syllabus.pdf", PDF))
    old_key = crypto.current_key_id()
    assert attachments.stale_owned_files(old_key) == 0
    assert attachments._is_referenced(material.storage_key)

    result = app.test_cli_runner().invoke(args=["rotate-key"])

    assert result.exit_code == 0, result.output
    new_key = crypto.current_key_id()
    assert new_key != old_key
    assert crypto.keyring().previous == ()  # the old key is gone
    stored = attachments._path_for(material.storage_key).read_bytes()
    assert crypto.key_id_of(stored) == new_key
    assert training.material_for_download(material.id, course.trainee)[1] == PDF
