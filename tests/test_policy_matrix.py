"""The access policy, proven for every role against every directory action.

Network A is ``wacap``; its members hold each role. "other" is a coordinator of another
network B (``iberred``): a manager elsewhere, who must get nothing of A's people.

The first table is played through the real routes (pages, the JSON API, exports) with a
real sign-in, one test per role (a failure lists every cell that differs); the second
checks the predicates in ``network/policy.py`` directly.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from network import policy
from network.models.directory import ContactPoint, Network
from network.models.people import Membership, Role, User
from network.services import directory_io
from tests.conftest import csrf_token

ROLES = ("anonymous", "admin", "contact_point", "coordinator", "secretariat", "observer", "other")

# The HTTP status ("login" for a redirect to the sign-in form); with "+" or "-" for a
# search or an export (A's entry is listed / absent) and for a write (the change was made
# / nothing changed).
# Columns: anonymous, admin, then members of A (contact point, coordinator, secretariat,
# observer), then "other": a coordinator of network B.
# fmt: off
MATRIX: dict[str, tuple[str, ...]] = {
    # action                anon       admin    cp       coord    secr     obs      other
    "networks page":       ("200",     "200",   "200",   "200",   "200",   "200",   "200"),
    "search page":         ("login",   "200+",  "200+",  "200+",  "200+",  "200+",  "200-"),
    "search API":          ("401",     "200+",  "200+",  "200+",  "200+",  "200+",  "200-"),
    "search API in A":     ("401",     "200+",  "200+",  "200+",  "200+",  "200+",  "422"),
    "entry page":          ("login",   "200",   "200",   "200",   "200",   "200",   "403"),
    "entry vCard":         ("login",   "200",   "200",   "200",   "200",   "200",   "403"),
    "entry API":           ("401",     "200",   "200",   "200",   "200",   "200",   "403"),
    "entry API vCard":     ("401",     "200",   "200",   "200",   "200",   "200",   "403"),
    "export CSV":          ("login",   "200+",  "200+",  "200+",  "200+",  "200+",  "200-"),
    "edit form":           ("login",   "200",   "403",   "200",   "200",   "403",   "403"),
    "save edit":           ("login-",  "302+",  "403-",  "302+",  "302+",  "403-",  "403-"),
    "new entry form":      ("login",   "200",   "403",   "200",   "200",   "403",   "200"),
    "create entry in A":   ("login-",  "302+",  "403-",  "302+",  "302+",  "403-",  "422-"),
    "import page":         ("login",   "200",   "403",   "200",   "200",   "403",   "200"),
    "stale list":          ("login",   "200",   "403",   "200",   "200",   "403",   "403"),
    "send reminders":      ("login-",  "302+",  "403-",  "302+",  "302+",  "403-",  "403-"),
    "edit network form":   ("login",   "200",   "403",   "200",   "200",   "403",   "403"),
    "save network":        ("login-",  "302+",  "403-",  "302+",  "302+",  "403-",  "403-"),
    "confirm other entry": ("login-",  "302+",  "403-",  "302+",  "302+",  "403-",  "403-"),
    "confirm own entry":   ("login-",  "302+",  "302+",  "302+",  "302+",  "302+",  "302+"),
}
# fmt: on

LONG_AGO = date(2020, 1, 1)


@dataclass
class World:
    """Network A with a current entry, an entry to edit, a stale entry of someone else and
    the acting person's own (stale) entry; network B with one entry."""

    client: FlaskClient
    db: Any
    a: Network
    b: Network
    entry: ContactPoint
    to_edit: ContactPoint
    someone_elses: ContactPoint
    own: ContactPoint
    entry_in_b: ContactPoint
    notes: dict[str, Any] = field(default_factory=dict)

    def token(self) -> str:
        return csrf_token(self.client, "/networks")  # every page carries the token

    def refreshed(self, cp: ContactPoint) -> ContactPoint:
        self.db.session.expire_all()
        return self.db.session.get(ContactPoint, cp.id)


def _status(response: Any) -> str:
    if response.status_code == 302 and response.headers["Location"].startswith("/login?"):
        return "login"
    return str(response.status_code)


def _listed(response: Any, present: bool) -> str:
    if response.status_code != 200:
        return _status(response)
    return f"200{'+' if present else '-'}"


def _write(response: Any, done: bool) -> str:
    return f"{_status(response)}{'+' if done else '-'}"


def _form(world: World, **values: Any) -> dict[str, Any]:
    data = {
        "name": "Edited By Matrix",
        "authority_type": "central_authority",
        "country": "SN",
        "networks": [world.a.slug],
        "office_timezone": "Africa/Dakar",
        "email": "edited-by-matrix@example.org",
        "phones": "+000 123 4567 89",
        "csrf_token": world.token(),
    }
    data.update(values)
    return data


def search_page(w: World) -> str:
    response = w.client.get("/directory/", query_string={"per_page": 100})
    return _listed(response, w.entry.name in response.get_data(as_text=True))


def search_api(w: World, **params: str) -> str:
    response = w.client.get("/api/v1/contact-points", query_string={"per_page": 100, **params})
    items = response.get_json().get("items", []) if response.status_code == 200 else []
    return _listed(response, w.entry.id in {item["id"] for item in items})


def save_edit(w: World) -> str:
    response = w.client.post(f"/directory/{w.to_edit.id}/edit", data=_form(w))
    saved = w.refreshed(w.to_edit).name == "Edited By Matrix"
    return _write(response, saved)


def create_entry(w: World) -> str:
    response = w.client.post(
        "/directory/new", data=_form(w, name="Created By Matrix", email="new@example.org")
    )
    created = w.db.session.scalar(
        select(ContactPoint.id).where(ContactPoint.name == "Created By Matrix")
    )
    return _write(response, created is not None)


def send_reminders(w: World) -> str:
    response = w.client.post(
        f"/directory/networks/{w.a.slug}/remind", data={"csrf_token": w.token()}
    )
    sent = w.refreshed(w.someone_elses).reminder_sent_at is not None
    return _write(response, sent)


def save_network(w: World) -> str:
    response = w.client.post(
        f"/directory/networks/{w.a.slug}/edit",
        data={
            "acronym": "WACAP",
            "name": "Renamed By Matrix",
            "region": "West Africa",
            "languages": ["en", "fr"],
            "member_states": ["SN", "ML"],
            "csrf_token": w.token(),
        },
    )
    w.db.session.expire_all()
    saved = w.db.session.get(Network, w.a.id).name == "Renamed By Matrix"
    return _write(response, saved)


def confirm(w: World, cp: ContactPoint) -> str:
    response = w.client.post(f"/directory/{cp.id}/confirm", data={"csrf_token": w.token()})
    confirmed = w.refreshed(cp).last_confirmed_at != LONG_AGO
    return _write(response, confirmed)


def export_csv(w: World) -> str:
    response = w.client.get("/directory/export.csv")
    if response.status_code != 200:
        return _status(response)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    # The header is in the reader's language (issue 9): find the e-mail column by key.
    keys = [directory_io.header_key(cell) for cell in rows[0]] if rows else []
    emails = {row[keys.index("email")] for row in rows[1:]} if "email" in keys else set()
    return _listed(response, w.entry.email in emails)


# In this order: reads first, then the writes (reminders before the confirmations that
# would take the stale entry off the list).
ACTIONS: dict[str, Callable[[World], str]] = {
    "networks page": lambda w: _status(w.client.get("/networks")),
    "search page": search_page,
    "search API": search_api,
    "search API in A": lambda w: search_api(w, network=w.a.slug),
    "entry page": lambda w: _status(w.client.get(f"/directory/{w.entry.id}")),
    "entry vCard": lambda w: _status(w.client.get(f"/directory/{w.entry.id}.vcf")),
    "entry API": lambda w: _status(w.client.get(f"/api/v1/contact-points/{w.entry.id}")),
    "entry API vCard": lambda w: _status(w.client.get(f"/api/v1/contact-points/{w.entry.id}.vcf")),
    "edit form": lambda w: _status(w.client.get(f"/directory/{w.to_edit.id}/edit")),
    "new entry form": lambda w: _status(w.client.get("/directory/new")),
    "import page": lambda w: _status(w.client.get("/directory/import")),
    "stale list": lambda w: _status(w.client.get(f"/directory/networks/{w.a.slug}/stale")),
    "edit network form": lambda w: _status(w.client.get(f"/directory/networks/{w.a.slug}/edit")),
    "export CSV": export_csv,
    "save edit": save_edit,
    "create entry in A": create_entry,
    "send reminders": send_reminders,
    "save network": save_network,
    "confirm other entry": lambda w: confirm(w, w.someone_elses),
    "confirm own entry": lambda w: confirm(w, w.own),
}
assert set(ACTIONS) == set(MATRIX)


def _make_actor(role: str, a: Network, b: Network, make_user: Callable[..., User]) -> User | None:
    if role == "anonymous":
        return None
    if role == "admin":
        return make_user(admin=True)
    if role == "other":
        return make_user("coordinator", b)
    return make_user(role, a)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_exactly_the_access_in_the_matrix(
    role, client, db, make_network, make_user, make_contact_point, login
):
    a = make_network("wacap", acronym="WACAP", states="SN ML")
    b = make_network("iberred", acronym="IberRed", states="ES PT")
    actor = _make_actor(role, a, b, make_user)
    own = make_contact_point(name="Own Entry", last_confirmed=LONG_AGO)
    if actor is not None:
        own.user_id = actor.id
        db.session.commit()
        login(client, actor)
    world = World(
        client=client,
        db=db,
        a=a,
        b=b,
        entry=make_contact_point(name="Matrix Entry Alpha", email="alpha-entry@example.org"),
        to_edit=make_contact_point(name="Entry To Edit"),
        someone_elses=make_contact_point(name="Someone Else", last_confirmed=LONG_AGO),
        own=own,
        entry_in_b=make_contact_point(name="Entry In Beta", networks=["iberred"], country="ES"),
    )
    expected = {action: row[ROLES.index(role)] for action, row in MATRIX.items()}
    actual = {action: play(world) for action, play in ACTIONS.items()}
    assert actual == expected


def test_other_network_member_finds_their_own_networks_entries(
    client, make_network, make_user, make_contact_point, login
):
    """The absent entries above are a matter of scope, not an empty search."""
    make_network("wacap")
    b = make_network("iberred")
    make_contact_point(name="Matrix Entry Alpha")
    in_b = make_contact_point(name="Entry In Beta", networks=["iberred"], country="ES")
    login(client, make_user("coordinator", b))
    items = client.get("/api/v1/contact-points").get_json()["items"]
    assert [item["id"] for item in items] == [in_b.id]
    assert "Entry In Beta" in client.get("/directory/").get_data(as_text=True)


# --- The predicates themselves --------------------------------------------------------------

Y, N = True, False
# fmt: off
PREDICATES: dict[str, tuple[bool, ...]] = {
    # predicate               anon admin cp coord secr obs other
    "view network listing":  (Y,   Y,    Y, Y,    Y,   Y,  Y),
    "read directory of A":   (N,   Y,    Y, Y,    Y,   Y,  N),
    "manage directory of A": (N,   Y,    N, Y,    Y,   N,  N),
    "manage network A":      (N,   Y,    N, Y,    Y,   N,  N),
    "manage members of A":   (N,   Y,    N, Y,    Y,   N,  N),
    "read entry of A":       (N,   Y,    Y, Y,    Y,   Y,  N),
    "edit entry of A":       (N,   Y,    N, Y,    Y,   N,  N),
    "edit entry of A and B": (N,   Y,    N, Y,    Y,   N,  Y),
    "confirm other entry":   (N,   Y,    N, Y,    Y,   N,  N),
    "confirm own entry":     (N,   Y,    Y, Y,    Y,   Y,  Y),
    "read own entry":        (N,   Y,    Y, Y,    Y,   Y,  Y),
    "manage users":          (N,   Y,    N, N,    N,   N,  N),
    "manage any directory":  (N,   Y,    N, Y,    Y,   N,  Y),
}
# fmt: on


@dataclass
class Fixture:
    a: Network
    b: Network
    entry: ContactPoint
    shared: ContactPoint
    own: ContactPoint


CHECKS: dict[str, Callable[[Any, Fixture], bool]] = {
    "view network listing": lambda u, f: policy.can_view_network_listing(u, f.a),
    "read directory of A": lambda u, f: policy.can_read_directory(u, f.a),
    "manage directory of A": lambda u, f: policy.can_manage_directory(u, f.a),
    "manage network A": lambda u, f: policy.can_manage_network(u, f.a),
    "manage members of A": lambda u, f: policy.can_manage_members(u, f.a),
    "read entry of A": lambda u, f: policy.can_read_contact_point(u, f.entry),
    "edit entry of A": lambda u, f: policy.can_edit_contact_point(u, f.entry),
    "edit entry of A and B": lambda u, f: policy.can_edit_contact_point(u, f.shared),
    "confirm other entry": lambda u, f: policy.can_confirm_contact_point(u, f.entry),
    "confirm own entry": lambda u, f: policy.can_confirm_contact_point(u, f.own),
    "read own entry": lambda u, f: policy.can_read_contact_point(u, f.own),
    "manage users": lambda u, f: policy.can_manage_users(u),
    "manage any directory": lambda u, f: policy.can_manage_any_directory(u),
}
assert set(CHECKS) == set(PREDICATES)


def _person(db: Any, role: str, a: Network, b: Network) -> Any:
    """A user (no password needed: nobody signs in here), or the anonymous user."""
    if role == "anonymous":
        from flask_login import AnonymousUserMixin

        return AnonymousUserMixin()
    user = User(email=f"{role}@example.org", name=role.title(), is_admin=role == "admin")
    if role not in {"admin", "other"}:
        user.memberships = [Membership(network=a, role=role)]
    elif role == "other":
        user.memberships = [Membership(network=b, role=Role.COORDINATOR.value)]
    db.session.add(user)
    db.session.commit()
    return user


@pytest.mark.parametrize("role", ROLES)
def test_policy_predicates_answer_the_matrix(role, db, make_network, make_contact_point):
    a = make_network("wacap")
    b = make_network("iberred")
    person = _person(db, role, a, b)
    own = make_contact_point(name="Own Entry")
    if role != "anonymous":
        own.user_id = person.id
        db.session.commit()
    fixture = Fixture(
        a=a,
        b=b,
        entry=make_contact_point(name="Entry Of A"),
        shared=make_contact_point(name="Shared Entry", networks=["wacap", "iberred"]),
        own=own,
    )
    expected = {name: row[ROLES.index(role)] for name, row in PREDICATES.items()}
    actual = {name: check(person, fixture) for name, check in CHECKS.items()}
    assert actual == expected


@pytest.mark.parametrize(
    ("role", "readable", "managed"),
    [
        ("anonymous", set(), set()),
        ("admin", None, None),  # None: every network
        ("contact_point", {"wacap"}, set()),
        ("coordinator", {"wacap"}, {"wacap"}),
        ("secretariat", {"wacap"}, {"wacap"}),
        ("observer", {"wacap"}, set()),
        ("other", {"iberred"}, {"iberred"}),
    ],
)
def test_network_scopes_per_role(role, readable, managed, db, make_network):
    a = make_network("wacap")
    b = make_network("iberred")
    person = _person(db, role, a, b)
    slugs = {a.id: a.slug, b.id: b.slug}

    def named(ids: set[int] | None) -> set[str] | None:
        return None if ids is None else {slugs[i] for i in ids}

    assert named(policy.readable_network_ids(person)) == readable
    assert named(policy.managed_network_ids(person)) == managed


def test_predicates_answer_false_for_no_user_at_all(make_network, make_contact_point):
    a = make_network("wacap")
    entry = make_contact_point()
    assert not policy.is_signed_in(None)
    assert not policy.is_admin(None)
    assert not policy.can_read_directory(None, a)
    assert not policy.can_read_contact_point(None, entry)
    assert not policy.can_confirm_contact_point(None, entry)
    assert policy.readable_network_ids(None) == set()


def test_an_unlinked_entry_is_nobodys_own(db, make_network, make_contact_point):
    a = make_network("wacap")
    person = _person(db, "observer", a, make_network("iberred"))
    entry = make_contact_point()
    assert entry.user_id is None
    assert not policy.is_own_entry(person, entry)


def test_the_system_actor_may_do_everything(make_network, make_contact_point):
    a = make_network("wacap")
    entry = make_contact_point()
    assert policy.can_manage_directory(policy.SYSTEM, a)
    assert policy.can_edit_contact_point(policy.SYSTEM, entry)
    assert policy.readable_network_ids(policy.SYSTEM) is None


# --- Calendar (issue 4): a WACAP event visible to WACAP's members, through the routes ------
# Columns as above. "404" where the event is not visible at all (its id is not probed).
# fmt: off
CALENDAR_MATRIX: dict[str, tuple[str, ...]] = {
    # action              anon      admin    cp       coord    secr     obs      other
    "calendar list":     ("200-",   "200+",  "200+",  "200+",  "200+",  "200+",  "200-"),
    "events API":        ("401",    "200+",  "200+",  "200+",  "200+",  "200+",  "200-"),
    "event page":        ("404",    "200",   "200",   "200",   "200",   "200",   "404"),
    "event .ics":        ("404",    "200",   "200",   "200",   "200",   "200",   "404"),
    "new event form":    ("login",  "200",   "403",   "200",   "200",   "403",   "200"),
    "edit event form":   ("login",  "200",   "403",   "200",   "200",   "403",   "404"),
    "participants":      ("login",  "200",   "403",   "200",   "200",   "403",   "404"),
    "planner":           ("login",  "200",   "403",   "200",   "200",   "403",   "404"),
    "register":          ("login-", "302+",  "302+",  "302+",  "302+",  "302+",  "404-"),
    "add agenda item":   ("login-", "302+",  "403-",  "302+",  "302+",  "403-",  "404-"),
    "cancel event":      ("login-", "302+",  "403-",  "302+",  "302+",  "403-",  "404-"),
}
# fmt: on


def test_each_role_gets_exactly_the_calendar_access_in_the_matrix(
    client, db, make_network, make_user, login
):
    from network.services import calendar as cal

    a = make_network("wacap", acronym="WACAP", states="SN ML")
    b = make_network("iberred", acronym="IberRed", states="ES PT")
    organiser = make_user("coordinator", a)
    failures = {}
    for role in ROLES:
        event = cal.create_event(
            organiser,
            {
                "title": f"Matrix plenary {role}", "kind": "plenary", "format": "in_person",
                "visibility": "members", "venue": "Dakar", "starts_at": "2027-03-10T09:00",
                "ends_at": "2027-03-10T17:00", "timezone": "Africa/Dakar",
                "networks": ["wacap"], "registration_open": "1",
            },
        )  # fmt: skip
        actor = _make_actor(role, a, b, make_user)
        if actor is not None:
            login(client, actor)
        token = csrf_token(client, "/networks")
        path = f"/calendar/events/{event.id}"

        def count_agenda(event=event):
            db.session.expire_all()
            return len(db.session.get(type(event), event.id).agenda_items)

        def status_of(event=event):
            db.session.expire_all()
            return db.session.get(type(event), event.id).status

        def registered(event=event, actor=actor):
            db.session.expire_all()
            found = db.session.get(type(event), event.id)
            return actor is not None and any(r.user_id == actor.id for r in found.registrations)

        title = f"Matrix plenary {role}"
        actual: dict[str, str] = {}
        month = client.get("/calendar/month?month=2027-03")
        actual["calendar list"] = _listed(month, title in month.get_data(as_text=True))
        api = client.get("/api/v1/events?start=2027-03-01&end=2027-04-01")
        actual["events API"] = _listed(
            api, api.status_code == 200 and any(i["title"] == title for i in api.json["items"])
        )
        actual["event page"] = _status(client.get(path))
        actual["event .ics"] = _status(client.get(f"{path}.ics"))
        actual["new event form"] = _status(client.get("/calendar/events/new"))
        actual["edit event form"] = _status(client.get(f"{path}/edit"))
        actual["participants"] = _status(client.get(f"{path}/participants"))
        actual["planner"] = _status(client.get(f"{path}/planner"))
        response = client.post(
            f"{path}/register", data={"country": "SN", "status": "accepted", "csrf_token": token}
        )
        actual["register"] = _write(response, registered())
        before = count_agenda()
        response = client.post(
            f"{path}/agenda", data={"number": "1", "title": "Opening", "csrf_token": token}
        )
        actual["add agenda item"] = _write(response, count_agenda() > before)
        response = client.post(f"{path}/cancel", data={"csrf_token": token})
        actual["cancel event"] = _write(response, status_of() == "cancelled")
        expected = {k: row[ROLES.index(role)] for k, row in CALENDAR_MATRIX.items()}
        if actual != expected:
            failures[role] = {k: (actual[k], v) for k, v in expected.items() if actual[k] != v}
        if actor is not None:
            client.post("/logout", data={"csrf_token": csrf_token(client, "/networks")})
    assert failures == {}
