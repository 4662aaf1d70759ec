"""Editing a network's details, member states and languages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from network.extensions import db as _db
from network.models.directory import Network
from network.models.people import AuditEvent


def network_api(client, slug: str) -> dict:
    items = client.get("/api/v1/networks").get_json()["items"]
    return next(item for item in items if item["slug"] == slug)


def audit_events(network: Network) -> list[AuditEvent]:
    return list(
        _db.session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "network", AuditEvent.entity_id == network.id
            )
        )
    )


@pytest.mark.parametrize("role", ["coordinator", "secretariat"])
def test_manager_changes_member_states_and_languages(
    client, login, make_network, make_user, pages, role
):
    network = make_network("alpha", acronym="ALPHA", states="SN ML", languages=["fr"])
    editor = make_user(role, network)
    login(client, editor)
    path = "/directory/networks/alpha/edit"
    form = pages.form_values(pages.text(client.get(path)))
    assert form.getlist("member_states") == ["ML", "SN"]
    assert form.getlist("languages") == ["fr"]
    form.setlist("member_states", ["SN", "GM", "CV"])
    form.setlist("languages", ["fr", "pt"])
    response = client.post(path, data=form)
    assert response.status_code == 302

    listing = pages.text(client.get(response.headers["Location"]))
    assert "The network is saved." in listing
    assert "Cabo Verde" in listing or "Cape Verde" in listing
    body = network_api(client, "alpha")
    assert sorted(body["member_states"]) == ["CV", "GM", "SN"]
    assert body["languages"] == ["fr", "pt"]

    (event,) = audit_events(network)
    assert event.actor_id == editor.id
    assert event.action == "network.update"
    assert event.before == {"languages": ["fr"], "member_states": ["ML", "SN"]}
    assert event.after == {"languages": ["fr", "pt"], "member_states": ["CV", "GM", "SN"]}


@pytest.mark.parametrize(
    ("key", "values"),
    [("member_states", ["SN", "XX"]), ("languages", ["fr", "zz"])],
)
def test_unknown_codes_are_refused_and_nothing_changes(
    client, login, make_network, make_user, pages, key, values
):
    network = make_network("alpha", states="SN ML", languages=["fr"])
    login(client, make_user("coordinator", network))
    path = "/directory/networks/alpha/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form.setlist(key, values)
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert "is not a valid choice" in pages.flashes(pages.text(response))
    _db.session.expire_all()
    network = _db.session.scalar(select(Network).where(Network.slug == "alpha"))
    assert sorted(network.country_codes) == ["ML", "SN"]
    assert network.languages == ["fr"]
    assert audit_events(network) == []


def test_empty_acronym_is_refused(client, login, make_network, make_user, pages):
    network = make_network("alpha", acronym="ALPHA")
    login(client, make_user("coordinator", network))
    path = "/directory/networks/alpha/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form["acronym"] = ""
    assert client.post(path, data=form).status_code == 422
    _db.session.expire_all()
    assert _db.session.get(Network, network.id).acronym == "ALPHA"


@pytest.mark.parametrize("role", ["contact_point", "observer"])
def test_other_roles_cannot_edit_the_network(client, login, make_network, make_user, pages, role):
    network = make_network("alpha", states="SN ML")
    login(client, make_user(role, network))
    path = "/directory/networks/alpha/edit"
    assert client.get(path).status_code == 403
    token = pages.form_token(client, "/directory/")
    response = client.post(path, data={"csrf_token": token, "acronym": "X", "name": "Y"})
    assert response.status_code == 403
    _db.session.expire_all()
    assert sorted(_db.session.get(Network, network.id).country_codes) == ["ML", "SN"]


def test_managers_of_another_network_cannot_edit_it(client, login, make_network, make_user):
    make_network("alpha")
    login(client, make_user("coordinator", make_network("beta")))
    assert client.get("/directory/networks/alpha/edit").status_code == 403
    assert client.get("/directory/networks/nowhere/edit").status_code == 404
