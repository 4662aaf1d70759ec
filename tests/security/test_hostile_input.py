"""Bad input (issue 8, OWASP ASVS 4.0.3 level 2, chapter V5): a corpus of hostile values
aimed at every form, every JSON API route, every upload, the directory import and every
socket event. Each must end in a clear 4xx, a form re-rendered with its error or an
``{"ok": false}`` ack, never a 500, and an invalid value must leave the data unchanged
(a fingerprint of every table, before and after). Every CSV export neutralises formulas.

ASVS: V5.1.3/V5.1.4 (positive validation of every input, structured data typed),
V5.2.2/V5.3.3 (untrusted HTML is inert), V5.3.4 (parameterised SQL), V5.2.2 control
characters, V5.3.x (CSV formula injection: output encoding), V12.1/V12.2/V12.3 (file size,
content-vs-extension, file names never used as paths), V13.1.x (API input), V11.1.4 and
V13.2.x (request size and rate limits on the socket).

Each backend runs one test per surface, seeding the demo once, and reports every failing
route together (route, payload, status) rather than stopping at the first.
"""

from __future__ import annotations

import csv
import gc
import io
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from network.extensions import db, limiter, socketio
from network.models import calendar as calm
from network.models import cases as casem
from network.models import consultations as consm
from network.models import training as trm
from network.models.directory import ContactPoint, Network
from network.models.messaging import Attachment, Channel, Message, Notification
from network.models.people import AccessToken, Membership, User
from network.services import accounts, demo, sessions
from tests.conftest import PASSWORD
from tests.security import hostile as h

pytestmark = pytest.mark.timeout(240)

_FIRST_LAST = (
    "delete",
    "remove",
    "cancel",
    "archive",
    "leave",
    "end",
    "revoke",
    "logout",
    "change",
    "handover",
    "link",
    "owner",
    "deactivate",
)


# Buttons that act whatever else is posted (their forms carry no input of their own).
ACTIONS = {"directory.remind"}


@dataclass
class World:
    admin: User
    token: str
    ids: dict[str, Any]
    failures: list[str] = field(default_factory=list)

    def check(self, ok: bool, what: str) -> None:
        if not ok:
            self.failures.append(what)

    def call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        """A request whose exception (a 500 under TESTING) is recorded, not raised."""
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            db.session.rollback()
            self.failures.append(f"{args[0] if args else ''}: {type(exc).__name__}: {exc!s:.200}")
            return _Broken()


class _Broken:
    status_code = 500
    mimetype = ""

    def get_data(self, as_text: bool = False) -> Any:
        return "" if as_text else b""

    def get_json(self) -> None:
        return None


def _first(model: Any, *where: Any) -> Any:
    return db.session.scalar(sa.select(model.id).where(*where).order_by(model.id).limit(1))


@pytest.fixture
def world(app, db, make_user, monkeypatch):  # type: ignore[no-untyped-def]
    demo.seed(per_state=1)
    networks = list(db.session.scalars(sa.select(Network).order_by(Network.id)))
    admin = make_user(admin=True, memberships=[(n, "coordinator") for n in networks])
    _token_row, token = accounts.create_token(admin, "hostile corpus")
    wacap = next(n for n in networks if n.slug == "wacap")
    channel_id = _first(Channel, Channel.network_id == wacap.id)
    event_id = _first(calm.Event)
    other = db.session.scalar(
        sa.select(User).where(User.id != admin.id, User.is_admin.is_(False)).limit(1)
    )
    ids = {
        "channel_id": channel_id,
        "message_id": _first(Message, Message.channel_id == channel_id) or 1,
        "event_id": event_id,
        "registration_id": _first(calm.Registration, calm.Registration.event_id == event_id) or 1,
        "session_id": _first(calm.EventSession, calm.EventSession.event_id == event_id) or 1,
        "item_id": _first(calm.AgendaItem, calm.AgendaItem.event_id == event_id) or 1,
        "cp_id": _first(ContactPoint),
        "case_id": _first(casem.Case, casem.Case.network_id == wacap.id) or _first(casem.Case),
        "consultation_id": _first(consm.Consultation) or 1,
        "programme_id": _first(trm.Programme),
        "module_id": _first(trm.Module),
        "material_id": _first(trm.Material) or 1,
        "question_id": _first(trm.Question) or 1,
        "cohort_id": _first(trm.Cohort),
        "enrolment_id": _first(trm.Enrolment),
        "certificate_id": _first(trm.Certificate) or 1,
        "user_id": other.id,
        "membership_id": _first(Membership, Membership.user_id == other.id),
        "token_id": _first(AccessToken, AccessToken.user_id == admin.id),
        "user_session_id": sessions.start(admin).id,  # another browser of the admin's
        "notification_id": _first(Notification) or 1,
        "attachment_id": _first(Attachment) or 1,
        "file_id": _first(calm.EventDocumentFile) or 1,
        "slug": "wacap",
        "token": "x" * 40,
        "secret": "x" * 40,
        "code": "x" * 12,
        "id": "1",
        "kind": "pre",
    }
    # Reach the validation code: no CSRF round trip, no HTTP rate limit (both tested
    # elsewhere); the socket bucket is tested by its own flood below.
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)
    monkeypatch.setattr(limiter, "enabled", False)
    return World(admin=admin, token=token, ids=ids)


def _status_ok(status: int) -> bool:
    return status < 500


def _signed_in(client: Any, world: World, login: Any) -> None:
    if client.get("/api/v1/me").status_code != 200:
        _sign_in(client, world.admin)


def _fresh_token(world: World) -> None:
    _row, world.token = accounts.create_token(world.admin, "hostile corpus, again")


def _sign_in(client: Any, user: User) -> Any:
    """The login form, CSRF being off for the corpus (the pages then carry no token)."""
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def _form_rules(app: Any) -> list[Any]:
    rules = [
        r
        for r in app.url_map.iter_rules()
        if "POST" in r.methods and not r.rule.startswith("/api/")
    ]
    return sorted(rules, key=lambda r: (any(w in r.rule for w in _FIRST_LAST), r.rule))


def _page_fields(app: Any, client: Any, world: World) -> dict[str, set[str]]:
    """Fields of every form on every page the admin can open (templates enumerate them)."""
    found: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static")):
            continue
        if any(w in rule.rule for w in ("export", ".csv", ".vcf", ".ics", "download", "logout")):
            continue
        url = h.buildable(app, rule, world.ids)
        if url is None:
            continue
        response = world.call(client.get, url)
        if response.mimetype != "text/html":
            continue
        for action, names in h.form_fields(response.get_data(as_text=True), url):
            found.setdefault(action, set()).update(names)
    return found


# --- forms ------------------------------------------------------------------------------


def _forms(app, client, world, login):  # type: ignore[no-untyped-def]
    _sign_in(client, world.admin)
    pages = _page_fields(app, client, world)
    skipped = []
    for rule in _form_rules(app):
        url = h.buildable(app, rule, world.ids)
        if url is None:
            skipped.append(rule.rule)
            continue
        view = app.view_functions[rule.endpoint]
        fields = sorted((pages.get(url, set()) | h.wtforms_fields(view)) - {"submit"})
        names = fields or ["value"]
        _signed_in(client, world, login)
        # Valid text (XSS, SQL, Unicode tricks): stored inert or refused, never a 500.
        data = {name: h.TEXT[i % len(h.TEXT)] for i, name in enumerate(names)}
        response = world.call(client.post, url, data=data)
        world.check(_status_ok(response.status_code), f"{url} text -> {response.status_code}")
        # Ill-typed dates, zones, numbers: each field gets each kind in turn.
        for k in range(3):
            data = {n: h.ILL_TYPED[(i + k * 4) % len(h.ILL_TYPED)] for i, n in enumerate(names)}
            response = world.call(client.post, url, data=data)
            world.check(
                _status_ok(response.status_code), f"{url} ill#{k} -> {response.status_code}"
            )
        # Invalid everywhere: refused, nothing written.
        _signed_in(client, world, login)
        before = h.fingerprint()
        for k, value in enumerate(h.INVALID[:2]):
            response = world.call(client.post, url, data=dict.fromkeys(names, value))
            world.check(
                400 <= response.status_code < 500 or response.status_code in (200, 302),
                f"{url} invalid#{k} -> {response.status_code}",
            )
        response = world.call(client.post, url, data={names[0]: h.HUGE})
        world.check(response.status_code == 413, f"{url} 10 MB -> {response.status_code}")
        response = world.call(
            client.post,
            url,
            data=b"&".join(n.encode() + b"=%FF%FE%C0%AF%ED%A0%80" for n in names),
            content_type="application/x-www-form-urlencoded",
        )
        world.check(400 <= response.status_code < 500, f"{url} bad utf-8 -> {response.status_code}")
        if fields and rule.endpoint not in ACTIONS:
            diff = h.changed(before, h.fingerprint())
            world.check(not diff, f"{url} control characters/10 MB/bad UTF-8 changed {diff}")
        # Wrong shapes: every field repeated, a file where text is expected.
        response = world.call(
            client.post,
            url,
            data={
                **{n: ["", "1", "[]"] for n in names},
                names[0]: (io.BytesIO(b"MZ\x90\x00"), "x.exe"),
            },
            content_type="multipart/form-data",
        )
        world.check(_status_ok(response.status_code), f"{url} types -> {response.status_code}")
    world.check(not skipped, f"routes the corpus cannot reach: {skipped}")


# --- JSON API ---------------------------------------------------------------------------


def _api_operations(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
    doc = client.get("/api/v1/openapi.json").get_json()
    operations = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                operations.append((method, path, op))
    return operations


def _fill(path: str, ids: dict[str, Any], override: Any = None) -> str:
    import re

    def value(match: Any) -> str:
        name = match.group(1)
        return str(override if override is not None else ids.get(name, 1))

    return (
        "/api/v1" + re.sub(r"\{(\w+)\}", value, path)
        if not path.startswith("/api/")
        else (re.sub(r"\{(\w+)\}", value, path))
    )


def _body_properties(op: dict[str, Any], doc: dict[str, Any]) -> list[str]:
    schema = (
        op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    )
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = doc["components"]["schemas"][name]
    return sorted(schema.get("properties", {})) or ["body"]


WRONG_TYPES: list[Any] = [[], {}, 10**30, -1, True, 1.5, None, h.INVALID[0], h.BAD_DATES[1]]


def _api(app, client, world):  # type: ignore[no-untyped-def]
    doc = client.get("/api/v1/openapi.json").get_json()
    auth = {"Authorization": f"Bearer {world.token}"}
    for method, path, op in _api_operations(client):
        url = _fill(path, world.ids)
        call = getattr(client, method)
        before = h.fingerprint()
        # Path ids beyond any integer column, and query parameters of the wrong kind.
        if "{" in path:
            for big in (2**63, 10**30):
                response = world.call(call, _fill(path, world.ids, big), headers=auth)
                world.check(
                    response.status_code in (404, 405, 422),
                    f"{method} {path} id {big} -> {response.status_code}",
                )
        for param in op.get("parameters", []):
            if param.get("in") != "query":
                continue
            for value in [*h.INVALID, *h.BAD_DATES, *h.BAD_ZONES, "-1", str(10**30), h.TEXT[0]]:
                response = world.call(call, url, query_string={param["name"]: value}, headers=auth)
                world.check(
                    _status_ok(response.status_code),
                    f"{method} {path} ?{param['name']}={value[:20]!r} -> {response.status_code}",
                )
        if method == "get":
            world.check(not h.changed(before, h.fingerprint()), f"{method} {path} changed data")
            continue
        if method == "delete":
            continue
        raw_bodies = [
            b"{",
            b'{"body": "\xff\xfe\xc0\xaf"}',
            h.deep_json().encode(),
            ("{" + '"a":{' * 10_000 + "}" * 10_001).encode(),
            b"[]",
            b'"x"',
            b"1",
            b"null",
        ]
        for k, body in enumerate(raw_bodies):
            response = world.call(
                call, url, data=body, content_type="application/json", headers=auth
            )
            world.check(
                400 <= response.status_code < 500,
                f"{method} {path} raw#{k} -> {response.status_code}",
            )
        for prop in _body_properties(op, doc):
            for value in [*WRONG_TYPES, h.HUGE]:
                response = world.call(call, url, json={prop: value}, headers=auth)
                world.check(
                    400 <= response.status_code < 500,
                    f"{method} {path} {prop}={str(value)[:20]!r} -> {response.status_code}",
                )
        world.check(
            not h.changed(before, h.fingerprint()),
            f"{method} {path} changed data: {h.changed(before, h.fingerprint())}",
        )
        props = _body_properties(op, doc)
        response = world.call(
            call, url, json={p: h.TEXT[i] for i, p in enumerate(props)}, headers=auth
        )
        world.check(
            _status_ok(response.status_code), f"{method} {path} text -> {response.status_code}"
        )


# --- uploads ----------------------------------------------------------------------------

_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CONTRADICTING = [
    ("photo.jpg", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"),
    ("report.pdf", b"<html><script>alert(1)</script></html>"),
    ("picture.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    ("notes.txt", b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 32),
    ("notes.txt", b"text with \x01\x02 controls"),
    ("notes.txt", b"\xff\xfe\xc0\xaf not utf-8"),
    ("empty.pdf", b""),
    ("archive.docx", b"PK\x03\x04 not really a document"),
]
TRICK_NAMES = [
    "../../../../etc/passwd.txt",
    "..\\..\\windows\\win.ini.txt",
    "invoice\u202etxt.exe",
    "nul\x00byte.txt",
    ("a" * 5000) + ".txt",
    "/absolute/path.txt",
    "con.txt",
    " .txt",
]


def _safe_names(world: World) -> None:
    names = list(db.session.scalars(sa.select(Attachment.filename)))
    names += list(db.session.scalars(sa.select(calm.EventDocumentFile.filename)))
    names += list(db.session.scalars(sa.select(trm.Material.filename)))
    for name in names:
        bad = any(c in name for c in "/\\\x00\u202e") or len(name) > 255 or ".." in name
        world.check(not bad, f"stored file name {name[:40]!r}")


def _uploads(world: World) -> list[tuple[str, str, dict[str, Any], dict[str, str]]]:
    ids = world.ids
    auth = {"Authorization": f"Bearer {world.token}"}
    return [
        ("attachment", f"/api/v1/channels/{ids['channel_id']}/attachments", {}, auth),
        (
            "event document",
            f"/calendar/events/{ids['event_id']}/documents",
            {"agenda_item": "", "language": "en"},
            {},
        ),
        ("training material", f"/training/modules/{ids['module_id']}/materials", {}, {}),
    ]


def _upload_checks(app, client, world, login):  # type: ignore[no-untyped-def]
    _sign_in(client, world.admin)
    for label, url, extra, headers in _uploads(world):
        for name, content in CONTRADICTING:
            before = h.fingerprint()
            response = world.call(
                client.post,
                url,
                data={**extra, "file": (io.BytesIO(content), name)},
                headers=headers,
                content_type="multipart/form-data",
            )
            world.check(
                _status_ok(response.status_code), f"{label} {name} -> {response.status_code}"
            )
            diff = h.changed(before, h.fingerprint())
            world.check(not diff, f"{label} {name} ({content[:8]!r}) was stored: {diff}")
        for name in TRICK_NAMES:
            response = world.call(
                client.post,
                url,
                data={**extra, "file": (io.BytesIO(b"plain text\n"), name)},
                headers=headers,
                content_type="multipart/form-data",
            )
            world.check(
                _status_ok(response.status_code), f"{label} {name[:30]!r} -> {response.status_code}"
            )
        response = world.call(
            client.post,
            url,
            data={**extra, "file": FileStorage(io.BytesIO(b"x"), filename=None)},
            headers=headers,
            content_type="multipart/form-data",
        )
        world.check(_status_ok(response.status_code), f"{label} nameless -> {response.status_code}")
    _safe_names(world)


# --- directory import and CSV exports ---------------------------------------------------

_HEADER = "name,authority_type,country,email,office_timezone,last_confirmed\r\n"
HOSTILE_CSVS = [
    b"\xff\xfe\x00n\x00a\x00m\x00e",  # UTF-16 / not UTF-8
    (_HEADER + "A,central_authority,SN,a@example.org,UTC,2026-02-30\r\n").encode(),
    (_HEADER + "A,central_authority,SN,a@example.org,Mars/Olympus,\r\n").encode(),
    (_HEADER + "A,central_authority,XX,a@example.org,UTC,\r\n").encode(),
    (_HEADER + "A\x01\x1b,central_authority,SN,a@example.org,UTC,\r\n").encode(),
    (_HEADER + 'A,"unterminated,SN\r\n').encode(),
    (_HEADER + "A,central_authority,SN,a@example.org,UTC,,extra,cells\r\n").encode(),
    (_HEADER + "A,central_authority,SN,a@example.org\r\n").encode(),
    (_HEADER + "'; DROP TABLE contact_points;--,central_authority,SN,x,UTC,\r\n").encode(),
    ("name," * 10_000 + "\r\n").encode(),
    (
        "name,authority_type,country\r\n" + "B,central_authority,SN\r\n" * 3 + "C,nonsense,SN\r\n"
    ).encode(),
    b"name\x00,country\r\n",
    ("name,authority_type,country\r\n" + h.HUGE[: 6 * 1024 * 1024]).encode(),
    b"",
]


def _import(app, client, world, login):  # type: ignore[no-untyped-def]
    _sign_in(client, world.admin)
    for k, content in enumerate(HOSTILE_CSVS):
        for dry_run in ("y", ""):
            before = h.fingerprint()
            response = world.call(
                client.post,
                "/directory/import",
                data={
                    "network": "wacap",
                    "dry_run": dry_run,
                    "file": (io.BytesIO(content), "entries.csv"),
                },
                content_type="multipart/form-data",
            )
            world.check(_status_ok(response.status_code), f"csv#{k} -> {response.status_code}")
            diff = h.changed(before, h.fingerprint())
            world.check(not diff, f"csv#{k} dry_run={dry_run!r} wrote {diff}")


def _cells(text: str) -> list[tuple[str, str]]:
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader)
    return [
        (header[i] if i < len(header) else "", cell) for row in reader for i, cell in enumerate(row)
    ]


def _phone(cell: str) -> bool:
    return all(p.strip().lstrip("+").replace(" ", "").isdigit() for p in cell.split(";"))


def _exports(app, client, world, login, make_contact_point):  # type: ignore[no-untyped-def]
    """Directory export, audit log export and a programme's report (ASVS V5.3.x, OWASP
    CSV injection): no cell starts with = + - @ tab or CR, phones aside (checked digits)."""
    for formula in h.FORMULAS[:4]:
        make_contact_point(
            name=formula,
            institution=formula,
            title=formula,
            networks=["wacap"],
            notes=formula,
            postal_address=formula,
            office_hours=formula,
        )
    world.admin.name = h.FORMULAS[0]  # the audit log names the actor of each event
    enrolment = db.session.get(trm.Enrolment, world.ids["enrolment_id"])
    for attribute in ("name", "display_name"):
        person = getattr(enrolment, "contact_point", None) or getattr(enrolment, "user", None)
        if person is not None and hasattr(person, attribute):
            setattr(person, attribute, h.FORMULAS[1])
    db.session.commit()
    _sign_in(client, world.admin)  # writes audit rows naming the formula person
    exports = [
        "/directory/export.csv?network=wacap",
        "/directory/export.csv",
        "/audit.csv",
        f"/training/programmes/{world.ids['programme_id']}/report.csv",
    ]
    guarded = 0
    for url in exports:
        response = world.call(client.get, url)
        world.check(response.status_code == 200, f"{url} -> {response.status_code}")
        for column, cell in _cells(response.get_data(as_text=True)):
            if column in ("phones", "Phones") and cell:  # the header is in the reader's language
                world.check(_phone(cell), f"{url} phones {cell!r}")
                continue
            world.check(
                not cell.startswith(("=", "+", "-", "@", "\t", "\r")),
                f"{url} column {column}: {cell[:30]!r}",
            )
            guarded += cell.startswith(("'=", "'+", "'-", "'@"))
    world.check(guarded >= 8, f"only {guarded} guarded formulas found in the exports")


# --- sockets ----------------------------------------------------------------------------

SOCKET_KEYS = [
    "channel_id",
    "consultation_id",
    "message_id",
    "seq",
    "after_seq",
    "body",
    "client_id",
    "parent_id",
    "attachment_ids",
    "channel_ids",
    "user_ids",
    "user_id",
    "away",
    "to",
    "kind",
    "data",
    "signal",
]
SOCKET_VALUES: list[Any] = [
    "1 OR 1=1",
    2**63,
    10**30,
    -1,
    [],
    {},
    True,
    1.5,
    h.INVALID[0],
    h.BAD_DATES[1],
    "\x00",
    [[[[[[]]]]]],
]


def _ack(socket: Any, event: str, data: Any) -> Any:
    return socket.emit(event, data, callback=True)


def _sockets(app, world, login, monkeypatch):  # type: ignore[no-untyped-def]
    events = sorted(e for e in socketio.server.handlers["/"] if e not in {"connect", "disconnect"})
    world.check(len(events) >= 15, f"only {len(events)} socket events")
    socket = socketio.test_client(app, flask_test_client=_sign_in(app.test_client(), world.admin))
    monkeypatch.setitem(app.config, "SOCKET_EVENT_BURST", 100_000)
    monkeypatch.setitem(app.config, "SOCKET_FLOOD_LIMIT", 100_000)
    before = h.fingerprint()
    for event in events:
        payloads: list[Any] = [None, [], "x", 1, [{"channel_id": 1}], h.deep_object(200)]
        payloads += [dict.fromkeys(SOCKET_KEYS, v) for v in SOCKET_VALUES]
        payloads.append(
            {
                "channel_id": world.ids["channel_id"],
                "body": h.HUGE[:200_000],
                "client_id": "x",
                "consultation_id": world.ids["consultation_id"],
            }
        )
        for k, data in enumerate(payloads):
            ack = _ack(socket, event, data)
            empty = isinstance(data, dict) and all(v in ([], {}) for v in data.values())
            refused = isinstance(ack, dict) and ack.get("ok") is False
            # An empty list may be a valid request (watch no channel): an ack, not a crash.
            world.check(
                (refused and ack.get("error", {}).get("code")) or (empty and isinstance(ack, dict)),
                f"{event} payload#{k} -> {str(ack)[:120]}",
            )
    world.check(not h.changed(before, h.fingerprint()), "socket corpus changed data")
    world.check(socket.is_connected(), "the socket was dropped by the corpus")
    socket.disconnect()  # leave no live connection behind for later tests


def test_a_socket_flood_is_refused_then_disconnected(  # type: ignore[no-untyped-def]
    app, db, make_network, make_user, login, monkeypatch
):
    from network.services import messaging

    network = make_network("wacap")
    channel = messaging.ensure_network_channel(network)
    db.session.commit()
    person = make_user("contact_point", network)
    monkeypatch.setitem(app.config, "SOCKET_EVENT_BURST", 20)
    monkeypatch.setitem(app.config, "SOCKET_EVENT_RATE", 1)
    monkeypatch.setitem(app.config, "SOCKET_FLOOD_LIMIT", 30)
    socket = socketio.test_client(app, flask_test_client=login(app.test_client(), person))
    before = h.fingerprint()
    codes = []
    for _ in range(60):
        if not socket.is_connected():
            break
        ack = _ack(socket, "typing", {"channel_id": channel.id})
        codes.append((ack or {}).get("error", {}).get("code") if isinstance(ack, dict) else None)
    assert "rate_limited" in codes
    assert not socket.is_connected()
    assert not h.changed(before, h.fingerprint())


def test_the_socket_size_check_survives_absurd_nesting(app):
    from network.realtime import _size

    assert _size(h.deep_object(100_000)) > 64 * 1024


# The multi-megabyte multipart bodies are spooled to temporary files; one is collected
# late on PostgreSQL runs and reported as an unraisable ResourceWarning: collected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_the_hostile_corpus_gets_4xx_and_leaves_the_data_unchanged(
    app, client, world, login, make_contact_point, monkeypatch
):
    """Every surface in turn, on one seeded world per backend (the demo data gives every
    route an object to aim at); every failure of every surface is reported together."""
    surfaces = [
        ("forms", lambda: _forms(app, client, world, login)),
        ("token", lambda: _fresh_token(world)),  # the forms revoked the first one
        ("api", lambda: _api(app, client, world)),
        ("uploads", lambda: _upload_checks(app, client, world, login)),
        ("import", lambda: _import(app, client, world, login)),
        ("exports", lambda: _exports(app, client, world, login, make_contact_point)),
        ("sockets", lambda: _sockets(app, world, login, monkeypatch)),
    ]
    for name, run in surfaces:
        start = len(world.failures)
        run()
        world.failures[start:] = [f"[{name}] {f}" for f in world.failures[start:]]
    gc.collect()
    assert not world.failures, "\n".join(world.failures)
