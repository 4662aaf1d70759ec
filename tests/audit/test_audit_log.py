"""The audit log: who may see which events (administrators all; a network's secretariat
that network's; nobody else), the filters, times in the viewer's zone, readable action
names, and the CSV export (guarded against spreadsheet formulas, itself audited)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from network.errors import Forbidden
from network.extensions import db as _db
from network.models.directory import Network
from network.models.messaging import Channel, ChannelKind
from network.models.people import AuditEvent, User
from network.policy import SYSTEM
from network.services import audit, messaging


@dataclass
class World:
    wacap: Network
    iberred: Network
    wacap_channel: Channel
    iberred_channel: Channel
    admin: User
    secretariat: User  # of WACAP
    other_secretariat: User  # of IberRed
    coordinator: User
    contact_point: User
    observer: User
    events: dict[str, AuditEvent]


@pytest.fixture
def world(make_network, make_user, db) -> World:  # type: ignore[no-untyped-def]
    wacap = make_network("wacap", acronym="WACAP")
    iberred = make_network("iberred", acronym="IberRed")
    wacap_channel = messaging.ensure_network_channel(wacap)
    iberred_channel = messaging.ensure_network_channel(iberred)
    db.session.commit()
    people = {
        "admin": make_user(admin=True),
        "secretariat": make_user("secretariat", wacap),
        "other_secretariat": make_user("secretariat", iberred),
        "coordinator": make_user("coordinator", wacap),
        "contact_point": make_user("contact_point", wacap),
        "observer": make_user("observer", wacap),
    }
    events = {
        "wacap_denied": audit.record_channel_event(
            people["observer"], "channel.access_denied", wacap_channel
        ),
        "wacap_member": audit.record(
            people["coordinator"], "membership.add", "network", wacap.id, after={"role": "x"}
        ),
        "iberred_read": audit.record_channel_event(
            people["other_secretariat"], "case_channel.read", iberred_channel, first_seq=1
        ),
        "global": audit.record(people["admin"], "user.create", "user", people["observer"].id),
    }
    db.session.commit()
    return World(wacap, iberred, wacap_channel, iberred_channel, events=events, **people)


def _ids(page: audit.AuditPage) -> set[int]:
    return {e.id for e in page.items}


def _event_ids(world: World, *names: str) -> set[int]:
    return {world.events[n].id for n in names}


# --- Who sees what --------------------------------------------------------------------------


def test_an_administrator_sees_every_event(world):
    assert _ids(audit.query(world.admin)) == _event_ids(world, *world.events)


def test_a_secretariat_sees_the_events_of_its_network_only(world):
    assert _ids(audit.query(world.secretariat)) == _event_ids(world, "wacap_denied", "wacap_member")


def test_the_secretariat_of_another_network_sees_only_that_network(world):
    assert _ids(audit.query(world.other_secretariat)) == _event_ids(world, "iberred_read")


def test_a_secretariat_asking_for_another_network_gets_nothing(world):
    filters = audit.AuditFilters(network_id=world.iberred.id)
    assert audit.query(world.secretariat, filters).items == []


@pytest.mark.parametrize("who", ["coordinator", "contact_point", "observer"])
def test_other_roles_may_not_read_the_audit_log(world, who):
    with pytest.raises(Forbidden):
        audit.query(getattr(world, who))
    with pytest.raises(Forbidden):
        audit.export_csv(getattr(world, who), audit.AuditFilters())


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("secretariat", 200),
        ("other_secretariat", 200),
        ("coordinator", 403),
        ("contact_point", 403),
        ("observer", 403),
    ],
)
def test_the_pages_answer_each_role(client, login, world, who, status):
    login(client, getattr(world, who))
    assert client.get("/audit").status_code == status
    assert client.get("/audit.csv").status_code == status
    home = client.get("/").get_data(as_text=True)
    assert ('href="/audit"' in home) is (status == 200)


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    for path in ("/audit", "/audit.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")


def test_the_page_shows_a_secretariat_only_its_networks_events(client, login, world):
    login(client, world.secretariat)
    page = client.get("/audit").get_data(as_text=True)
    assert "Channel refused" in page
    assert "Network member added" in page
    assert "Case channel read" not in page
    assert "Account created" not in page


# --- Filters --------------------------------------------------------------------------------


def test_filters_narrow_by_action_actor_network_and_channel(world):
    def ids(**filters: Any) -> set[int]:
        return _ids(audit.query(world.admin, audit.AuditFilters(**filters)))

    assert ids(action="case_channel.read") == _event_ids(world, "iberred_read")
    assert ids(actor=world.coordinator.email.upper()) == _event_ids(world, "wacap_member")
    assert ids(network_id=world.wacap.id) == _event_ids(world, "wacap_denied", "wacap_member")
    assert ids(channel_id=world.wacap_channel.id) == _event_ids(world, "wacap_denied")


def test_the_actor_system_finds_what_the_platform_did(world, db):
    purge = audit.record_channel_event(SYSTEM, "channel.purge", world.wacap_channel, messages=1)
    db.session.commit()
    assert _ids(audit.query(world.admin, audit.AuditFilters(actor="system"))) == {purge.id}


def _at(event: AuditEvent, instant: datetime) -> None:
    _db.session.execute(
        update(AuditEvent).where(AuditEvent.id == event.id).values(created_at=instant)
    )
    _db.session.commit()


def test_dates_are_days_in_the_viewers_time_zone(world, db):
    # 20:00 UTC on 1 January is already 2 January in Tokyo.
    _at(world.events["wacap_denied"], datetime(2026, 1, 1, 20, 0, tzinfo=UTC))
    filters = audit.AuditFilters(start=date(2026, 1, 2), end=date(2026, 1, 2))
    world.admin.timezone = "Asia/Tokyo"
    assert _ids(audit.query(world.admin, filters)) == _event_ids(world, "wacap_denied")
    world.admin.timezone = "UTC"
    assert _ids(audit.query(world.admin, filters)) == set()


def test_the_page_shows_times_in_the_viewers_time_zone(client, login, world, db):
    _at(world.events["wacap_denied"], datetime(2026, 1, 1, 20, 0, tzinfo=UTC))
    world.secretariat.timezone = "Asia/Tokyo"
    db.session.commit()
    login(client, world.secretariat)
    page = client.get("/audit").get_data(as_text=True)
    assert "Jan 2, 2026" in page
    assert "5:00:00\u202fAM" in page or "5:00:00 AM" in page


def test_bad_filters_are_explained_not_a_server_error(client, login, world):
    login(client, world.admin)
    response = client.get("/audit?start=yesterday&page=0")
    assert response.status_code == 422
    assert "Use a date such as 2026-01-31." in response.get_data(as_text=True)
    assert client.get("/audit.csv?end=nope").status_code == 422


def test_the_log_is_paginated_newest_first(world, db):
    for n in range(3):
        audit.record(world.admin, "user.login", "user", n)
    db.session.commit()
    newest = audit.query(world.admin, audit.AuditFilters(action="user.login", per_page=2))
    assert newest.total == 3
    assert [e.entity_id for e in newest.items] == [2, 1]
    oldest = audit.query(world.admin, audit.AuditFilters(action="user.login", per_page=2, page=2))
    assert [e.entity_id for e in oldest.items] == [0]


# --- Labels ---------------------------------------------------------------------------------


def test_actions_have_readable_names_and_unknown_ones_show_their_code():
    assert audit.action_label("case_channel.read") == "Case channel read"
    assert audit.action_label("channel.member_remove") == "Channel member removed"
    assert audit.action_label("something.new") == "something.new"


# --- CSV export -----------------------------------------------------------------------------


def _rows(response: Any) -> list[dict[str, str]]:
    """The rows keyed by column key; the header itself is in the reader's language."""
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    reader = csv.reader(io.StringIO(text[1:]))
    labels = next(reader)
    assert labels == [str(audit.CSV_LABELS[c]) for c in audit.CSV_COLUMNS]
    return [dict(zip(audit.CSV_COLUMNS, row, strict=True)) for row in reader]


def test_the_csv_holds_the_events_the_person_may_see(client, login, world):
    login(client, world.secretariat)
    response = client.get("/audit.csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "text/csv"
    rows = _rows(response)
    assert list(rows[0]) == list(audit.CSV_COLUMNS)
    header = response.get_data(as_text=True)[1:].split("\r\n", 1)[0]
    assert header.startswith("Time (UTC),Actor,Action code,Action,")
    assert {r["action"] for r in rows} == {"channel.access_denied", "membership.add"}
    denied = next(r for r in rows if r["action"] == "channel.access_denied")
    assert denied["actor"] == world.observer.email
    assert denied["action_label"] == "Channel refused"
    assert denied["network"] == "WACAP"
    assert denied["channel"] == "WACAP"
    assert denied["channel_id"] == str(world.wacap_channel.id)
    member = next(r for r in rows if r["action"] == "membership.add")
    assert member["after"] == '{"role": "x"}'


def test_the_csv_header_follows_the_readers_language(client, login, world):
    login(client, world.secretariat)
    response = client.get("/audit.csv", headers={"Accept-Language": "es"})
    header = next(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert header[:4] == ["Hora (UTC)", "Autor", "Código de la acción", "Acción"]
    assert "Canal" in header
    assert "time_utc" not in header


def test_the_csv_follows_the_filters(client, login, world):
    login(client, world.admin)
    rows = _rows(client.get("/audit.csv?action=user.create"))
    assert [r["entity_id"] for r in rows] == [str(world.observer.id)]


def test_cells_a_spreadsheet_would_run_as_formulas_are_guarded(client, login, world, db):
    topic = Channel(kind=ChannelKind.TOPIC.value, network=world.wacap, name='=HYPERLINK("x")')
    db.session.add(topic)
    db.session.flush()
    audit.record_channel_event(world.coordinator, "channel.create", topic)
    db.session.commit()
    login(client, world.secretariat)
    [row] = [r for r in _rows(client.get("/audit.csv")) if r["action"] == "channel.create"]
    assert row["channel"] == '\'=HYPERLINK("x")'


def test_an_export_is_itself_audited_and_seen_by_the_networks_secretariat(client, login, world, db):
    login(client, world.secretariat)
    client.get("/audit.csv?action=channel.access_denied")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.export"))
    assert event.actor_id == world.secretariat.id
    assert event.network_id == world.wacap.id
    assert event.after == {"filters": {"action": "channel.access_denied"}, "rows": 1}
    assert event.ip_address == "127.0.0.1"
    assert event.id in _ids(audit.query(world.secretariat))
    assert event.id not in _ids(audit.query(world.other_secretariat))


# --- Details, as people read them --------------------------------------------------------------


@pytest.fixture
def detailed(world, db) -> dict[str, AuditEvent]:  # type: ignore[no-untyped-def]
    """Events with the values people meet most: a role change, a case's dates, flags and
    states, a channel read, and a key the log has no label for."""
    email = world.contact_point.email
    events = {
        "role": audit.record(
            world.coordinator,
            "membership.role",
            "network",
            world.wacap.id,
            {"user": email, "role": "contact_point"},
            {"user": email, "role": "coordinator"},
        ),
        "case": audit.record(
            world.coordinator,
            "case.updated",
            "case",
            7,
            before={"deadline": None, "urgent": False, "status": "sent"},
            after={
                "deadline": "2027-01-12",
                "urgent": True,
                "status": "received",
                "requesting_state": "SN",
            },
            network_id=world.wacap.id,
        ),
        "read": audit.record_channel_event(
            world.coordinator, "case_channel.read", world.wacap_channel, first_seq=1, last_seq=3
        ),
        "unknown": audit.record(
            world.coordinator,
            "membership.add",
            "network",
            world.wacap.id,
            after={"mystery": {"level": 2}, "note_text": "<script>alert(1)</script>"},
        ),
    }
    db.session.commit()
    return events


def test_details_have_translated_labels_and_readable_values(client, login, world, detailed):
    login(client, world.secretariat)
    page = client.get("/audit").get_data(as_text=True)
    # A role through the roles' own labels, before → after.
    assert '<dt title="role">Role</dt>' in page
    assert '<bdi class="audit-before">Contact point</bdi>' in page
    assert "<bdi>Coordinator</bdi>" in page
    # A date in the reader's way, a flag as Yes/No, a country by name, a case status.
    assert '<dt title="deadline">Deadline</dt>' in page
    assert "<bdi>Jan 12, 2027</bdi>" in page
    assert '<bdi class="audit-before">No</bdi>' in page
    assert "<bdi>Yes</bdi>" in page
    assert "<bdi>Senegal</bdi>" in page
    assert '<bdi class="audit-before">Sent</bdi>' in page
    assert "<bdi>Received</bdi>" in page
    assert '<dt title="first_seq">First message number</dt>' in page
    assert "first_seq:" not in page
    assert '"coordinator"' not in page


def test_details_follow_the_readers_language(client, login, world, detailed):
    login(client, world.secretariat)
    page = client.get("/audit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<dt title="role">Rôle</dt>' in page
    assert '<bdi class="audit-before">Point de contact</bdi>' in page
    assert "<bdi>Coordonnateur</bdi>" in page
    assert '<dt title="deadline">Échéance</dt>' in page
    assert "<bdi>12 janv. 2027</bdi>" in page
    assert "<bdi>Oui</bdi>" in page
    assert "<bdi>Sénégal</bdi>" in page
    assert "<bdi>Reçu</bdi>" in page


def test_unknown_keys_show_their_name_and_value_escaped(client, login, world, detailed):
    login(client, world.secretariat)
    page = client.get("/audit").get_data(as_text=True)
    assert "<dt>mystery</dt>" in page
    assert "<bdi>{&#34;level&#34;: 2}</bdi>" in page
    assert "<dt>note_text</dt>" in page
    assert "<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>" in page
    assert "<script>alert(1)" not in page


def test_a_value_of_an_unexpected_kind_is_shown_as_recorded(app, world, db):
    event = audit.record(
        world.admin, "membership.role", "network", world.wacap.id, after={"role": ["odd"]}
    )
    event.before = {"deadline": "not a date", "urgent": "maybe"}
    with app.test_request_context():
        lines = {line.key: line for line in audit.detail_lines(event)}
    assert lines["role"].label == "Role"
    assert str(lines["role"].after) == "[&#34;odd&#34;]"
    assert str(lines["deadline"].before) == "not a date"
    assert str(lines["urgent"].before) == "maybe"
    assert lines["urgent"].after is None


def test_the_csv_keeps_the_recorded_values(client, login, world, detailed):
    login(client, world.secretariat)
    rows = {r["action"]: r for r in _rows(client.get("/audit.csv"))}
    role = rows["membership.role"]
    assert role["before"] == f'{{"user": "{world.contact_point.email}", "role": "contact_point"}}'
    assert role["after"] == f'{{"user": "{world.contact_point.email}", "role": "coordinator"}}'
    case = rows["case.updated"]
    assert case["after"] == (
        '{"deadline": "2027-01-12", "urgent": true, "status": "received", "requesting_state": "SN"}'
    )
