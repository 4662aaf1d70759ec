"""Search across a member's networks: free text, facets with counts, sort, pages.

Every count below is worked out by hand from the ``world`` fixture (see its docstring).
"""

from __future__ import annotations

import pytest

VISIBLE = {"Ana Gonçalves", "Moussa Diallo", "Fatou Ndiaye", "Javier García", "Shared Person"}


def api(client, **params):
    response = client.get("/api/v1/contact-points", query_string=params)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def api_counts(body, facet):
    return {v["value"]: v["count"] for v in body["facets"][facet]}


def test_member_sees_entries_of_own_networks_only(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/?per_page=100"))
    assert set(pages.result_names(page)) == VISIBLE
    assert "Hidden Outsider" not in page
    body = api(client, per_page=100)
    assert {item["name"] for item in body["items"]} == VISIBLE
    assert body["total"] == 5


def test_facet_counts_without_selection_match_the_hand_count(client, login, world, pages):
    login(client, world.member)
    body = api(client)
    assert api_counts(body, "network") == {"alpha": 4, "beta": 2}  # gamma is not theirs
    assert api_counts(body, "country") == {"PT": 1, "SN": 2, "ES": 1, "ML": 1}
    assert api_counts(body, "authority_type") == {
        "central_authority": 2,
        "prosecution": 1,
        "judiciary": 1,
        "law_enforcement": 1,
    }
    assert api_counts(body, "expertise") == {
        "mla": 3,
        "extradition": 2,
        "e_evidence": 1,
        "confiscation": 1,
        "cybercrime": 1,
    }
    # spoken or accepted for requests, each person counted once per language
    assert api_counts(body, "language") == {"pt": 1, "en": 3, "fr": 3, "es": 1}
    assert api_counts(body, "available_24_7") == {"yes": 2, "no": 3}

    page = pages.text(client.get("/directory/"))
    assert pages.facet_counts(page, "country") == {
        "Senegal": 2,
        "Mali": 1,
        "Portugal": 1,
        "Spain": 1,
    }
    assert pages.facet_counts(page, "network") == {"ALPHA": 4, "BETA": 2}
    assert pages.facet_counts(page, "available_24_7") == {
        "Office hours only": 3,
        "Available 24/7": 2,
    }


def test_a_facets_counts_ignore_its_own_selection(client, login, world, pages):
    login(client, world.member)
    body = api(client, country="SN")
    assert body["total"] == 2
    # the country facet still offers the other countries with what they would give
    assert api_counts(body, "country") == {"PT": 1, "SN": 2, "ES": 1, "ML": 1}
    # the other facets are narrowed to Senegal
    assert api_counts(body, "network") == {"alpha": 2}
    assert api_counts(body, "expertise") == {"mla": 1, "extradition": 1, "e_evidence": 1}

    body = api(client, country="SN", expertise="mla")
    assert [item["name"] for item in body["items"]] == ["Moussa Diallo"]
    assert api_counts(body, "country") == {"PT": 1, "SN": 1, "ES": 1}  # everyone with mla
    assert api_counts(body, "expertise") == {"mla": 1, "extradition": 1, "e_evidence": 1}

    page = pages.text(client.get("/directory/?country=SN&expertise=mla"))
    assert pages.result_names(page) == ["Moussa Diallo"]
    assert pages.facet_counts(page, "country") == {"Senegal": 1, "Portugal": 1, "Spain": 1}


def test_several_values_of_one_facet_widen_the_search(client, login, world):
    login(client, world.member)
    body = api(client, country="SN,PT")
    assert {i["name"] for i in body["items"]} == {"Moussa Diallo", "Fatou Ndiaye", "Ana Gonçalves"}
    response = client.get("/api/v1/contact-points?country=SN&country=PT")
    assert response.get_json()["total"] == 3


def test_language_facet_matches_spoken_or_request_languages(client, login, world):
    login(client, world.member)
    body = api(client, language="en")
    # Ana and Fatou speak English; Javier accepts requests in English
    assert {i["name"] for i in body["items"]} == {"Ana Gonçalves", "Fatou Ndiaye", "Javier García"}


def test_network_and_24_7_facets(client, login, world):
    login(client, world.member)
    assert {i["name"] for i in api(client, network="beta")["items"]} == {
        "Ana Gonçalves",
        "Javier García",
    }
    body = api(client, available_24_7="yes")
    assert {i["name"] for i in body["items"]} == {"Moussa Diallo", "Shared Person"}
    assert api_counts(body, "available_24_7") == {"yes": 2, "no": 3}
    body = api(client, available_24_7="no", network="alpha")
    assert {i["name"] for i in body["items"]} == {"Fatou Ndiaye", "Javier García"}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("goncalves", {"Ana Gonçalves"}),
        ("GONÇALVES", {"Ana Gonçalves"}),
        ("garcia", {"Javier García"}),
        ("procuradoria republica", {"Ana Gonçalves"}),  # institution, both words
        ("wolof", {"Moussa Diallo"}),  # notes
        ("audiencia", {"Javier García"}),  # the gamma-only namesake stays hidden
        ("nobody-is-called-this", set()),
        ("100%", set()),  # LIKE wildcards are taken literally
    ],
)
def test_free_text_is_accent_and_case_insensitive(client, login, world, q, expected):
    login(client, world.member)
    assert {i["name"] for i in api(client, q=q)["items"]} == expected


def test_free_text_on_the_html_page(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/?q=goncalves"))
    assert pages.result_names(page) == ["Ana Gonçalves"]
    assert 'value="goncalves"' in page


def test_counts_never_include_other_networks_entries(client, login, world):
    login(client, world.member)
    body = api(client, q="audiencia")
    assert body["total"] == 1
    assert api_counts(body, "country") == {"ES": 1}
    assert api_counts(body, "authority_type") == {"judiciary": 1}


def test_unknown_network_in_search_is_refused_not_revealed(client, login, world, pages):
    """gamma exists but is not the member's: it is an unknown value for them."""
    login(client, world.member)
    response = client.get("/api/v1/contact-points?network=gamma")
    assert response.status_code == 422
    assert "network" in response.get_json()["error"]["fields"]
    page = client.get("/directory/?network=gamma")
    assert page.status_code == 400
    assert "Hidden Outsider" not in pages.text(page)


def test_sort_and_pages(client, login, world, pages):
    login(client, world.member)
    by_name = ["Ana Gonçalves", "Fatou Ndiaye", "Javier García", "Moussa Diallo", "Shared Person"]
    assert [i["name"] for i in api(client, per_page=100)["items"]] == by_name
    body = api(client, per_page=2, page=2)
    assert [i["name"] for i in body["items"]] == by_name[2:4]
    assert (body["total"], body["page"], body["per_page"]) == (5, 2, 2)
    assert [i["name"] for i in api(client, per_page=2, page=3)["items"]] == by_name[4:]
    assert api(client, per_page=2, page=4)["items"] == []

    by_country = [i["country"] for i in api(client, sort="country")["items"]]
    assert by_country == ["ES", "ML", "PT", "SN", "SN"]
    newest_first = [i["name"] for i in api(client, sort="confirmed_desc")["items"]]
    assert newest_first == [
        "Ana Gonçalves",
        "Fatou Ndiaye",
        "Shared Person",
        "Javier García",
        "Moussa Diallo",
    ]
    oldest_first = [i["name"] for i in api(client, sort="confirmed_asc")["items"]]
    assert oldest_first == list(reversed(newest_first))

    page = pages.text(client.get("/directory/?per_page=2&page=2"))
    assert pages.result_names(page) == by_name[2:4]
    assert "Page 2 of 3" in page
    assert 'rel="next"' in page
    assert 'rel="prev"' in page


def test_api_items_carry_the_documented_fields(client, login, world):
    login(client, world.member)
    body = api(client, q="garcia")
    assert set(body) >= {"items", "total", "page", "per_page"}
    item = body["items"][0]
    assert set(item) >= {
        "id",
        "name",
        "title",
        "institution",
        "authority_type",
        "country",
        "networks",
        "languages",
        "expertise",
        "channels",
        "email",
        "phone",
        "available_24_7",
        "last_confirmed",
    }
    assert item["id"] == world.id("javier")
    assert sorted(item["networks"]) == ["alpha", "beta"]
    assert item["phone"].startswith("+000")
    assert item["last_confirmed"] == world.entries["javier"].last_confirmed_at.isoformat()


def test_former_entries_leave_the_default_search(client, login, world, pages):
    login(client, world.member)
    assert "Former Predecessor" not in {i["name"] for i in api(client, per_page=100)["items"]}
    assert api_counts(api(client), "country")["SN"] == 2
    body = api(client, include_former="yes", country="SN")
    assert "Former Predecessor" in {i["name"] for i in body["items"]}
    page = pages.text(client.get("/directory/?include_former=yes&country=SN"))
    assert "Former Predecessor" in pages.result_names(page)
    assert "Former" in page


def test_admin_searches_every_network(client, login, world, make_user):
    login(client, make_user(admin=True))
    body = api(client, per_page=100)
    assert {i["name"] for i in body["items"]} == VISIBLE | {"Hidden Outsider"}
    assert api_counts(body, "network") == {"alpha": 4, "beta": 2, "gamma": 2}


def test_user_without_networks_finds_nobody(client, login, world, make_user):
    login(client, make_user())
    body = api(client)
    assert body["total"] == 0
    assert body["items"] == []


def test_search_needs_sign_in(client, world):
    assert client.get("/api/v1/contact-points").status_code == 401
    response = client.get("/directory/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("country=XX", "country"),
        ("expertise=astrology", "expertise"),
        ("authority_type=king", "authority_type"),
        ("language=zz", "language"),
        ("available_24_7=maybe", "available_24_7"),
        ("sort=shoe-size", "sort"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("per_page=1000", "per_page"),
    ],
)
def test_unknown_search_values_are_a_clear_error(client, login, world, pages, query, field):
    login(client, world.member)
    response = client.get(f"/api/v1/contact-points?{query}")
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"]

    page = client.get(f"/directory/?{query}")
    assert page.status_code == 400
    text = pages.flashes(pages.text(page))
    assert "not recognised" in text
    # the rest of the page still works, without the value it did not understand
    assert set(pages.result_names(pages.text(page))) <= VISIBLE
