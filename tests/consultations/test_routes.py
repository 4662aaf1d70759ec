"""The consultation routes: POST /api/v1/consultations exactly as API.md, the page that
starts one from a case channel or a direct conversation, the room page and the door, the
transcript as text and as a printable page, and 404 for everyone outside."""

from __future__ import annotations

import pytest

from network.errors import Forbidden
from network.extensions import db
from network.models.consultations import Consultation
from network.services import consultations, messaging
from tests.cases.conftest import bearer
from tests.conftest import csrf_token
from tests.messaging.conftest import client_id


def test_the_api_creates_one_as_api_md_says(client, desk):
    response = client.post(
        "/api/v1/consultations",
        json={
            "title": "Extradition stage 2",
            "participants": [desk.member.id],
            "case_id": desk.case.id,
        },
        headers=bearer(desk.owner),
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "channel_id"}
    found = db.session.get(Consultation, body["id"])
    assert found.channel_id == body["channel_id"]
    assert found.case_id == desk.case.id
    got = client.get(f"/api/v1/consultations/{found.id}", headers=bearer(desk.member))
    assert got.status_code == 200
    assert got.get_json()["participants"][1]["state"] == "invited"


@pytest.mark.parametrize("who", ["bystander", "outsider", "admin"])
def test_the_api_refuses_people_outside_the_case(client, desk, who):
    response = client.post(
        "/api/v1/consultations",
        json={"title": "X", "participants": [desk.owner.id], "case_id": desk.case.id},
        headers=bearer(desk.role(who)),
    )
    assert response.status_code in (403, 404)


def test_the_api_validates(client, desk):
    headers = bearer(desk.owner)
    assert client.post("/api/v1/consultations", json=[], headers=headers).status_code == 422
    response = client.post(
        "/api/v1/consultations", json={"title": "", "participants": "x"}, headers=headers
    )
    assert response.status_code == 422
    assert set(response.get_json()["error"]["fields"]) == {"title", "participants"}
    # Anonymous: no session (the CSRF gate answers first) and no token.
    assert client.post("/api/v1/consultations", json={"title": "x"}).status_code in (400, 401)


def test_the_openapi_document_lists_the_route(client, desk):
    paths = client.get("/api/v1/openapi.json", headers=bearer(desk.owner)).get_json()["paths"]
    assert "post" in paths["/consultations"]


def test_start_from_the_case_page(client, login, desk):
    login(client, desk.owner)
    page = client.get(f"/cases/{desk.case.id}").get_data(as_text=True)
    start = f"/consultations/new?channel_id={desk.case.channel_id}"
    assert start in page
    form = client.get(start)
    assert form.status_code == 200
    response = client.post(
        start,
        data={
            "title": "Before refusing",
            "participants": [str(desk.member.id)],
            "csrf_token": csrf_token(client, start),
        },
    )
    assert response.status_code == 302
    found = db.session.query(Consultation).one()
    assert response.headers["Location"].endswith(f"/consultations/{found.id}")
    room = client.get(f"/consultations/{found.id}").get_data(as_text=True)
    assert 'id="consultation"' in room
    assert "js/consultation.js" in room


def test_start_from_a_direct_conversation(client, login, desk):
    direct = messaging.create_direct_conversation(desk.owner, [desk.bystander.id])
    login(client, desk.owner)
    assert "/consultations/new?channel_id=" in client.get(f"/channels/{direct.id}").get_data(
        as_text=True
    )
    start = f"/consultations/new?channel_id={direct.id}"
    response = client.post(
        start,
        data={"title": "", "participants": [], "csrf_token": csrf_token(client, start)},
    )
    assert response.status_code == 422


def test_no_start_from_a_network_channel(client, login, desk):
    network_channel = messaging.ensure_network_channel(desk.network)
    db.session.commit()
    login(client, desk.owner)
    assert client.get(f"/consultations/new?channel_id={network_channel.id}").status_code == 403


@pytest.mark.parametrize("who", ["bystander", "coordinator", "admin", "outsider"])
def test_outsiders_get_404_everywhere(client, login, desk, who):
    found = consultations.create_consultation(
        desk.owner, "Room", [desk.member.id], case_id=desk.case.id
    )
    login(client, desk.role(who))
    for path in ("", "/transcript", "/transcript.txt"):
        assert client.get(f"/consultations/{found.id}{path}").status_code == 404


def test_the_door_and_the_transcripts(client, login, desk):
    found = consultations.create_consultation(
        desk.owner, "Room", [desk.member.id], case_id=desk.case.id
    )
    login(client, desk.member)
    door = client.get(f"/consultations/{found.id}").get_data(as_text=True)
    assert "js-waiting-notice" in door
    consultations.admit(found.id, desk.owner, desk.member.id)
    messaging.post_message(found.channel_id, desk.member, "**Agreed**", client_id())
    consultations.end(found.id, desk.owner)
    text = client.get(f"/consultations/{found.id}/transcript.txt")
    assert text.status_code == 200
    assert "attachment" in text.headers["Content-Disposition"]
    assert f"{desk.member.name}: **Agreed**" in text.get_data(as_text=True)
    printable = client.get(f"/consultations/{found.id}/transcript").get_data(as_text=True)
    assert "<strong>Agreed</strong>" in printable
    room = client.get(f"/consultations/{found.id}").get_data(as_text=True)
    assert 'data-ended="true"' in room


def test_the_case_page_and_channels_link_to_their_rooms(client, login, desk):
    found = consultations.create_consultation(
        desk.owner, "Stage two", [desk.member.id], case_id=desk.case.id
    )
    login(client, desk.owner)
    case_page = client.get(f"/cases/{desk.case.id}").get_data(as_text=True)
    assert f"/consultations/{found.id}" in case_page
    assert "Stage two" in case_page
    channel_page = client.get(f"/channels/{desk.case.channel_id}").get_data(as_text=True)
    assert f"/consultations/{found.id}" in channel_page
    room_channel = client.get(f"/channels/{found.channel_id}").get_data(as_text=True)
    assert f"/consultations/{found.id}" in room_channel


def test_the_api_takes_a_start_time(client, desk):
    headers = bearer(desk.owner)
    body = {"title": "Later", "participants": [desk.member.id], "case_id": desk.case.id}
    bad = client.post(
        "/api/v1/consultations", json={**body, "scheduled_at": "tomorrow"}, headers=headers
    )
    assert bad.status_code == 422
    assert "scheduled_at" in bad.get_json()["error"]["fields"]
    naive = client.post(
        "/api/v1/consultations", json={**body, "scheduled_at": "2099-01-01T10:00"}, headers=headers
    )
    assert naive.status_code == 422
    made = client.post(
        "/api/v1/consultations",
        json={**body, "scheduled_at": "2099-01-01T10:00:00+02:00"},
        headers=headers,
    )
    assert made.status_code == 201
    got = client.get(f"/api/v1/consultations/{made.get_json()['id']}", headers=headers).get_json()
    assert got["status"] == "scheduled"
    assert got["scheduled_at"] == "2099-01-01T08:00:00+00:00"


def test_the_moderator_cannot_add_someone_outside_the_case_through_the_channel_api(client, desk):
    room = consultations.create_consultation(
        desk.owner, "Extradition of K: live", [desk.member.id], case_id=desk.case.id
    )
    messaging.post_message(room.channel_id, desk.owner, "K is at the border post", client_id())
    added = client.post(
        f"/api/v1/channels/{room.channel_id}/members",
        json={"user_ids": [desk.bystander.id]},
        headers=bearer(desk.owner),
    )
    assert added.status_code == 403
    assert added.get_json()["error"]["message"] == (
        "People join a consultation room through its invitations."
    )
    db.session.expire_all()
    assert room.channel.member_for(desk.bystander.id) is None
    read = client.get(
        f"/api/v1/channels/{room.channel_id}/messages", headers=bearer(desk.bystander)
    )
    assert read.status_code == 404
    assert "border post" not in read.get_data(as_text=True)


def test_the_room_channel_keeps_its_people_against_the_channel_api(client, desk):
    """Even a member of the case is not added, nor an admitted person removed, nor does
    one leave, except through the consultation itself."""
    room = consultations.create_consultation(
        desk.owner, "Live", [desk.member.id], case_id=desk.case.id
    )
    consultations.admit(room.id, desk.owner, desk.member.id)
    base = f"/api/v1/channels/{room.channel_id}/members"
    removed = client.delete(f"{base}/{desk.member.id}", headers=bearer(desk.owner))
    left = client.delete(f"{base}/{desk.member.id}", headers=bearer(desk.member))
    assert (removed.status_code, left.status_code) == (403, 403)
    db.session.expire_all()
    assert room.channel.member_for(desk.member.id) is not None
    consultations.remove(room.id, desk.owner, desk.member.id)
    again = client.post(base, json={"user_ids": [desk.member.id]}, headers=bearer(desk.owner))
    assert again.status_code == 403
    db.session.expire_all()
    assert room.channel.member_for(desk.member.id) is None


def test_the_room_channel_members_page_offers_no_channel_membership_actions(client, login, desk):
    room = consultations.create_consultation(
        desk.owner, "Live", [desk.member.id], case_id=desk.case.id
    )
    consultations.admit(room.id, desk.owner, desk.member.id)
    login(client, desk.owner)
    page = client.get(f"/channels/{room.channel_id}/members").get_data(as_text=True)
    assert "Add people" not in page
    assert f"/channels/{room.channel_id}/members/{desk.member.id}/remove" not in page
    assert f"/channels/{room.channel_id}/leave" not in page


def test_an_ended_rooms_transcript_cannot_be_opened_again_through_the_channel(client, login, desk):
    """Ending archives the room's channel; its moderator cannot open it again through the
    channel's own archive action (and then change the transcript), nor archive a live
    room's channel that way, and the members page does not offer it."""
    room = consultations.create_consultation(
        desk.owner, "Live", [desk.member.id], case_id=desk.case.id
    )
    consultations.end(room.id, desk.owner)
    login(client, desk.owner)
    token = csrf_token(client, f"/channels/{room.channel_id}/members")
    page = client.get(f"/channels/{room.channel_id}/members").get_data(as_text=True)
    assert f"/channels/{room.channel_id}/archive" not in page
    answer = client.post(
        f"/channels/{room.channel_id}/archive", data={"archived": "0", "csrf_token": token}
    )
    assert answer.status_code == 403
    db.session.expire_all()
    assert db.session.get(Consultation, room.id).channel.archived_at is not None
    with pytest.raises(Forbidden):
        messaging.archive_channel(room.channel_id, desk.owner, archived=False)
