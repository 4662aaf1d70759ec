"""The JSON API's contract (../shared/API.md): authentication, the error body, the shapes
of /me, /networks and /contact-points, and that bad input is a 4xx, never a 500."""

from __future__ import annotations

import pytest

from network.services import accounts


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return body["error"]


@pytest.fixture
def member(make_user, make_network):
    network = make_network("wacap", acronym="WACAP", states="SN ML")
    return make_user("contact_point", network)


@pytest.fixture
def bearer(member):
    _token, plain = accounts.create_token(member, "tests")
    return {"Authorization": f"Bearer {plain}"}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/me", "/api/v1/networks", "/api/v1/contact-points", "/api/v1/contact-points/1"],
)
def test_anonymous_api_call_gets_401_json(client, path):
    _error(client.get(path), 401, "unauthorized")


def test_me_describes_the_caller_with_memberships(client, member, bearer, make_network, db):
    other = make_network("iberred", acronym="IberRed", states="ES PT")
    member.memberships[0].role = "coordinator"
    from network.models.people import Membership

    db.session.add(Membership(user=member, network=other, role="observer"))
    db.session.commit()
    response = client.get("/api/v1/me", headers=bearer)
    assert response.status_code == 200
    me = response.get_json()
    assert me["id"] == member.id
    assert me["email"] == member.email
    assert me["name"] == member.name
    assert sorted(me["memberships"], key=lambda m: m["network"]) == [
        {"network": "iberred", "role": "observer"},
        {"network": "wacap", "role": "coordinator"},
    ]


def test_me_works_with_the_browser_session_too(client, member, login):
    login(client, member)
    me = client.get("/api/v1/me").get_json()
    assert me["email"] == member.email
    assert me["memberships"] == [{"network": "wacap", "role": "contact_point"}]


def test_networks_list_has_the_documented_shape(client, bearer, make_network):
    make_network("iberred", acronym="IberRed", name="Ibero-American Network", states="ES PT AD")
    body = client.get("/api/v1/networks", headers=bearer).get_json()
    assert set(body) >= {"items", "total", "page", "per_page"}
    assert body["total"] == len(body["items"]) == 2
    by_slug = {n["slug"]: n for n in body["items"]}
    iberred = by_slug["iberred"]
    assert set(iberred) >= {"slug", "acronym", "name", "languages", "member_states"}
    assert iberred["acronym"] == "IberRed"
    assert iberred["name"] == "Ibero-American Network"
    assert sorted(iberred["member_states"]) == ["AD", "ES", "PT"]
    assert iberred["languages"] == ["en", "fr"]
    assert by_slug["wacap"]["member_states"] == ["ML", "SN"]


def test_contact_point_list_has_the_documented_shape(client, bearer, make_contact_point):
    cp = make_contact_point(name="Awa Example", country="SN", available_24_7=True)
    body = client.get("/api/v1/contact-points", headers=bearer).get_json()
    assert set(body) >= {"items", "total", "page", "per_page"}
    assert (body["total"], body["page"]) == (1, 1)
    item = body["items"][0]
    documented = {
        "id", "name", "title", "institution", "authority_type", "country", "networks",
        "languages", "expertise", "channels", "email", "phone", "available_24_7",
        "last_confirmed",
    }  # fmt: skip
    assert documented <= set(item)
    assert item["id"] == cp.id
    assert item["networks"] == ["wacap"]
    assert item["available_24_7"] is True
    assert item["phone"].startswith("+000")
    one = client.get(f"/api/v1/contact-points/{cp.id}", headers=bearer).get_json()
    assert one["name"] == "Awa Example"


def test_contact_point_vcard_is_served(client, bearer, make_contact_point):
    cp = make_contact_point(name="Awa Example")
    response = client.get(f"/api/v1/contact-points/{cp.id}.vcf", headers=bearer)
    assert response.status_code == 200
    assert response.mimetype == "text/vcard"
    text = response.get_data(as_text=True)
    assert "BEGIN:VCARD" in text
    assert "VERSION:4.0" in text
    assert "Awa Example" in text


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/contact-points/999999",
        "/api/v1/contact-points/999999.vcf",
        # larger than any database integer: still "not found", not a crash
        "/api/v1/contact-points/99999999999999999999999",
        "/api/v1/no-such-route",
    ],
)
def test_unknown_ids_and_routes_are_404_json(client, bearer, path):
    _error(client.get(path, headers=bearer), 404, "not_found")


def test_entry_of_another_network_is_403_json(client, bearer, make_contact_point):
    cp = make_contact_point(networks=["other-net"])
    _error(client.get(f"/api/v1/contact-points/{cp.id}", headers=bearer), 403, "forbidden")


def test_wrong_method_is_405_json(client, bearer):
    _error(client.delete("/api/v1/networks", headers=bearer), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=ZZZ", "country"),
        ("country=SN&country=XX", "country"),
        ("per_page=1000", "per_page"),
        ("per_page=0", "per_page"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("page=1e309", "page"),
        ("available_24_7=perhaps", "available_24_7"),
        ("expertise=astrology", "expertise"),
        ("language=xx", "language"),
        ("network=no-such-network", "network"),
        ("sort=shoe-size", "sort"),
    ],
)
def test_bad_search_parameters_are_422_with_the_field(client, bearer, query, field):
    error = _error(
        client.get(f"/api/v1/contact-points?{query}", headers=bearer), 422, "validation_error"
    )
    assert field in error["fields"]
    assert error["fields"][field]


def test_network_the_caller_does_not_belong_to_is_refused_as_a_filter(client, bearer, make_network):
    make_network("ejn")
    error = _error(
        client.get("/api/v1/contact-points?network=ejn", headers=bearer), 422, "validation_error"
    )
    assert "network" in error["fields"]


@pytest.mark.parametrize(
    "query",
    [
        "q=%00",
        "q=" + "x" * 5000,
        "q=%25%5F%5C",
        "q=%F0%9F%98%80",
        "country=%00",
        "per_page=%00",
        "network=%00",
    ],
)
def test_odd_input_is_never_a_server_error(client, bearer, query):
    response = client.get(f"/api/v1/contact-points?{query}", headers=bearer)
    assert response.status_code in {200, 422}
    assert response.mimetype == "application/json"


@pytest.mark.parametrize("query", ["q=a%00b", "country=%00", "%00=1"])
def test_nul_characters_in_parameters_are_422(client, bearer, query):
    response = client.get(f"/api/v1/contact-points?{query}", headers=bearer)
    error = _error(response, 422, "validation_error")
    assert error["fields"]


def test_search_finds_by_free_text_with_odd_characters_safely(client, bearer, make_contact_point):
    make_contact_point(name="Ndeye 100% Example")
    make_contact_point(name="Other Person")
    body = client.get("/api/v1/contact-points?q=100%25", headers=bearer).get_json()
    assert [item["name"] for item in body["items"]] == ["Ndeye 100% Example"]
