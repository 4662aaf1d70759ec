"""The case routes of the JSON API: shapes, errors and access for every role."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from network.models.cases import Case, CaseStatusChange
from tests.cases.conftest import bearer, days
from tests.conftest import csrf_token

OUTSIDERS = ("bystander", "coordinator", "admin", "outsider")


def _new(**overrides):  # type: ignore[no-untyped-def]
    body = {
        "network": "wacap",
        "reference": "API-1",
        "case_type": "e_evidence_preservation",
        "requesting_state": "SN",
        "requested_state": "ML",
        "summary": "Logs of a fictional account.",
        "deadline": days(2).isoformat(),
        "urgent": True,
        "urgency_reason": "Logs kept 90 days",
        "evidence_at_risk": True,
    }
    body.update(overrides)
    return body


def _error(response, status, code):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == code
    return body["error"]


def _count(db, model=Case) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_case_opened_through_the_api_has_the_documented_shape(client, desk, db):
    response = client.post(
        "/api/v1/cases", json=_new(members=[desk.member.id]), headers=bearer(desk.owner)
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["reference"] == "API-1"
    assert body["network"] == "wacap"
    assert body["status"] == "draft"
    assert body["next_statuses"] == ["sent", "withdrawn"]
    assert body["deadline"] == days(2).isoformat()
    assert body["overdue"] is False
    assert body["summary"] == "Logs of a fictional account."
    assert body["priority"]["score"] == 60
    assert body["priority"]["level"] == "high"
    assert [r["code"] for r in body["priority"]["reasons"]] == ["urgent", "evidence_at_risk"]
    assert body["priority"]["reasons"][0]["label"] == "Urgent: Logs kept 90 days"
    assert body["criteria"]["urgent"] is True
    assert [c["to_status"] for c in body["status_changes"]] == ["draft"]
    assert {m["id"] for m in body["members"]} == {desk.owner.id, desk.member.id}
    assert body["can_update"] is True
    channel = client.get("/api/v1/channels", headers=bearer(desk.member)).get_json()
    assert body["channel_id"] in [c["id"] for c in channel["items"]]


def test_the_list_has_the_documented_shape_and_only_the_callers_cases(client, desk, db):
    body = client.get("/api/v1/cases", headers=bearer(desk.member)).get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"], body["per_page"]) == (1, 1, 25)
    [item] = body["items"]
    assert item["id"] == desk.case.id
    assert "summary" not in item  # the facts come with the case itself
    for who in OUTSIDERS:
        other = client.get("/api/v1/cases", headers=bearer(desk.role(who))).get_json()
        assert other["items"] == []
        assert other["total"] == 0


def test_the_list_takes_the_page_filters(client, desk, db):
    headers = bearer(desk.owner)
    client.post("/api/v1/cases", json=_new(deadline=days(-1).isoformat()), headers=headers)
    late = client.get("/api/v1/cases?overdue=yes", headers=headers).get_json()
    assert [i["reference"] for i in late["items"]] == ["API-1"]
    assert late["items"][0]["priority"]["reasons"][-1]["code"] == "overdue"
    paged = client.get("/api/v1/cases?per_page=1&page=2", headers=headers).get_json()
    assert (paged["total"], paged["page"], paged["per_page"]) == (2, 2, 1)
    assert [i["reference"] for i in paged["items"]] == ["SN-MLA-2026-001"]
    error = _error(
        client.get("/api/v1/cases?status=lost", headers=headers), 422, "validation_error"
    )
    assert "status" in error["fields"]


@pytest.mark.parametrize("who", [*OUTSIDERS, "anonymous"])
def test_outsiders_get_no_case_through_the_api(client, desk, db, who):
    user = desk.role(who)
    headers = bearer(user) if user else {}
    read = client.get(f"/api/v1/cases/{desk.case.id}", headers=headers)
    writes = [
        client.post(
            f"/api/v1/cases/{desk.case.id}/status", json={"status": "sent"}, headers=headers
        ),
        client.patch(f"/api/v1/cases/{desk.case.id}", json={"urgent": True}, headers=headers),
    ]
    if user is None:
        _error(read, 401, "unauthorized")
        for response in writes:  # no session, no token: the CSRF gate refuses first
            _error(response, 400, "csrf_failed")
    else:
        _error(read, 404, "not_found")
        for response in writes:
            _error(response, 404, "not_found")
    db.session.expire_all()
    found = db.session.get(Case, desk.case.id)
    assert (found.status, found.urgent) == ("draft", False)


def test_anonymous_callers_cannot_list_or_open_cases(client, desk, db):
    _error(client.get("/api/v1/cases"), 401, "unauthorized")
    _error(client.post("/api/v1/cases", json=_new()), 400, "csrf_failed")
    assert _count(db) == 1


def test_members_read_the_case_with_its_history(client, desk, db):
    body = client.get(f"/api/v1/cases/{desk.case.id}", headers=bearer(desk.member)).get_json()
    assert body["id"] == desk.case.id
    assert body["summary"].startswith("Bank records")
    assert body["status_changes"][0]["from_status"] is None


def test_a_status_change_through_the_api(client, desk, db):
    response = client.post(
        f"/api/v1/cases/{desk.case.id}/status",
        json={"status": "sent", "note": "By e-mail"},
        headers=bearer(desk.member),
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "sent"
    assert body["next_statuses"] == ["received", "withdrawn"]
    assert body["change"]["from_status"] == "draft"
    assert body["change"]["to_status"] == "sent"
    assert body["change"]["note"] == "By e-mail"
    assert body["change"]["actor"]["id"] == desk.member.id


def test_a_move_the_workflow_does_not_allow_is_a_422_with_the_field(client, desk, db):
    error = _error(
        client.post(
            f"/api/v1/cases/{desk.case.id}/status",
            json={"status": "executed"},
            headers=bearer(desk.owner),
        ),
        422,
        "validation_error",
    )
    assert error["fields"]["status"] == "A case cannot go from Draft to Executed."
    assert _count(db, CaseStatusChange) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"network": "atlantis"}, "network"),
        ({"network": None}, "network"),
        ({"reference": ""}, "reference"),
        ({"requested_state": "SN"}, "requested_state"),
        ({"deadline": "01/02/2027"}, "deadline"),
        ({"urgent": "true"}, "urgent"),
        ({"members": [2_000_000_000]}, "members"),
        ({"status": "in_execution"}, "status"),
    ],
)
def test_invalid_new_cases_are_422_with_the_field_and_nothing_written(
    client, desk, db, body, field
):
    error = _error(
        client.post("/api/v1/cases", json=_new(**body), headers=bearer(desk.owner)),
        422,
        "validation_error",
    )
    assert field in error["fields"]
    assert _count(db) == 1


def test_a_body_that_is_not_a_json_object_is_422(client, desk, db):
    headers = bearer(desk.owner)
    for payload in ([1, 2], "text", None):
        response = client.post("/api/v1/cases", json=payload, headers=headers)
        _error(response, 422, "validation_error")
    _error(client.post("/api/v1/cases", data="not json", headers=headers), 422, "validation_error")


def test_opening_a_case_in_a_network_one_is_not_in_is_forbidden(client, desk, db):
    _error(
        client.post("/api/v1/cases", json=_new(network="iberred"), headers=bearer(desk.owner)),
        403,
        "forbidden",
    )
    assert _count(db) == 1


def test_an_edit_through_the_api(client, desk, db):
    response = client.patch(
        f"/api/v1/cases/{desk.case.id}",
        json={"pretrial_detention": True, "proceedings_stage": "trial"},
        headers=bearer(desk.member),
    )
    assert response.status_code == 200
    assert response.get_json()["priority"]["score"] == 55
    error = _error(
        client.patch(
            f"/api/v1/cases/{desk.case.id}", json={"status": "sent"}, headers=bearer(desk.member)
        ),
        422,
        "validation_error",
    )
    assert "status" in error["fields"]


def test_the_browser_session_needs_a_csrf_token_for_writes(client, desk, db, login):
    login(client, desk.owner)
    response = client.post(f"/api/v1/cases/{desk.case.id}/status", json={"status": "sent"})
    _error(response, 400, "csrf_failed")
    token = csrf_token(client, "/account/")
    response = client.post(
        f"/api/v1/cases/{desk.case.id}/status",
        json={"status": "sent"},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200


def test_the_openapi_document_lists_the_case_routes(client, desk, db):
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/cases", "/cases/{id}", "/cases/{id}/status"} <= set(document["paths"])
    assert "post" in document["paths"]["/cases"]
    assert "Case" in document["components"]["schemas"]
