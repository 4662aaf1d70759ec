"""Shared fixtures: the app on every configured database, a rolled-back session per test,
an HTTP client, and factories for networks, users and contact points.

Every test that uses ``app`` runs once on SQLite and, when ``NETWORK_TEST_DATABASE_URL``
names a PostgreSQL server, once more on a fresh database created on that server.
"""

from __future__ import annotations

import functools
import gc
import os
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession

from network import create_app, events, realtime
from network.extensions import db as _db
from network.extensions import limiter
from network.models.directory import Network, NetworkMemberState
from network.models.people import Membership, User
from network.services import accounts, directory

PASSWORD = "correct horse battery staple"
IN_CI = os.environ.get("CI", "").lower() == "true"


# Tests that open real sockets to server processes (python-socketio clients, HTTP).
_SOCKET_SUITES = {"realtime_server", "scaleout"}


@pytest.fixture(autouse=True)
def _leaks_reported_where_made(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test that talks to real servers, collect the garbage: a client socket
    or an HTTP answer it left open is then reported (a ResourceWarning, an error) on that
    test, not on whichever later test the collector happened to run in."""
    yield
    if request.node.path.parent.name in _SOCKET_SUITES:
        gc.collect()


def need(what: str) -> None:
    """A service a test needs is missing: under CI=true that fails the test, elsewhere it
    skips it (README, "Tests")."""
    if IN_CI:
        pytest.fail(f"CI=true but {what}")
    pytest.skip(what)


class FreshRequestClient(FlaskClient):
    """A test client whose every request starts with an empty ``g``.

    The ``db`` fixture keeps one application context pushed for the whole test (so the
    test and the requests share the rolled-back session); Flask then reuses it for each
    request, and without this ``g`` would carry the CSRF token and the loaded user from
    one request to the next, which never happens in production.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        try:
            for key in list(vars(g)):
                delattr(g, key)
        except RuntimeError:  # no application context: nothing to reset
            pass
        return super().open(*args, **kwargs)


def _backends() -> list[str]:
    backends = ["sqlite"]
    if os.environ.get("NETWORK_TEST_DATABASE_URL"):
        backends.append("postgresql")
    elif IN_CI:
        backends.append("postgresql-missing")
    return backends


def _create_pg_database(server_url: str) -> tuple[str, Callable[[], None]]:
    """A fresh database on the server for this test session, dropped at the end."""
    from network.config import normalise_database_url

    url = sa.make_url(normalise_database_url(server_url))
    name = f"network_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture(scope="session", params=_backends())
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    """The application with a migrated, empty database (SQLite file or PostgreSQL)."""
    backend = request.param
    instance = tmp_path_factory.mktemp(f"instance-{backend}")
    drop: Callable[[], None] | None = None
    if backend == "postgresql-missing":
        pytest.fail("CI=true but NETWORK_TEST_DATABASE_URL is not set: PostgreSQL is required")
    if backend == "postgresql":
        try:
            url, drop = _create_pg_database(os.environ["NETWORK_TEST_DATABASE_URL"])
        except sa.exc.OperationalError as exc:
            if IN_CI:
                pytest.fail(f"PostgreSQL at NETWORK_TEST_DATABASE_URL is not reachable: {exc}")
            pytest.skip(f"PostgreSQL not reachable: {exc}")
    else:
        url = f"sqlite:///{instance / 'test.db'}"
    application = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(instance),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "DATA_KEY": None,
            "RATELIMIT_ENABLED": True,
            "SERVER_NAME": None,
        }
    )
    application.config["BACKEND"] = backend
    application.test_client_class = FreshRequestClient
    with application.app_context():
        upgrade()  # the schema comes from the migrations, proving them on every backend
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()
    if drop:
        drop()


class ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session picks the engine per table and ignores ``bind``; the
    test session must use the one connection whose outer transaction is rolled back."""

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        if bind is None and self.bind is not None:
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kw)


@pytest.fixture
def db(app: Flask) -> Iterator[Any]:
    """Each test runs inside a transaction rolled back at the end; services may commit
    (their commits become savepoints)."""
    # Sockets a test left open do not outlive it.
    events.forget_local_connections()
    realtime.forget_local_connections()
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        session = _db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": ConnectionBoundSession,
            }
        )
        original = _db.session
        _db.session = session
        try:
            yield _db
        finally:
            session.remove()
            _db.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.close()
    limiter.reset()


@pytest.fixture
def client(app: Flask, db: Any) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf_client(app: Flask, db: Any) -> FlaskClient:
    """A client that reads the CSRF token from pages like a browser does."""
    return app.test_client()


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the form on ``path``."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def make_network(db: Any) -> Callable[..., Network]:
    counter = iter(range(1, 10_000))

    def factory(slug: str | None = None, states: str = "SN ML", **kw: Any) -> Network:
        n = next(counter)
        slug = slug or f"net{n}"
        existing = _db.session.scalar(sa.select(Network).where(Network.slug == slug))
        if existing:
            return existing
        network = Network(
            slug=slug,
            acronym=kw.pop("acronym", slug.upper()),
            name=kw.pop("name", f"Network {n}"),
            region=kw.pop("region", "Region"),
            languages=kw.pop("languages", ["en", "fr"]),
            **kw,
        )
        network.member_states = [NetworkMemberState(country=c) for c in states.split()]
        _db.session.add(network)
        _db.session.commit()
        return network

    return factory


@functools.cache
def password_hash(password: str) -> str:
    """Argon2 is slow by design; hash each test password once per session."""
    return accounts.hash_password(password)


@pytest.fixture
def make_user(db: Any, make_network: Callable[..., Network]) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def factory(
        role: str | None = None,
        network: Network | str | None = None,
        *,
        admin: bool = False,
        email: str | None = None,
        password: str = PASSWORD,
        memberships: list[tuple[Network, str]] | None = None,
    ) -> User:
        n = next(counter)
        user = User(
            email=email or f"user{n}-{uuid.uuid4().hex[:6]}@example.org",
            name=f"Test Person {n}",
            is_admin=admin,
            password_hash=password_hash(password),
        )
        pairs = list(memberships or [])
        if role is not None:
            net = network if isinstance(network, Network) else make_network(network or "wacap")
            pairs.append((net, role))
        user.memberships = [Membership(network=net, role=r) for net, r in pairs]
        _db.session.add(user)
        _db.session.commit()
        return user

    return factory


def contact_point_data(**overrides: Any) -> dict[str, Any]:
    """Valid input for a contact point; override what a test is about."""
    data: dict[str, Any] = {
        "name": "Mariama Test-Person",
        "title": "Prosecutor",
        "institution": "Ministry of Justice",
        "authority_type": "central_authority",
        "country": "SN",
        "networks": ["wacap"],
        "languages": ["fr", "en"],
        "request_languages": ["fr"],
        "channels": ["email", "secure_platform"],
        "expertise": ["extradition", "mla"],
        "e_signature_accepted": True,
        "available_24_7": False,
        "office_hours": "Mon-Fri 08:00-16:00",
        "office_timezone": "Africa/Dakar",
        "email": f"cp-{uuid.uuid4().hex[:8]}@example.org",
        "phones": "+000 123 4567 89",
        "postal_address": "1 Avenue of Justice",
        "notes": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_contact_point(db: Any, make_network: Callable[..., Network]) -> Callable[..., Any]:
    from network.policy import SYSTEM

    def factory(**overrides: Any) -> Any:
        data = contact_point_data(**overrides)
        for slug in data["networks"]:
            make_network(slug)
        return directory.create_contact_point(data, SYSTEM)

    return factory


@pytest.fixture
def list_in_directory(make_contact_point: Callable[..., Any], db: Any) -> Callable[..., Any]:
    """Give an account a current directory entry in the networks ``slugs``, without any
    membership: whoever reads those directories can then reach (invite, add) the person."""

    def factory(person: User, *slugs: str) -> User:
        entry = make_contact_point(networks=list(slugs))
        entry.user_id = person.id
        db.session.commit()
        return person

    return factory


@pytest.fixture
def login(app: Flask) -> Callable[[FlaskClient, User], FlaskClient]:
    """Sign ``user`` in on ``client`` through the real login form."""

    def do_login(client: FlaskClient, user: User, password: str = PASSWORD) -> FlaskClient:
        token = csrf_token(client, "/login")
        response = client.post(
            "/login", data={"email": user.email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client

    return do_login


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent


@pytest.fixture
def own_keys(app: Any, db: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder of the test's own with no configured data key: the key file is
    generated there and a rotation (``network rotate-key``) rewrites it (shared by the
    rotation tests of the file-owning domains)."""
    folder = tmp_path / "instance"
    folder.mkdir()
    monkeypatch.setitem(app.config, "INSTANCE_PATH", str(folder))
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(tmp_path / "uploads"))
    monkeypatch.setitem(app.config, "DATA_KEY", None)
    monkeypatch.setitem(app.config, "DATA_KEYS_PREVIOUS", "")
    return folder
