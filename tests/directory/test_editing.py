"""Editing entries (secretariat, coordinator, admin), the audit trail, and handover."""

from __future__ import annotations

import re

import pytest

from network.extensions import db as _db
from network.models.directory import ContactPoint


def reload(cp_id: int) -> ContactPoint:
    _db.session.expire_all()
    return _db.session.get(ContactPoint, cp_id)


def history(page: str) -> str:
    return page.split("History of changes", 1)[1]


def test_secretariat_edits_an_entry_through_the_form(client, login, world, make_user, pages):
    editor = make_user("secretariat", world.alpha)
    login(client, editor)
    path = f"/directory/{world.id('moussa')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    # the form comes back filled with the entry as it is
    assert form["name"] == "Moussa Diallo"
    assert form["country"] == "SN"
    assert form.getlist("expertise") == ["mla"]
    assert form["notes"] == "Speaks Wolof as well."
    assert form["available_24_7"] == "y"

    form["title"] = "Deputy Prosecutor-General"
    form["phones"] = "+000 555 0101; +221 33 849 00 00"
    form.setlist("expertise", ["mla", "terrorism"])
    response = client.post(path, data=form)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/directory/{world.id('moussa')}")

    page = pages.text(client.get(response.headers["Location"]))
    assert "The entry is saved." in page
    assert "Deputy Prosecutor-General" in page
    assert "+221 33 849 00 00" in page
    assert "Terrorism" in page
    cp = reload(world.id("moussa"))
    assert cp.title == "Deputy Prosecutor-General"
    assert cp.expertise == ["mla", "terrorism"]
    assert cp.notes == "Speaks Wolof as well."  # untouched fields stay as they were
    assert cp.available_24_7 is True

    # the trail says who changed what, from what to what, and only what changed
    trail = history(page)
    first_row = trail.split("<tr>")[2]
    assert editor.name in first_row
    assert "Edited" in first_row
    assert "Prosecutor" in first_row  # before
    assert "Deputy Prosecutor-General" in first_row  # after
    assert "notes" not in first_row
    assert re.search(r"<td>[^<]*\d{1,2}:\d{2}", first_row)  # when


def test_an_edit_that_changes_nothing_adds_no_history(client, login, world, make_user, pages):
    login(client, make_user("secretariat", world.alpha))
    path = f"/directory/{world.id('fatou')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    client.post(path, data=form)
    trail = history(pages.text(client.get(f"/directory/{world.id('fatou')}")))
    assert "Edited" not in trail


def test_editing_an_entry_of_two_networks_keeps_the_other_network(
    client, login, world, make_user, pages
):
    """javier is in alpha and beta; alpha's secretariat only sees alpha in the form."""
    login(client, make_user("secretariat", world.alpha))
    path = f"/directory/{world.id('javier')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    assert form.getlist("networks") == ["alpha"]  # beta is not theirs to choose
    form["institution"] = "Tribunal Supremo"
    assert client.post(path, data=form).status_code == 302
    cp = reload(world.id("javier"))
    assert sorted(n.slug for n in cp.networks) == ["alpha", "beta"]
    assert cp.institution == "Tribunal Supremo"


def test_secretariat_cannot_move_an_entry_into_a_network_they_do_not_run(
    client, login, world, make_user, pages
):
    login(client, make_user("secretariat", world.alpha))
    path = f"/directory/{world.id('moussa')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form.setlist("networks", ["alpha", "gamma"])
    response = client.post(path, data=form)
    assert response.status_code == 422
    assert sorted(n.slug for n in reload(world.id("moussa")).networks) == ["alpha"]


@pytest.mark.parametrize("role", ["coordinator", "secretariat"])
def test_managers_of_the_entrys_network_may_edit(client, login, world, make_user, role):
    login(client, make_user(role, world.alpha))
    assert client.get(f"/directory/{world.id('moussa')}/edit").status_code == 200


@pytest.mark.parametrize("role", ["contact_point", "observer"])
def test_other_roles_may_not_edit(client, login, world, make_user, pages, role):
    login(client, make_user(role, world.alpha))
    path = f"/directory/{world.id('moussa')}/edit"
    assert client.get(path).status_code == 403
    token = pages.form_token(client, f"/directory/{world.id('moussa')}")
    response = client.post(path, data={"csrf_token": token, "name": "Hijacked"})
    assert response.status_code == 403
    assert reload(world.id("moussa")).name == "Moussa Diallo"


def test_secretariat_of_another_network_may_not_edit(client, login, world, make_user):
    login(client, make_user("secretariat", world.beta))
    assert client.get(f"/directory/{world.id('moussa')}/edit").status_code == 403
    # an entry of a network they cannot even read is a 403 too, never its content
    response = client.get(f"/directory/{world.id('hidden')}")
    assert response.status_code == 403
    assert "Hidden Outsider" not in response.get_data(as_text=True)


def test_admin_edits_any_entry(client, login, world, make_user, pages):
    admin = make_user(admin=True)
    login(client, admin)
    path = f"/directory/{world.id('hidden')}/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form["name"] = "Hidden Outsider-Renamed"
    assert client.post(path, data=form).status_code == 302
    assert reload(world.id("hidden")).name == "Hidden Outsider-Renamed"
    assert reload(world.id("hidden")).networks[0].slug == "gamma"


def test_secretariat_creates_an_entry_through_the_form(client, login, world, make_user, pages):
    login(client, make_user("secretariat", world.alpha))
    form = pages.form_values(pages.text(client.get("/directory/new")))
    for key, value in {
        "name": "Nouvelle Personne",
        "authority_type": "prosecution",
        "country": "ML",
        "email": "nouvelle.personne@example.org",
        "phones": "+000 777 1234",
    }.items():
        form[key] = value
    form.setlist("networks", ["alpha"])
    form.setlist("expertise", ["confiscation"])
    response = client.post("/directory/new", data=form)
    assert response.status_code == 302
    page = pages.text(client.get(response.headers["Location"]))
    assert "The entry is created." in page
    assert "Nouvelle Personne" in page
    assert "Created" in history(page)
    body = client.get("/api/v1/contact-points?q=nouvelle").get_json()
    assert body["items"][0]["last_confirmed"] is not None  # a new entry counts as confirmed


def test_contact_point_cannot_create_entries(client, login, world):
    login(client, world.member)
    assert client.get("/directory/new").status_code == 403


def test_handover_marks_the_old_entry_as_succeeded(client, login, world, make_user, pages):
    editor = make_user("secretariat", world.alpha)
    login(client, editor)
    old, new = world.id("moussa"), world.id("fatou")
    page = pages.text(client.get(f"/directory/{old}"))
    assert f'<option value="{new}">' in page  # the successor is offered
    token = pages.form_token(client, f"/directory/{old}")
    response = client.post(
        f"/directory/{old}/handover", data={"csrf_token": token, "successor": str(new)}
    )
    assert response.status_code == 302
    page = pages.text(client.get(f"/directory/{old}"))
    # a flash message is escaped text: the name is isolated by FSI ... PDI, not by <bdi>
    assert "The entry is handed over to \u2068Fatou Ndiaye\u2069." in page
    # the old entry stays readable, with a "succeeded by" notice linking to the new one
    assert "This entry is history" in page
    assert f'href="/directory/{new}" dir="auto">Fatou Ndiaye</a>' in page
    assert "+000" in page  # its details are still there
    assert "Handed over" in history(page)
    assert "Confirm as correct" not in page

    successor = pages.text(client.get(f"/directory/{new}"))
    assert "Predecessors" in successor
    assert "Moussa Diallo" in successor

    # it leaves the default search and the finder, but can be asked for
    names = {i["name"] for i in client.get("/api/v1/contact-points").get_json()["items"]}
    assert "Moussa Diallo" not in names
    assert "Moussa Diallo" not in pages.result_names(pages.text(client.get("/directory/")))
    finder = pages.text(client.get("/directory/find?measure=mla&country=SN"))
    assert "Moussa Diallo" not in finder
    with_former = client.get("/api/v1/contact-points?include_former=yes&q=moussa").get_json()
    assert with_former["items"][0]["succeeded_by"] == new


def test_handover_to_itself_or_twice_is_refused(client, login, world, make_user, pages):
    login(client, make_user("secretariat", world.alpha))
    old = world.id("moussa")
    token = pages.form_token(client, f"/directory/{old}")
    response = client.post(
        f"/directory/{old}/handover", data={"csrf_token": token, "successor": str(old)}
    )
    assert response.status_code == 302
    assert "Choose a successor from the list." in pages.text(
        client.get(response.headers["Location"])
    )
    assert reload(old).succeeded_by_id is None

    # the former entry of the fixture was already handed over: no second handover
    former = world.id("former")
    response = client.post(
        f"/directory/{former}/handover",
        data={"csrf_token": token, "successor": str(world.id("moussa"))},
    )
    assert "This entry has already been handed over." in pages.text(
        client.get(response.headers["Location"])
    )
    assert reload(former).succeeded_by_id == world.id("fatou")


def test_contact_point_cannot_hand_over(client, login, world, pages):
    login(client, world.member)
    old = world.id("moussa")
    token = pages.form_token(client, f"/directory/{old}")
    response = client.post(
        f"/directory/{old}/handover",
        data={"csrf_token": token, "successor": str(world.id("fatou"))},
    )
    assert response.status_code == 403
    assert reload(old).succeeded_by_id is None
