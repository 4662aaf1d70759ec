"""The directory's command line: ``import-directory``, ``seed-demo``, ``init`` and the
migrations' way down and up again."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from network.extensions import db as _db
from network.models.directory import ContactPoint, Network
from network.models.people import Membership, User
from network.services import demo

HEADER = "name,authority_type,country,email,phones,expertise"


def entries() -> int:
    return _db.session.scalar(select(func.count()).select_from(ContactPoint)) or 0


def write_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def good_rows(n: int, start: int = 0) -> list[str]:
    return [
        f"Person {i:05d},prosecution,SN,person{i}@example.org,+000 100 {i:04d},mla"
        for i in range(start, start + n)
    ]


@pytest.fixture
def cli(app, db):
    runner = app.test_cli_runner()

    def run(*args: str):
        return runner.invoke(args=list(args))

    return run


# --- import-directory ------------------------------------------------------------------


def test_import_creates_entries_and_says_how_many(cli, make_network, tmp_path):
    make_network("alpha")
    before = entries()
    result = cli(
        "import-directory", str(write_csv(tmp_path / "a.csv", good_rows(3))), "--network", "alpha"
    )
    assert result.exit_code == 0, result.output
    assert "Created 3, updated 0 of 3 rows." in result.stdout
    assert entries() == before + 3


def test_import_dry_run_writes_nothing(cli, make_network, tmp_path):
    make_network("alpha")
    before = entries()
    path = write_csv(tmp_path / "a.csv", good_rows(3))
    result = cli("import-directory", str(path), "--network", "alpha", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Would create 3, would update 0 of 3 rows." in result.stdout
    assert entries() == before


def test_import_with_a_bad_row_exits_non_zero_with_the_row_report(cli, make_network, tmp_path):
    make_network("alpha")
    rows = [
        *good_rows(2),
        "Bad Phone,prosecution,SN,bad@example.org,12345,mla",
        "Bad Country,prosecution,XX,badc@example.org,+000 1,mla",
        *good_rows(2, start=10),
    ]
    before = entries()
    for extra in ([], ["--dry-run"]):
        path = write_csv(tmp_path / "bad.csv", rows)
        result = cli("import-directory", str(path), "--network", "alpha", *extra)
        assert result.exit_code != 0
        assert "row 4, column phones:" in result.stderr
        assert "row 5, column country:" in result.stderr
        assert "row 5, column phones:" in result.stderr
        assert "3 error(s): nothing was written." in result.stderr
        assert entries() == before


def test_import_re_run_updates_by_email(cli, make_network, tmp_path):
    make_network("alpha")
    path = write_csv(tmp_path / "a.csv", good_rows(3))
    cli("import-directory", str(path), "--network", "alpha")
    before = entries()
    changed = [row.replace("prosecution", "judiciary") for row in good_rows(3)]
    result = cli("import-directory", str(write_csv(path, changed)), "--network", "alpha")
    assert "Created 0, updated 3 of 3 rows." in result.stdout
    assert entries() == before
    types = set(
        _db.session.scalars(
            select(ContactPoint.authority_type).where(ContactPoint.email.like("person%"))
        )
    )
    assert types == {"judiciary"}


def test_large_import_shows_a_progress_bar(cli, make_network, tmp_path):
    make_network("alpha")
    path = write_csv(tmp_path / "big.csv", good_rows(600))
    result = cli("import-directory", str(path), "--network", "alpha", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Checking" in result.stderr
    assert "600/600" in result.stderr
    assert "Would create 600" in result.stdout


def test_small_import_shows_no_progress_bar(cli, make_network, tmp_path):
    make_network("alpha")
    path = write_csv(tmp_path / "small.csv", good_rows(20))
    result = cli("import-directory", str(path), "--network", "alpha", "--dry-run")
    assert result.exit_code == 0
    assert "Checking" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"name,authority_type,country\nGon\xe7alves,prosecution,PT\n", "not UTF-8"),
        (b"\x00\x01binary\x00", "not a CSV text file"),
        (b"name,colour\nA,blue\n", "row 1, column colour: Unknown column."),
        (b'name,authority_type,country\n"open,prosecution,SN\n', "Unreadable CSV"),
    ],
)
def test_unreadable_files_fail_with_a_clear_message(cli, make_network, tmp_path, content, message):
    make_network("alpha")
    path = tmp_path / "junk.csv"
    path.write_bytes(content)
    before = entries()
    result = cli("import-directory", str(path), "--network", "alpha")
    assert result.exit_code != 0
    assert message in result.output
    assert entries() == before


def test_import_into_an_unknown_network_fails(cli, tmp_path):
    result = cli(
        "import-directory", str(write_csv(tmp_path / "a.csv", good_rows(1))), "--network", "nowhere"
    )
    assert result.exit_code != 0
    assert "No such network." in result.output


def test_oversize_file_is_refused(app, cli, make_network, tmp_path, monkeypatch):
    make_network("alpha")
    monkeypatch.setitem(app.config, "MAX_IMPORT_BYTES", 100)
    before = entries()
    result = cli(
        "import-directory", str(write_csv(tmp_path / "a.csv", good_rows(5))), "--network", "alpha"
    )
    assert result.exit_code != 0
    assert "The file is larger than" in result.output
    assert entries() == before


# --- seed-demo -------------------------------------------------------------------------


def _counts() -> tuple[int, ...]:
    return tuple(
        _db.session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Network, ContactPoint, User, Membership)
    )


def test_seed_demo_is_idempotent_and_fictional(cli):
    first = cli("seed-demo")
    assert first.exit_code == 0, first.output
    counts = _counts()
    second = cli("seed-demo")
    assert second.exit_code == 0, second.output
    assert _counts() == counts
    assert re.search(r"Demo data: 10 networks, \d+ contact points\.", second.stdout)

    networks = {n.slug: n for n in _db.session.scalars(select(Network))}
    assert set(networks) == {
        "wacap",
        "great-lakes",
        "iberred",
        "ejn",
        "commonwealth",
        "casc",
        "seajust",
        "sahel",
        "ioc",
        "central-america",
    }
    assert len(networks["great-lakes"].country_codes) == 12
    assert len(networks["iberred"].country_codes) == 22
    assert {"KM", "FR", "MG", "MU", "SC"} == set(networks["ioc"].country_codes)
    assert {"SN", "NG", "MR", "CV"} <= set(networks["wacap"].country_codes)
    assert "ES" in networks["ejn"].country_codes
    assert "ES" in networks["iberred"].country_codes

    # several fictional people per member state of every network
    for network in networks.values():
        for country in network.country_codes:
            people = _db.session.scalar(
                select(func.count())
                .select_from(ContactPoint)
                .where(ContactPoint.country == country, ContactPoint.networks.contains(network))
            )
            assert people >= 2, (network.slug, country, people)

    for cp in _db.session.scalars(select(ContactPoint)):
        assert cp.email.endswith("@example.org"), cp.email
        assert cp.phones, cp.email
        assert all(p.startswith("+000") for p in cp.phones), cp.phones
    for user in _db.session.scalars(select(User)):
        assert user.email.endswith("@example.org")
    for network in networks.values():
        for address in re.findall(r"[\w.+-]+@[\w.-]+", network.secretariat):
            assert address.endswith("@example.org"), address

    roles = {m.role for m in _db.session.scalars(select(Membership))}
    assert roles == {"contact_point", "coordinator", "secretariat", "observer"}
    assert _db.session.scalar(select(User).where(User.is_admin.is_(True))) is not None
    for email, description in demo.DEMO_ACCOUNTS_DESCRIPTION:
        assert email in second.stdout
        assert description in second.stdout


def test_seed_demo_if_empty_leaves_existing_data_alone(cli, make_network):
    make_network("alpha")
    result = cli("seed-demo", "--if-empty")
    assert result.exit_code == 0
    assert "demo data not loaded again" in result.stdout
    assert _counts()[0] == 1


def test_demo_accounts_sign_in_and_see_their_networks_entries(app, cli, client):
    cli("seed-demo")
    response = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    response = client.post(
        "/login",
        data={
            "email": "contact.senegal@example.org",
            "password": demo.DEMO_PASSWORD,
            "csrf_token": token.group(1),
        },
    )
    assert response.status_code == 302
    body = client.get("/api/v1/contact-points?per_page=100").get_json()
    assert body["total"] > 0
    assert {n for item in body["items"] for n in item["networks"]} >= {"wacap"}
    assert all("wacap" in item["networks"] for item in body["items"])


# --- init and migrations (real processes on a fresh SQLite file) ---------------------------


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=120, check=False)


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {name for (name,) in rows}


@pytest.fixture
def fresh_instance(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    database = tmp_path / "fresh.db"
    env = {
        **os.environ,
        "NETWORK_INSTANCE_PATH": str(tmp_path / "instance"),
        "NETWORK_DATABASE_URL": f"sqlite:///{database}",
        "NETWORK_SECRET_KEY": "cli-test-secret",
    }
    return database, env


def test_network_init_upgrades_an_empty_database(fresh_instance):
    database, env = fresh_instance
    network = Path(sys.executable).with_name("network")
    result = _run([str(network), "init"], env)
    assert result.returncode == 0, result.stderr
    assert "Database is up to date." in result.stdout
    assert {"networks", "contact_points", "users", "alembic_version"} <= _tables(database)
    again = _run([str(network), "init"], env)  # a second run has nothing to do
    assert again.returncode == 0, again.stderr


def test_migrations_go_down_to_base_and_up_again_on_sqlite(fresh_instance):
    database, env = fresh_instance
    flask = [sys.executable, "-m", "flask", "--app", "network"]
    assert _run([*flask, "db", "upgrade"], env).returncode == 0
    with sqlite3.connect(database) as conn:
        head = conn.execute("SELECT version_num FROM alembic_version").fetchone()[0]
    down = _run([*flask, "db", "downgrade", "base"], env)
    assert down.returncode == 0, down.stderr
    assert _tables(database) <= {"alembic_version"}
    up = _run([*flask, "db", "upgrade"], env)
    assert up.returncode == 0, up.stderr
    assert {"networks", "contact_points", "contact_point_attributes"} <= _tables(database)
    with sqlite3.connect(database) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == head
