"""The search runs on an in-memory index: it must always agree with the database.

The cross-check builds a random directory and compares, for many random searches, what
the API answers with a count worked out directly from the stored entries.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import select

from network.extensions import db as _db
from network.models.directory import ContactPoint
from network.policy import SYSTEM
from network.services import directory

COUNTRIES = ["SN", "ML", "ES", "PT", "FR"]
TYPES = ["central_authority", "prosecution", "judiciary", "law_enforcement"]
EXPERTISE = ["mla", "extradition", "confiscation", "e_evidence", "terrorism"]
LANGUAGES = ["fr", "en", "es", "pt"]
SURNAMES = ["Diallo", "Gonçalves", "García", "Ndiaye", "Traoré", "Silva"]


@pytest.fixture
def random_world(make_network, make_user, make_contact_point):
    rng = random.Random(20261123)
    for slug in ("alpha", "beta", "gamma"):
        make_network(slug, acronym=slug.upper())
    entries = []
    for index in range(70):
        networks = rng.sample(["alpha", "beta", "gamma"], rng.randint(1, 2))
        entries.append(
            make_contact_point(
                name=f"{rng.choice(['Ana', 'Moussa', 'Élodie', 'José'])} {rng.choice(SURNAMES)}",
                email=f"random{index}@example.org",
                country=rng.choice(COUNTRIES),
                authority_type=rng.choice(TYPES),
                networks=networks,
                expertise=rng.sample(EXPERTISE, rng.randint(0, 3)),
                languages=rng.sample(LANGUAGES, rng.randint(0, 2)),
                request_languages=rng.sample(LANGUAGES, rng.randint(0, 1)),
                available_24_7=rng.random() < 0.3,
                last_confirmed=f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
            )
        )
    for old, new in zip(entries[:5], entries[5:10], strict=True):
        directory.hand_over(old, new, SYSTEM)
    member = make_user(
        memberships=[(make_network("alpha"), "contact_point"), (make_network("beta"), "observer")]
    )
    return rng, member


def expected(params: dict[str, str]) -> tuple[list[int], dict[str, Counter]]:
    """Ids (name order) and facet counts, straight from the stored entries."""
    entries = [
        cp
        for cp in _db.session.scalars(select(ContactPoint))
        if {n.slug for n in cp.networks} & {"alpha", "beta"} and cp.succeeded_by_id is None
    ]
    terms = directory.fold(params.get("q", "")).split()
    entries = [cp for cp in entries if all(t in cp.search_text for t in terms)]

    def values(cp: ContactPoint, facet: str) -> set[str]:
        return {
            "network": {n.slug for n in cp.networks} & {"alpha", "beta"},
            "country": {cp.country},
            "authority_type": {cp.authority_type},
            "expertise": set(cp.expertise),
            "language": set(cp.languages) | set(cp.request_languages),
            "available_24_7": {"yes" if cp.available_24_7 else "no"},
        }[facet]

    selected = {
        facet: set(params[facet].split(",")) for facet in directory.FACETS if params.get(facet)
    }

    def passes(cp: ContactPoint, skip: str | None = None) -> bool:
        return all(values(cp, f) & chosen for f, chosen in selected.items() if f != skip)

    matching = sorted(
        (cp for cp in entries if passes(cp)), key=lambda cp: (directory.fold(cp.name), cp.id)
    )
    counts = {
        facet: Counter(v for cp in entries if passes(cp, facet) for v in values(cp, facet))
        for facet in directory.FACETS
    }
    return [cp.id for cp in matching], counts


def random_params(rng: random.Random) -> dict[str, str]:
    choices = {
        "q": lambda: rng.choice([*SURNAMES, "goncalves", "elodie", "jose ndiaye", "xyz"]),
        "network": lambda: ",".join(rng.sample(["alpha", "beta"], rng.randint(1, 2))),
        "country": lambda: ",".join(rng.sample(COUNTRIES, rng.randint(1, 2))),
        "authority_type": lambda: rng.choice(TYPES),
        "expertise": lambda: ",".join(rng.sample(EXPERTISE, rng.randint(1, 2))),
        "language": lambda: rng.choice(LANGUAGES),
        "available_24_7": lambda: rng.choice(["yes", "no"]),
    }
    keys = rng.sample(sorted(choices), rng.randint(0, 3))
    return {key: choices[key]() for key in keys}


def test_search_agrees_with_the_stored_entries(client, login, random_world):
    rng, member = random_world
    login(client, member)
    for _ in range(40):
        params = random_params(rng)
        body = client.get("/api/v1/contact-points", query_string={**params, "per_page": 100})
        assert body.status_code == 200, params
        body = body.get_json()
        ids, counts = expected(params)
        assert [item["id"] for item in body["items"]] == ids, params
        assert body["total"] == len(ids), params
        for facet in directory.FACETS:
            got = {v["value"]: v["count"] for v in body["facets"][facet] if v["count"]}
            assert got == dict(counts[facet]), (params, facet)


def test_a_change_is_found_by_the_next_search(client, login, world, make_user, pages):
    login(client, make_user("secretariat", world.alpha))
    assert client.get("/api/v1/contact-points?q=renamed").get_json()["total"] == 0
    path = f"/directory/{world.id('moussa')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form["name"] = "Moussa Renamed"
    form["country"] = "ML"
    client.post(path, data=form)
    body = client.get("/api/v1/contact-points?q=renamed").get_json()
    assert [i["name"] for i in body["items"]] == ["Moussa Renamed"]
    counts = {v["value"]: v["count"] for v in body["facets"]["country"]}
    assert counts == {"ML": 1}
    assert client.get("/api/v1/contact-points?q=moussa&country=SN").get_json()["total"] == 0


def test_a_confirmation_changes_the_stale_filter_and_the_sort(
    client, login, world, make_user, pages
):
    login(client, make_user("secretariat", world.alpha))
    stale = client.get("/api/v1/contact-points?stale=yes").get_json()
    assert [i["name"] for i in stale["items"]] == ["Moussa Diallo"]
    token = pages.form_token(client, f"/directory/{world.id('moussa')}")
    client.post(f"/directory/{world.id('moussa')}/confirm", data={"csrf_token": token})
    assert client.get("/api/v1/contact-points?stale=yes").get_json()["total"] == 0
    newest = client.get("/api/v1/contact-points?sort=confirmed_desc").get_json()["items"]
    assert newest[0]["name"] == "Moussa Diallo"


def test_names_sort_without_regard_to_case_or_accents(
    client, login, make_network, make_user, make_contact_point
):
    network = make_network("alpha")
    for name in ("Zoé Zed", "élodie Martin", "Emile Roux", "adam Smith", "Éric Blanc"):
        make_contact_point(name=name, networks=["alpha"])
    login(client, make_user("contact_point", network))
    names = [i["name"] for i in client.get("/api/v1/contact-points").get_json()["items"]]
    assert names == ["adam Smith", "élodie Martin", "Emile Roux", "Éric Blanc", "Zoé Zed"]
