"""A network's name in each language (issue 9): stored per language, shown in the reader's
language (pages and API), the default name otherwise; edited on the network's edit page."""

from __future__ import annotations

from sqlalchemy import select

from network.models.directory import Network
from network.models.network_names import NetworkName
from network.models.people import AuditEvent
from network.services import accounts, demo, directory

SPANISH = "Red Iberoamericana de Cooperación Jurídica Internacional"
PORTUGUESE = "Rede Ibero-Americana de Cooperação Jurídica Internacional"
ENGLISH = "Ibero-American Network for International Legal Cooperation"
DEFAULT = "IberRed (default name)"


def _iberred(make_network, db):  # type: ignore[no-untyped-def]
    network = make_network("ib", acronym="IB", name=DEFAULT, languages=["es", "pt"])
    directory.set_network_names(network, {"es": SPANISH, "pt": PORTUGUESE, "en": ENGLISH})
    db.session.commit()
    return network


def _api_name(client, headers):  # type: ignore[no-untyped-def]
    items = client.get("/api/v1/networks", headers=headers).get_json()["items"]
    return next(item for item in items if item["slug"] == "ib")


def test_the_networks_page_shows_the_name_in_the_readers_language(app, client, make_network, db):
    _iberred(make_network, db)
    for code, header, expected in (
        ("es", "es", SPANISH),
        ("pt", "pt-BR", PORTUGUESE),
        ("en", "en", ENGLISH),
    ):
        if code not in app.config["LANGUAGES"]:
            continue  # that catalogue is not installed here: tests/test_i18n.py says so
        page = client.get("/networks", headers={"Accept-Language": header}).get_data(as_text=True)
        assert expected in page[page.index('id="ib"') :], header
    # French: no French name, so the default one.
    page = client.get("/networks", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert DEFAULT in page[page.index('id="ib"') :]


def test_the_api_name_follows_accept_language(app, client, make_network, make_user, db):
    network = _iberred(make_network, db)
    user = make_user("observer", network)
    accounts.update_preferences(user, locale="fr")  # the header wins over the profile
    _token, plain = accounts.create_token(user, "script")
    auth = {"Authorization": f"Bearer {plain}"}
    assert _api_name(client, {**auth, "Accept-Language": "en"})["name"] == ENGLISH
    assert _api_name(client, {**auth, "Accept-Language": "fr"})["name"] == DEFAULT
    if "es" in app.config["LANGUAGES"]:
        assert _api_name(client, {**auth, "Accept-Language": "es-MX"})["name"] == SPANISH
    body = _api_name(client, auth)  # no header: the profile's language (French)
    assert body["name"] == DEFAULT
    assert body["names"] == {"en": ENGLISH, "es": SPANISH, "pt": PORTUGUESE}


def test_the_edit_page_saves_names_per_language(client, login, make_network, make_user, db, pages):
    network = _iberred(make_network, db)
    editor = make_user("secretariat", network)
    login(client, editor)
    path = "/directory/networks/ib/edit"
    page = pages.text(client.get(path))
    form = pages.form_values(page)
    assert form["name_es"] == SPANISH
    assert form["name"] == DEFAULT  # the name of record, not the reader's (English) one
    assert 'lang="ar"' in page
    assert 'id="name_ar"' in page
    form["name_es"] = "Red Iberoamericana (nuevo)"
    form["name_pt"] = ""  # removed
    form["name_ru"] = "Иберо-американская сеть"
    response = client.post(path, data=form)
    assert response.status_code == 302

    db.session.expire_all()
    network = db.session.get(Network, network.id)
    assert network.default_name == DEFAULT
    assert network.names_by_locale == {
        "en": ENGLISH,
        "es": "Red Iberoamericana (nuevo)",
        "ru": "Иберо-американская сеть",
    }
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.entity_type == "network", AuditEvent.entity_id == network.id
        )
    )
    assert event.before["names"] == {"en": ENGLISH, "es": SPANISH, "pt": PORTUGUESE}
    assert event.after["names"]["ru"] == "Иберо-американская сеть"


def test_a_name_too_long_is_refused(client, login, make_network, make_user, db, pages):
    network = _iberred(make_network, db)
    login(client, make_user("coordinator", network))
    path = "/directory/networks/ib/edit"
    form = pages.form_values(pages.text(client.get(path)))
    form["name_ar"] = "ش" * 201
    response = client.post(path, data=form)
    assert response.status_code == 422
    db.session.expire_all()
    assert "ar" not in db.session.get(Network, network.id).names_by_locale


def test_names_go_with_their_network(make_network, db):
    network = _iberred(make_network, db)
    db.session.delete(network)
    db.session.commit()
    assert db.session.scalars(select(NetworkName)).all() == []


def test_the_demo_networks_have_their_names_once(app, db):
    demo.seed(per_state=1)
    demo.seed(per_state=1)
    iberred = db.session.scalar(select(Network).where(Network.slug == "iberred"))
    wacap = db.session.scalar(select(Network).where(Network.slug == "wacap"))
    assert iberred.names_by_locale == demo.NETWORK_NAMES["iberred"]
    assert set(wacap.names_by_locale) == {"en", "fr", "pt"}
    assert wacap.name_in("fr").startswith("Réseau des autorités centrales")
    assert wacap.name_in("ar") == wacap.default_name
