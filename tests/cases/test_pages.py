"""The case pages: the list by priority, the case page with its timeline and status form,
the new and edit forms (422 with the input kept, nothing written), and who sees what."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import func, select

from network.models.base import utcnow
from network.models.cases import Case, CaseStatusChange
from network.models.people import AuditEvent
from network.services import cases, messaging
from tests.cases.conftest import days
from tests.conftest import csrf_token

ROLES = ("owner", "member", "bystander", "coordinator", "admin", "outsider", "anonymous")
READERS = {"owner", "member"}


def _as(app, login, desk, who):  # type: ignore[no-untyped-def]
    client = app.test_client()
    user = desk.role(who)
    return login(client, user) if user else client


def _form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "network": "wacap",
        "reference": "SN-EXT-2026-009",
        "case_type": "extradition",
        "status": "draft",
        "requesting_state": "SN",
        "requested_state": "GH",
        "legal_basis": "UNTOC art. 16",
        "summary": "A fictional fugitive.",
        "deadline": "",
        "offence_seriousness": "very_serious",
        "proceedings_stage": "prosecution",
        "pretrial_detention": "y",
        "urgency_reason": "",
    }
    data.update(overrides)
    return data


def _case_count(db) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(Case)) or 0


# --- Access for every role -------------------------------------------------------------------


@pytest.mark.parametrize("who", ROLES)
def test_case_pages_for_every_role(app, desk, db, login, who):
    client = _as(app, login, desk, who)
    found = desk.case
    page = client.get(f"/cases/{found.id}")
    edit = client.get(f"/cases/{found.id}/edit")
    listing = client.get("/cases/")
    if who == "anonymous":
        for response in (page, edit, listing):
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]
        return
    assert listing.status_code == 200
    if who in READERS:
        assert page.status_code == 200
        assert edit.status_code == 200
        assert found.reference in listing.get_data(as_text=True)
        assert "Bank records of a shell company" in page.get_data(as_text=True)
    else:
        # Not a member of the case channel: as if the case did not exist.
        assert page.status_code == 404
        assert edit.status_code == 404
        assert found.reference not in listing.get_data(as_text=True)
        assert "Bank records" not in page.get_data(as_text=True)


@pytest.mark.parametrize("who", ["bystander", "coordinator", "admin", "outsider"])
def test_outsiders_cannot_change_the_status_or_edit(app, desk, db, login, who):
    client = _as(app, login, desk, who)
    token = csrf_token(client, "/account/")
    status = client.post(
        f"/cases/{desk.case.id}/status", data={"status": "sent", "csrf_token": token}
    )
    edit = client.post(
        f"/cases/{desk.case.id}/edit", data={**_form(reference="HIJACKED"), "csrf_token": token}
    )
    assert status.status_code == edit.status_code == 404
    db.session.expire_all()
    found = db.session.get(Case, desk.case.id)
    assert (found.status, found.reference) == ("draft", "SN-MLA-2026-001")


def test_a_refused_look_at_a_case_is_audited(app, desk, db, login):
    _as(app, login, desk, "coordinator").get(f"/cases/{desk.case.id}")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "case.access_denied"))
    assert event.actor_id == desk.coordinator.id
    assert event.entity_id == desk.case.id
    assert event.network_id == desk.network.id


@pytest.mark.parametrize("who", ["admin", "observer"])
def test_people_who_cannot_open_cases_in_any_network_get_no_form(
    app, desk, db, login, make_user, who
):
    person = desk.admin if who == "admin" else make_user("observer", desk.network)
    client = login(app.test_client(), person)
    assert client.get("/cases/new").status_code == 403
    assert "New case" not in client.get("/cases/").get_data(as_text=True)
    token = csrf_token(client, "/account/")
    assert client.post("/cases/new", data={**_form(), "csrf_token": token}).status_code == 403
    assert _case_count(db) == 1


def test_a_member_of_an_archived_case_channel_reads_without_forms(app, desk, db, login):
    desk.case.channel.archived_at = utcnow()
    db.session.commit()
    client = _as(app, login, desk, "member")
    page = client.get(f"/cases/{desk.case.id}").get_data(as_text=True)
    assert desk.case.reference in page
    assert "Change the status" not in page
    assert f"/cases/{desk.case.id}/edit" not in page
    assert client.get(f"/cases/{desk.case.id}/edit").status_code == 403
    token = csrf_token(client, "/account/")
    response = client.post(
        f"/cases/{desk.case.id}/status", data={"status": "sent", "csrf_token": token}
    )
    assert response.status_code == 403
    assert desk.case.status == "draft"


# --- The list -----------------------------------------------------------------------------


def test_the_list_shows_priority_reasons_overdue_and_country_names(app, desk, db, login):
    cases.update_case(
        desk.owner, desk.case, {"pretrial_detention": True, "deadline": days(-3), "urgent": True}
    )
    cases.create_case(
        desk.owner,
        desk.network,
        {
            "reference": "QUIET-ONE",
            "case_type": "mla",
            "requesting_state": "ML",
            "requested_state": "NG",
        },
    )
    html = _as(app, login, desk, "owner").get("/cases/").get_data(as_text=True)
    assert html.index("SN-MLA-2026-001") < html.index("QUIET-ONE")
    assert "High priority" in html
    assert "A person is in pre-trial detention" in html
    assert "Deadline passed on" in html
    assert "Overdue" in html
    assert "Senegal" in html
    assert "Ghana" in html
    assert "Nigeria" in html
    assert "Low priority" in html


def test_country_names_follow_the_readers_language(app, desk, db, login):
    desk.owner.locale = "fr"
    db.session.commit()
    html = _as(app, login, desk, "owner").get("/cases/").get_data(as_text=True)
    assert "Sénégal" in html


def test_an_unknown_filter_is_named_and_the_list_still_shows(app, desk, db, login):
    response = _as(app, login, desk, "owner").get("/cases/?status=lost&sort=reference")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Unknown status." in html
    assert desk.case.reference in html


def test_filters_from_the_page(app, desk, db, login):
    client = _as(app, login, desk, "owner")
    assert desk.case.reference in client.get("/cases/?status=draft").get_data(as_text=True)
    assert desk.case.reference not in client.get("/cases/?status=sent").get_data(as_text=True)
    assert desk.case.reference not in client.get("/cases/?overdue=yes").get_data(as_text=True)


# --- New case -----------------------------------------------------------------------------


def test_a_case_opened_from_the_form_lands_on_its_page(app, desk, db, login):
    client = _as(app, login, desk, "owner")
    token = csrf_token(client, "/cases/new")
    response = client.post(
        "/cases/new", data={**_form(members=[str(desk.member.id)]), "csrf_token": token}
    )
    assert response.status_code == 302
    found = db.session.scalar(select(Case).where(Case.reference == "SN-EXT-2026-009"))
    assert response.headers["Location"].endswith(f"/cases/{found.id}")
    assert found.pretrial_detention is True
    assert {m.user_id for m in found.channel.members} == {desk.owner.id, desk.member.id}
    page = client.get(f"/cases/{found.id}").get_data(as_text=True)
    assert "High priority" in page
    assert "A fictional fugitive." in page


def test_the_form_offers_only_networks_where_one_may_open_cases(app, desk, db, login, make_user):
    person = make_user(
        memberships=[(desk.network, "contact_point"), (desk.other_network, "observer")]
    )
    html = login(app.test_client(), person).get("/cases/new").get_data(as_text=True)
    assert 'value="wacap"' in html
    assert 'value="iberred"' not in html


def test_an_invalid_new_case_keeps_the_input_names_the_fields_and_writes_nothing(
    app, desk, db, login
):
    client = _as(app, login, desk, "owner")
    token = csrf_token(client, "/cases/new")
    before = _case_count(db)
    response = client.post(
        "/cases/new",
        data={
            **_form(reference="SN-MLA-2026-001", requested_state="SN", legal_basis="Treaty X"),
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Another case of this network already has this reference." in html
    assert "The requested state must differ from the requesting one." in html
    assert 'value="Treaty X"' in html  # the input is kept
    assert "A fictional fugitive." in html
    assert _case_count(db) == before


def test_a_new_case_without_a_country_asks_to_choose_from_the_list(app, desk, db, login):
    client = _as(app, login, desk, "owner")
    token = csrf_token(client, "/cases/new")
    response = client.post("/cases/new", data={**_form(requesting_state=""), "csrf_token": token})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a country from the list." in html  # a dropdown of names, not codes
    assert "ISO 3166" not in html


def test_a_new_case_without_a_csrf_token_is_refused(app, desk, db, login):
    client = _as(app, login, desk, "owner")
    before = _case_count(db)
    assert client.post("/cases/new", data=_form()).status_code == 400
    assert _case_count(db) == before


# --- The case page ----------------------------------------------------------------------


def test_the_case_page_merges_status_changes_and_messages(app, desk, db, login):
    messaging.post_message(desk.case.channel_id, desk.owner, "Draft attached", uuid.uuid4().hex)
    cases.change_status(desk.owner, desk.case, "sent", "Through the secure platform")
    messaging.post_message(desk.case.channel_id, desk.member, "Got it", uuid.uuid4().hex)
    html = _as(app, login, desk, "member").get(f"/cases/{desk.case.id}").get_data(as_text=True)
    order = [
        html.index("Case opened as Draft"),
        html.index("Draft attached"),
        html.index("Status: Draft → Sent"),
        html.index("Through the secure platform"),
        html.index("Got it"),
    ]
    assert order == sorted(order)
    assert f"/channels/{desk.case.channel_id}" in html
    assert desk.member.name in html
    assert desk.owner.name in html


def test_the_status_form_offers_only_the_next_statuses(app, desk, db, login):
    html = _as(app, login, desk, "owner").get(f"/cases/{desk.case.id}").get_data(as_text=True)
    form = html[html.index('name="status"') : html.index("</select>", html.index('name="status"'))]
    assert set(re.findall(r'<option[^>]*value="([^"]*)"', form)) == {"", "sent", "withdrawn"}


def test_a_status_change_from_the_page(app, desk, db, login):
    client = _as(app, login, desk, "member")
    token = csrf_token(client, f"/cases/{desk.case.id}")
    response = client.post(
        f"/cases/{desk.case.id}/status",
        data={"status": "sent", "note": "Sent by courier", "csrf_token": token},
    )
    assert response.status_code == 302
    html = client.get(f"/cases/{desk.case.id}").get_data(as_text=True)
    assert "The case is now: Sent." in html
    assert "Sent by courier" in html


@pytest.mark.parametrize("status", ["executed", "", "nonsense"])
def test_a_status_the_workflow_does_not_allow_is_a_422_and_nothing_changes(
    app, desk, db, login, status
):
    client = _as(app, login, desk, "owner")
    token = csrf_token(client, f"/cases/{desk.case.id}")
    response = client.post(
        f"/cases/{desk.case.id}/status",
        data={"status": status, "note": "keep me", "csrf_token": token},
    )
    assert response.status_code == 422
    assert "keep me" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CaseStatusChange)) == 1


def test_a_closed_case_shows_no_status_form(app, desk, db, login):
    cases.change_status(desk.owner, desk.case, "withdrawn")
    html = _as(app, login, desk, "owner").get(f"/cases/{desk.case.id}").get_data(as_text=True)
    assert "This case is closed" in html
    assert "Change the status</h2>" not in html


# --- Edit ---------------------------------------------------------------------------------


def test_an_edit_from_the_form_is_saved(app, desk, db, login):
    client = _as(app, login, desk, "member")
    token = csrf_token(client, f"/cases/{desk.case.id}/edit")
    response = client.post(
        f"/cases/{desk.case.id}/edit",
        data={
            **_form(reference="SN-MLA-2026-001", case_type="mla", deadline="2031-05-01"),
            "evidence_at_risk": "y",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    found = db.session.get(Case, desk.case.id)
    assert found.deadline.isoformat() == "2031-05-01"
    assert found.evidence_at_risk is True
    assert found.priority_score == 40 + 30 + 25 + 5


def test_an_invalid_edit_keeps_the_input_and_changes_nothing(app, desk, db, login):
    client = _as(app, login, desk, "owner")
    token = csrf_token(client, f"/cases/{desk.case.id}/edit")
    before = cases.snapshot(desk.case)
    response = client.post(
        f"/cases/{desk.case.id}/edit",
        data={
            **_form(reference="", requesting_state="GH", legal_basis="Kept basis"),
            "csrf_token": token,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "A reference is required." in html
    assert "The requested state must differ from the requesting one." in html
    assert 'value="Kept basis"' in html
    db.session.expire_all()
    assert cases.snapshot(db.session.get(Case, desk.case.id)) == before


def test_the_list_pages_keep_the_filters(app, desk, db, login):
    for n in range(2):
        cases.create_case(
            desk.owner,
            desk.network,
            {
                "reference": f"MORE-{n}",
                "case_type": "mla",
                "requesting_state": "SN",
                "requested_state": "GH",
            },
        )
    client = _as(app, login, desk, "owner")
    first = client.get("/cases/?sort=reference&per_page=2&status=draft").get_data(as_text=True)
    assert "Page 1 of 2" in first
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "status=draft" in link
    assert "sort=reference" in link
    second = client.get(link).get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert "SN-MLA-2026-001" in second
    assert "MORE-0" not in second
