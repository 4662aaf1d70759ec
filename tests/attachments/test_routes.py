"""The upload API and the download route: round trip, headers, limits as clean 413s,
refusals as 422s, integrity failures as a clear error, CSRF, audit, and who may upload or
download for every role."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import quote

import pytest
from sqlalchemy import delete, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from network.extensions import db as _db
from network.models.messaging import Attachment, ChannelMember
from network.models.people import AuditEvent, Membership
from network.services import attachments
from tests.attachments import samples
from tests.attachments.conftest import (
    attachment_count,
    multipart,
    send,
    stored_files,
    upload,
)
from tests.conftest import csrf_token


def _upload_url(channel_id: int) -> str:
    return f"/api/v1/channels/{channel_id}/attachments"


def _session_upload(client, channel_id: int, *files: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/account/")
    return client.post(
        _upload_url(channel_id),
        data=multipart(*files),
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )


def _error(response, status: int, code: str) -> dict:  # type: ignore[type-arg]
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


# --- Round trip --------------------------------------------------------------------------


def test_upload_send_and_download_round_trip(app, client, login, place, db):
    login(client, place.contact_point)
    response = _session_upload(
        client,
        place.channel.id,
        ("Demande d'entraide.pdf", samples.pdf()),
        ("scan.png", samples.png()),
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    items = response.get_json()["items"]
    assert [i["filename"] for i in items] == ["Demande d'entraide.pdf", "scan.png"]
    assert items[0]["content_type"] == "application/pdf"
    assert items[0]["size"] == len(samples.pdf())
    assert items[0]["sha256"] == hashlib.sha256(samples.pdf()).hexdigest()

    send(place.channel, place.contact_point, [db.session.get(Attachment, i["id"]) for i in items])

    reader = login(app.test_client(), place.observer)
    downloaded = reader.get(items[0]["url"])
    assert downloaded.status_code == 200
    assert downloaded.data == samples.pdf()
    assert downloaded.mimetype == "application/pdf"
    disposition = downloaded.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Demande%20d%27entraide.pdf" in disposition
    assert downloaded.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in downloaded.headers["Cache-Control"]
    assert "private" in downloaded.headers["Cache-Control"]
    assert "sandbox" in downloaded.headers["Content-Security-Policy"]


def test_a_non_latin_name_is_sent_exactly_with_an_ascii_fallback(app, client, login, place):
    name = "طلب Łódź.pdf"
    stored = upload(place.channel, place.contact_point, name)
    send(place.channel, place.contact_point, [stored])
    login(client, place.coordinator)
    disposition = client.get(f"/attachments/{stored.id}/download").headers["Content-Disposition"]
    assert f"filename*=UTF-8''{quote(name, safe='')}" in disposition
    fallback = disposition.split('filename="')[1].split('"')[0]
    assert fallback.isascii()
    assert fallback.endswith(".pdf")


def test_text_is_served_as_utf8_text(client, login, place):
    stored = upload(place.channel, place.contact_point, "notes.txt", samples.text())
    send(place.channel, place.contact_point, [stored])
    login(client, place.coordinator)
    response = client.get(f"/attachments/{stored.id}/download")
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert response.data == samples.text()


def test_each_download_is_audited(client, login, place, db):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    login(client, place.observer)
    client.get(f"/attachments/{stored.id}/download")
    client.get(f"/attachments/{stored.id}/download")
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "attachment.download"))
    )
    assert len(events) == 2
    assert {e.actor_id for e in events} == {place.observer.id}
    assert events[0].after == {"attachment_id": stored.id}
    assert events[0].channel_id == place.channel.id
    assert events[0].network_id == place.network.id


# --- CSRF and tokens ---------------------------------------------------------------------------


def test_a_session_upload_needs_the_csrf_token(client, login, place, upload_folder):
    login(client, place.contact_point)
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(("a.pdf", samples.pdf())),
        content_type="multipart/form-data",
    )
    _error(response, 400, "csrf_failed")
    assert stored_files(upload_folder) == []


def test_a_bearer_token_uploads_and_downloads_without_csrf(client, place, bearer_for):
    headers = bearer_for(place.contact_point)
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(("a.pdf", samples.pdf())),
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    [item] = response.get_json()["items"]
    send(place.channel, place.contact_point, [_db.session.get(Attachment, item["id"])])
    assert client.get(item["url"], headers=headers).data == samples.pdf()


# --- Limits and refusals -------------------------------------------------------------------------


def test_a_file_over_the_limit_is_a_413_and_nothing_is_stored(
    app, client, place, bearer_for, upload_folder, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENT_BYTES", 2000)
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(("big.pdf", samples.pdf().ljust(2001, b"\n"))),
        headers=bearer_for(place.contact_point),
        content_type="multipart/form-data",
    )
    error = _error(response, 413, "too_large")
    assert "2 kB" in error["fields"]["file"]  # CLDR's unit, in the caller's language
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []


def test_a_request_body_over_max_content_length_is_a_clean_413(
    app, client, login, place, upload_folder, monkeypatch
):
    login(client, place.contact_point)
    token = csrf_token(client, "/account/")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 4000)
    body = multipart(("big.pdf", samples.pdf().ljust(8000, b"\n")))
    response = client.post(
        _upload_url(place.channel.id),
        data=body,
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    _error(response, 413, "too_large")
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []

    page = client.post(
        f"/channels/{place.channel.id}",
        data={"csrf_token": token, "body": "x" * 8000},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 413
    assert page.mimetype == "text/html"
    assert "The upload is too large." in page.get_data(as_text=True)


def test_a_file_of_exactly_the_default_limit_passes_the_request_limit_too(
    app, client, place, bearer_for
):
    limit = app.config["MAX_ATTACHMENT_BYTES"]
    assert limit == 25 * 1024 * 1024
    content = samples.pdf().ljust(limit, b"\n")
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(
        {"file": FileStorage(io.BytesIO(content), filename="full.pdf")}
    )
    response = client.post(
        _upload_url(place.channel.id),
        data=body,
        headers=bearer_for(place.contact_point),
        content_type=f"multipart/form-data; boundary={boundary}",
    )
    assert response.status_code == 201, response.get_data(as_text=True)[:300]
    assert response.get_json()["items"][0]["size"] == limit


def test_max_content_length_follows_the_attachment_limit(app, monkeypatch):
    from network.config import load_config

    for name in (
        "NETWORK_MAX_ATTACHMENT_BYTES",
        "NETWORK_MAX_ATTACHMENTS_PER_MESSAGE",
        "NETWORK_MAX_CONTENT_LENGTH",
    ):
        monkeypatch.delenv(name, raising=False)
    instance = {"INSTANCE_PATH": app.config["INSTANCE_PATH"]}
    config = load_config(instance)
    assert config["MAX_ATTACHMENT_BYTES"] == 25 * 1024 * 1024
    assert config["MAX_ATTACHMENTS_PER_MESSAGE"] == 10
    assert config["MAX_CONTENT_LENGTH"] == 30 * 1024 * 1024

    monkeypatch.setenv("NETWORK_MAX_ATTACHMENT_BYTES", str(50 * 1024 * 1024))
    config = load_config(instance)
    assert config["MAX_CONTENT_LENGTH"] == 55 * 1024 * 1024

    monkeypatch.setenv("NETWORK_MAX_CONTENT_LENGTH", str(60 * 1024 * 1024))
    assert load_config(instance)["MAX_CONTENT_LENGTH"] == 60 * 1024 * 1024


def test_too_many_parts_are_refused_and_nothing_is_stored(
    app, client, place, bearer_for, upload_folder, monkeypatch
):
    monkeypatch.setitem(app.config, "MAX_ATTACHMENTS_PER_MESSAGE", 2)
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(*[(f"r{n}.pdf", samples.pdf()) for n in range(3)]),
        headers=bearer_for(place.contact_point),
        content_type="multipart/form-data",
    )
    error = _error(response, 413, "too_large")
    assert "at most 2" in error["message"]
    assert attachment_count() == 0
    assert stored_files(upload_folder) == []


def test_an_upload_without_file_parts_is_a_422(client, place, bearer_for):
    headers = bearer_for(place.contact_point)
    response = client.post(
        _upload_url(place.channel.id),
        data={"other": "x"},
        headers=headers,
        content_type="multipart/form-data",
    )
    assert "file" in _error(response, 422, "validation_error")["fields"]
    wrong_name = client.post(
        _upload_url(place.channel.id),
        data=multipart(("a.pdf", samples.pdf()), field="document"),
        headers=headers,
        content_type="multipart/form-data",
    )
    _error(wrong_name, 422, "validation_error")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("invoice.pdf", samples.exe),
        ("invoice.pdf", samples.html),
        ("invoice.exe", samples.pdf),
        ("invoice.pdf", samples.pdf_with_zip),
    ],
)
def test_content_not_matching_its_name_is_a_422_with_the_reason(
    client, place, bearer_for, upload_folder, name, content
):
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart((name, content())),
        headers=bearer_for(place.contact_point),
        content_type="multipart/form-data",
    )
    error = _error(response, 422, "validation_error")
    assert error["fields"]["file"].startswith(name)
    assert stored_files(upload_folder) == []


def test_hostile_file_names_arrive_cleaned(client, place, bearer_for):
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(
            ("../../etc/\u202eevil\x00fdp.pdf", samples.pdf()), ("../../etc/passwd", samples.pdf())
        ),
        headers=bearer_for(place.contact_point),
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    names = [item["filename"] for item in response.get_json()["items"]]
    assert names == ["evilfdp.pdf", "passwd.pdf"]


# --- Integrity -----------------------------------------------------------------------------------


def test_a_tampered_file_is_refused_with_a_clear_error_not_a_500(
    app, client, login, place, db, caplog
):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    path = attachments.storage_path(stored)
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    login(client, place.coordinator)

    page = client.get(f"/attachments/{stored.id}/download")
    assert page.status_code == 409
    assert page.mimetype == "text/html"
    assert "integrity check" in page.get_data(as_text=True)

    api = client.get(f"/attachments/{stored.id}/download", headers={"Accept": "application/json"})
    _error(api, 409, "attachment_damaged")
    assert "failed its integrity check" in caplog.text
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert "attachment.integrity_failed" in actions
    assert "attachment.download" not in actions


def test_a_wrong_recorded_digest_is_refused_on_download(client, login, place, db):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    db.session.get(Attachment, stored.id).sha256 = "0" * 64
    db.session.commit()
    login(client, place.coordinator)
    response = client.get(f"/attachments/{stored.id}/download")
    assert response.status_code == 409
    assert samples.MARKER not in response.data


# --- Access ------------------------------------------------------------------------------------

NETWORK_READERS = ["contact_point", "coordinator", "secretariat", "observer", "admin"]
NETWORK_WRITERS = {"contact_point", "coordinator", "secretariat"}


@pytest.mark.parametrize("role", [*NETWORK_READERS, "outsider"])
def test_network_channel_upload_for_every_role(client, place, bearer_for, role):
    user = getattr(place, role)
    response = client.post(
        _upload_url(place.channel.id),
        data=multipart(("a.pdf", samples.pdf())),
        headers=bearer_for(user),
        content_type="multipart/form-data",
    )
    if role in NETWORK_WRITERS:
        assert response.status_code == 201
    elif role == "outsider":
        _error(response, 404, "not_found")
    else:  # observers and administrators read the network's channel, do not post
        _error(response, 403, "forbidden")


@pytest.mark.parametrize("role", [*NETWORK_READERS, "outsider"])
def test_network_channel_download_for_every_role(client, place, bearer_for, role):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    response = client.get(
        f"/attachments/{stored.id}/download", headers=bearer_for(getattr(place, role))
    )
    if role == "outsider":
        assert response.status_code == 404
        assert samples.MARKER not in response.data
    else:
        assert response.status_code == 200
        assert response.data == samples.pdf()


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("contact_point", True),  # the owner
        ("coordinator", True),  # a member
        ("secretariat", False),  # of the network, not of the working group
        ("observer", False),
        ("admin", False),  # administrators do not read private channels
        ("outsider", False),
    ],
)
def test_topic_channel_upload_and_download_for_every_role(client, place, bearer_for, role, allowed):
    stored = upload(place.topic, place.contact_point)
    send(place.topic, place.contact_point, [stored])
    headers = bearer_for(getattr(place, role))
    download = client.get(f"/attachments/{stored.id}/download", headers=headers)
    uploaded = client.post(
        _upload_url(place.topic.id),
        data=multipart(("a.pdf", samples.pdf())),
        headers=headers,
        content_type="multipart/form-data",
    )
    if allowed:
        assert download.status_code == 200
        assert uploaded.status_code == 201
    else:
        assert download.status_code == 404
        _error(uploaded, 404, "not_found")


def test_a_refused_download_is_audited_as_a_failed_access(client, place, bearer_for, db):
    stored = upload(place.topic, place.contact_point)
    send(place.topic, place.contact_point, [stored])
    client.get(f"/attachments/{stored.id}/download", headers=bearer_for(place.outsider))
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "attachment.access_denied")
    )
    assert event.actor_id == place.outsider.id
    assert event.after == {"attachment_id": stored.id}


def test_a_member_removed_from_a_channel_can_no_longer_download_or_upload(
    client, place, bearer_for, db
):
    stored = upload(place.topic, place.contact_point)
    send(place.topic, place.contact_point, [stored])
    headers = bearer_for(place.coordinator)
    assert client.get(f"/attachments/{stored.id}/download", headers=headers).status_code == 200

    db.session.execute(
        delete(ChannelMember).where(
            ChannelMember.channel_id == place.topic.id,
            ChannelMember.user_id == place.coordinator.id,
        )
    )
    db.session.commit()

    assert client.get(f"/attachments/{stored.id}/download", headers=headers).status_code == 404
    response = client.post(
        _upload_url(place.topic.id),
        data=multipart(("a.pdf", samples.pdf())),
        headers=headers,
        content_type="multipart/form-data",
    )
    _error(response, 404, "not_found")


def test_a_person_removed_from_the_network_loses_its_channels_files(client, place, bearer_for, db):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    headers = bearer_for(place.observer)
    assert client.get(f"/attachments/{stored.id}/download", headers=headers).status_code == 200
    db.session.execute(delete(Membership).where(Membership.user_id == place.observer.id))
    db.session.commit()
    db.session.expire_all()
    assert client.get(f"/attachments/{stored.id}/download", headers=headers).status_code == 404


def test_anonymous_callers_are_asked_to_sign_in(client, place):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    page = client.get(f"/attachments/{stored.id}/download")
    assert page.status_code == 302
    assert "/login" in page.headers["Location"]
    api = client.get(f"/attachments/{stored.id}/download", headers={"Accept": "application/json"})
    _error(api, 401, "unauthorized")
    token = csrf_token(client, "/login")  # a browser's anonymous session has one
    upload_response = client.post(
        _upload_url(place.channel.id),
        data=multipart(("a.pdf", samples.pdf())),
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    _error(upload_response, 401, "unauthorized")
    assert attachment_count() == 1


def test_a_pending_upload_cannot_be_downloaded_by_anyone(client, place, bearer_for):
    stored = upload(place.channel, place.contact_point)
    for user in (place.contact_point, place.coordinator, place.observer):
        response = client.get(f"/attachments/{stored.id}/download", headers=bearer_for(user))
        assert response.status_code == 404


def test_unknown_attachment_ids_are_404(client, place, bearer_for):
    headers = bearer_for(place.contact_point)
    assert client.get("/attachments/999999/download", headers=headers).status_code == 404
    assert client.get(f"/attachments/{2**40}/download", headers=headers).status_code == 404


# --- Removing an upload not yet sent ------------------------------------------------------


def test_the_uploader_removes_an_upload_not_yet_sent(client, place, bearer_for, db):
    stored = upload(place.channel, place.contact_point)
    stored_id, path = stored.id, attachments.storage_path(stored)
    other = bearer_for(place.coordinator)
    assert client.delete(f"/api/v1/attachments/{stored_id}", headers=other).status_code == 404
    response = client.delete(
        f"/api/v1/attachments/{stored_id}", headers=bearer_for(place.contact_point)
    )
    assert response.status_code == 204
    assert db.session.get(Attachment, stored_id) is None
    assert not path.exists()


def test_a_sent_file_cannot_be_removed_as_an_upload(client, place, bearer_for, db):
    stored = upload(place.channel, place.contact_point)
    send(place.channel, place.contact_point, [stored])
    response = client.delete(
        f"/api/v1/attachments/{stored.id}", headers=bearer_for(place.contact_point)
    )
    _error(response, 404, "not_found")
    assert attachments.storage_path(stored).exists()


def test_the_openapi_document_lists_the_upload_routes(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "post" in spec["paths"]["/channels/{id}/attachments"]
    assert "delete" in spec["paths"]["/attachments/{id}"]
    assert "Attachment" in spec["components"]["schemas"]
