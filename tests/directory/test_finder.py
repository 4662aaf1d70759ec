"""The finder: "who handles this measure in this country?"."""

from __future__ import annotations

import re


def sections(page: str) -> dict[str, list[str]]:
    """Names under each heading of the answer."""
    found: dict[str, list[str]] = {}
    for title, body in re.findall(r"<h2>(.*?)</h2>(.*?)</section>", page, re.S):
        found[title] = re.findall(r'<article class="cp-card">\s*<h3><a [^>]*>(.*?)</a>', body)
    return found


def test_competent_entries_come_first_with_central_authorities_ranked_first(
    client, login, make_network, make_user, make_contact_point
):
    net = make_network("alpha", acronym="ALPHA", states="SN")
    member = make_user("contact_point", net)
    make_contact_point(
        name="Ousmane Police",
        authority_type="law_enforcement",
        networks=["alpha"],
        expertise=["e_evidence"],
        available_24_7=True,
    )
    make_contact_point(
        name="Awa Central",
        authority_type="central_authority",
        networks=["alpha"],
        expertise=["e_evidence", "mla"],
    )
    make_contact_point(
        name="Binta Prosecutor",
        authority_type="prosecution",
        networks=["alpha"],
        expertise=["e_evidence"],
    )
    make_contact_point(
        name="Aaron Judge", authority_type="judiciary", networks=["alpha"], expertise=["mla"]
    )
    make_contact_point(
        name="Malian Central",
        country="ML",
        authority_type="central_authority",
        networks=["alpha"],
        expertise=["e_evidence"],
    )
    login(client, member)
    response = client.get("/directory/find?measure=e_evidence&country=SN")
    assert response.status_code == 200
    found = sections(response.get_data(as_text=True))
    competent = found["Competent contact points"]
    # the central authority first; then 24/7 before office hours
    assert competent == ["Awa Central", "Ousmane Police", "Binta Prosecutor"]
    # the country's other entries follow as a fallback; other countries never appear
    assert found["Other contact points in this country"] == ["Aaron Judge"]
    assert "Malian Central" not in response.get_data(as_text=True)


def test_finder_says_so_when_nobody_is_competent(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/find?measure=cultural_property&country=SN"))
    assert "Nobody in your networks" in page
    # the country's entries are still offered; other networks' and former ones are not
    found = sections(page)
    assert set(found["Other contact points in this country"]) == {"Fatou Ndiaye", "Moussa Diallo"}
    assert "Former Predecessor" not in page


def test_finder_never_shows_entries_of_other_networks(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/find?measure=mla&country=ES"))
    assert sections(page)["Competent contact points"] == ["Javier García"]
    assert "Hidden Outsider" not in page


def test_finder_accepts_a_lower_case_country(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/find?measure=mla&country=sn"))
    assert sections(page)["Competent contact points"] == ["Moussa Diallo"]


def test_finder_form_alone_shows_no_answer(client, login, world, pages):
    login(client, world.member)
    response = client.get("/directory/find")
    assert response.status_code == 200
    assert "Competent contact points" not in pages.text(response)


def test_unknown_measure_or_country_is_a_clear_message(client, login, world, pages):
    login(client, world.member)
    response = client.get("/directory/find?measure=astrology&country=SN")
    assert response.status_code == 422
    text = pages.flashes(pages.text(response))
    assert "Choose a measure from the list." in text
    assert "Competent contact points" not in text

    response = client.get("/directory/find?measure=mla&country=XX")
    assert response.status_code == 422
    assert "Choose a country from the list." in pages.flashes(pages.text(response))

    response = client.get("/directory/find?measure=mla")
    assert response.status_code == 422
    assert "Choose a country from the list." in pages.flashes(pages.text(response))

    response = client.get("/directory/find?measure=%3Cscript%3E&country=%00")
    assert response.status_code == 422
    assert "<script>" not in pages.text(response)
