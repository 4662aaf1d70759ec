"""GET /api/v1/events?start=&end= as API.md says: the list envelope, the error envelope."""

from __future__ import annotations

from network.services import accounts


def test_events_in_a_range_in_the_list_envelope(client, login, people, make_event):
    event = make_event(title="In range", rrule="FREQ=DAILY;COUNT=3")
    make_event(title="Out of range", starts_at="2027-05-10T09:00", ends_at="2027-05-10T10:00")
    login(client, people.member)
    response = client.get("/api/v1/events?start=2027-03-01T00:00:00Z&end=2027-04-01T00:00:00Z")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "total", "page", "per_page"}
    assert body["total"] == 3
    first = body["items"][0]
    assert first["id"] == event.id
    assert first["start"] == "2027-03-10T09:00:00+00:00"  # Dakar is UTC+0
    assert first["timezone"] == "Africa/Dakar"
    assert first["networks"] == ["wacap"]
    assert first["recurring"] is True
    paged = client.get("/api/v1/events?start=2027-03-01&end=2027-04-01&per_page=2&page=2")
    assert paged.get_json()["items"][0]["start"].startswith("2027-03-12")


def test_bad_ranges_get_the_error_envelope(client, login, people):
    login(client, people.member)
    for query in ("", "start=yesterday&end=2027-01-01", "start=2027-02-01&end=2027-01-01",
                  "start=2020-01-01&end=2027-01-01", "start=2027-01-01&end=2027-02-01&kind=x",
                  "start=2027-01-01&end=2027-02-01&per_page=0"):  # fmt: skip
        response = client.get(f"/api/v1/events?{query}")
        assert response.status_code == 422, query
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert error["message"]
        assert error["fields"]


def test_api_needs_authentication_and_accepts_a_bearer_token(client, people, make_event):
    make_event()
    response = client.get("/api/v1/events?start=2027-03-01&end=2027-04-01")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    _row, token = accounts.create_token(people.outsider, "test")
    response = client.get(
        "/api/v1/events?start=2027-03-01&end=2027-04-01",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200
    assert response.get_json()["total"] == 0  # another network's member sees nothing


def test_openapi_documents_the_events_route(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/events" in paths
    parameters = {p["name"] for p in paths["/events"]["get"]["parameters"]}
    assert {"start", "end"} <= parameters
