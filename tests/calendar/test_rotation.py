"""`network rotate-key` re-encrypts the calendar's document files too: after a rotation
that drops the previous key, a document still downloads."""

from __future__ import annotations

from network import crypto
from network.services import attachments
from network.services import calendar as cal

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_document_files_are_reencrypted_by_a_key_rotation(app, own_keys, people, make_event):
    event = make_event()
    row = cal.add_document(people.coordinator, event, "WG/9", "Report", None, "en", ("r.pdf", PDF))
    old_key = crypto.current_key_id()
    assert attachments.stale_owned_files(old_key) == 0
    result = app.test_cli_runner().invoke(args=["rotate-key"])
    assert result.exit_code == 0, result.output
    new_key = crypto.current_key_id()
    assert new_key != old_key
    assert crypto.key_id_of(attachments._path_for(row.storage_key).read_bytes()) == new_key
    assert crypto.keyring().previous == ()
    assert cal.document_for_download(row.id, people.member)[1] == PDF
