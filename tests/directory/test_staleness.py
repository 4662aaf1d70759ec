"""Staleness: the badge, one-click confirmation, the secretariat's list and reminders
with a confirmation link that works without an account."""

from __future__ import annotations

import email
import email.policy
import re
from pathlib import Path

from network.extensions import db as _db
from network.models.directory import ContactPoint
from network.policy import SYSTEM
from network.services import directory

STALE_BADGE = "Not confirmed for 12 months"


def reload(cp: ContactPoint) -> ContactPoint:
    _db.session.expire_all()
    return _db.session.get(ContactPoint, cp.id)


def mails_to(app, address: str) -> list[email.message.EmailMessage]:
    outbox = Path(app.config["MAIL_OUTBOX"])
    found = []
    for path in sorted(outbox.glob("*.eml")) if outbox.exists() else []:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append(message)
    return found


def test_stale_entries_carry_a_badge_on_cards_and_entry_page(client, login, world, pages):
    login(client, world.member)
    page = pages.text(client.get("/directory/?q=moussa"))
    assert STALE_BADGE in page
    page = pages.text(client.get("/directory/?q=fatou"))
    assert STALE_BADGE not in page
    entry = pages.text(client.get(f"/directory/{world.id('moussa')}"))
    assert STALE_BADGE in entry
    assert "has not been confirmed for more than 12 months" in entry
    assert STALE_BADGE not in pages.text(client.get(f"/directory/{world.id('fatou')}"))
    api = client.get(f"/api/v1/contact-points/{world.id('moussa')}").get_json()
    assert api["stale"] is True


def test_an_entry_confirmed_exactly_a_year_ago_is_not_yet_stale(
    client, login, make_user, make_contact_point, pages
):
    fresh = make_contact_point(name="Edge Of Year", last_confirmed=pages.days_ago(365))
    old = make_contact_point(name="Past The Year", last_confirmed=pages.days_ago(366))
    login(client, make_user("contact_point", "wacap"))
    assert STALE_BADGE not in pages.text(client.get(f"/directory/{fresh.id}"))
    assert STALE_BADGE in pages.text(client.get(f"/directory/{old.id}"))


def test_contact_point_confirms_own_entry_in_one_click(
    client, login, make_user, make_contact_point, pages
):
    person = make_user("contact_point", "wacap")
    cp = make_contact_point(name="Self Confirmer", last_confirmed=pages.days_ago(500))
    directory.link_account(cp, person.email, SYSTEM)
    login(client, person)
    path = f"/directory/{cp.id}"
    token = pages.form_token(client, path)
    response = client.post(f"{path}/confirm", data={"csrf_token": token})
    assert response.status_code == 302
    page = pages.text(client.get(path))
    assert "the entry is confirmed as of today" in page
    assert STALE_BADGE not in page
    assert reload(cp).last_confirmed_at == pages.days_ago(0)
    history = page.split("History of changes")[1]
    assert "Confirmed" in history
    assert person.name in history


def test_confirmation_without_csrf_token_changes_nothing(
    client, login, make_user, make_contact_point, pages
):
    person = make_user("contact_point", "wacap")
    cp = make_contact_point(last_confirmed=pages.days_ago(500))
    directory.link_account(cp, person.email, SYSTEM)
    login(client, person)
    response = client.post(f"/directory/{cp.id}/confirm")
    assert response.status_code == 400
    assert reload(cp).last_confirmed_at == pages.days_ago(500)


def test_another_member_cannot_confirm_someone_elses_entry(
    client, login, make_user, make_contact_point, pages
):
    cp = make_contact_point(last_confirmed=pages.days_ago(500))
    login(client, make_user("contact_point", "wacap"))
    page = pages.text(client.get(f"/directory/{cp.id}"))
    assert "Confirm as correct" not in page
    token = pages.form_token(client, f"/directory/{cp.id}")  # the account-link form's token
    response = client.post(f"/directory/{cp.id}/confirm", data={"csrf_token": token})
    assert response.status_code == 403
    assert reload(cp).last_confirmed_at == pages.days_ago(500)


def test_secretariat_sees_the_networks_stale_entries(client, login, world, make_user, pages):
    login(client, make_user("secretariat", world.alpha))
    response = client.get("/directory/networks/alpha/stale")
    assert response.status_code == 200
    page = pages.text(response)
    assert "Moussa Diallo" in page
    for fresh in ("Fatou Ndiaye", "Javier García", "Shared Person"):
        assert fresh not in page
    assert "Ana Gonçalves" not in page  # beta's
    assert "Former Predecessor" not in page  # handed over


def test_only_the_networks_managers_see_its_stale_list(client, login, world, make_user):
    login(client, world.member)  # contact point of alpha
    assert client.get("/directory/networks/alpha/stale").status_code == 403
    assert client.get("/directory/networks/nowhere/stale").status_code == 404


def test_reminder_mail_links_to_a_confirmation_that_needs_no_account(
    app, client, login, world, make_user, pages
):
    moussa = world.entries["moussa"]
    login(client, make_user("secretariat", world.alpha))
    token = pages.form_token(client, "/directory/networks/alpha/stale")
    response = client.post(
        "/directory/networks/alpha/remind",
        data={"csrf_token": token, "entry": [str(moussa.id)]},
    )
    assert response.status_code == 302
    assert "1 reminder sent." in pages.text(client.get(response.headers["Location"]))

    messages = mails_to(app, moussa.email)
    assert len(messages) == 1
    body = messages[0].get_content()
    assert "Moussa Diallo" in body
    assert "ALPHA" in messages[0]["Subject"]
    link = re.search(r"https?://\S+/confirm-entry/(\S+)", body)
    assert link, body
    path = f"/confirm-entry/{link.group(1)}"

    stranger = app.test_client()  # nobody signed in
    page = pages.text(stranger.get(path))
    assert reload(moussa).last_confirmed_at == pages.days_ago(400)  # a GET confirms nothing
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = stranger.post(path, data={"csrf_token": csrf})
    assert response.status_code == 200
    assert "your entry is confirmed as of today" in pages.text(response)
    assert reload(moussa).last_confirmed_at == pages.days_ago(0)

    # the stale list no longer shows the entry, and the history says who was reminded
    assert "Moussa Diallo" not in pages.text(client.get("/directory/networks/alpha/stale"))
    history = pages.text(client.get(f"/directory/{moussa.id}")).split("History of changes")[1]
    assert "Reminder sent" in history
    assert "Confirmed" in history


def test_reminders_go_to_every_stale_entry_when_none_is_chosen(
    app, client, login, make_network, make_user, make_contact_point, pages
):
    net = make_network("remindnet")
    stale_a = make_contact_point(networks=["remindnet"], last_confirmed=pages.days_ago(800))
    stale_b = make_contact_point(networks=["remindnet"], last_confirmed=pages.days_ago(400))
    fresh = make_contact_point(networks=["remindnet"], last_confirmed=pages.days_ago(10))
    login(client, make_user("coordinator", net))
    token = pages.form_token(client, "/directory/networks/remindnet/stale")
    client.post("/directory/networks/remindnet/remind", data={"csrf_token": token})
    assert len(mails_to(app, stale_a.email)) == 1
    assert len(mails_to(app, stale_b.email)) == 1
    assert mails_to(app, fresh.email) == []
    page = pages.text(client.get("/directory/networks/remindnet/stale"))
    assert "—" not in page.split("<tbody>")[1]  # both rows show when the reminder was sent


def test_a_tampered_confirmation_link_is_refused(app, world, pages):
    moussa = world.entries["moussa"]
    with app.test_request_context():
        good = directory.confirmation_token(moussa)
    tampered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    stranger = app.test_client()
    path = f"/confirm-entry/{tampered}"
    page = pages.text(stranger.get(path))
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = stranger.post(path, data={"csrf_token": csrf})
    assert response.status_code == 400
    assert "This confirmation link is not valid." in pages.text(response)
    assert reload(moussa).last_confirmed_at == pages.days_ago(400)
    # a link for another entry cannot be forged by changing the id either
    forged = stranger.post(f"/confirm-entry/{world.id('javier')}", data={"csrf_token": csrf})
    assert forged.status_code == 400
