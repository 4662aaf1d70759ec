"""The account commands: ``network create-user`` and ``network create-token``."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from network.models.people import User
from network.services import accounts

GOOD_PASSWORD = "a long enough passphrase"


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def _users(db) -> int:
    return db.session.scalar(select(func.count()).select_from(User))


def _create_user(runner, *args: str, password: str | None = GOOD_PASSWORD, stdin=None):
    env = {"NETWORK_NEW_PASSWORD": password} if password is not None else {}
    return runner.invoke(args=["create-user", *args], env=env, input=stdin)


def test_create_user_with_memberships_from_the_environment_password(
    runner, db, make_network, client
):
    make_network("wacap")
    make_network("iberred")
    result = _create_user(
        runner,
        "Amina.Example@Example.org",
        "--name",
        "Amina Example",
        "--network",
        "wacap",
        "--role",
        "coordinator",
        "--network",
        "iberred",
        "--role",
        "observer",
    )
    assert result.exit_code == 0, result.output
    assert "Created user" in result.output
    user = accounts.get_user_by_email("amina.example@example.org")
    assert user.name == "Amina Example"
    assert not user.is_admin
    assert sorted((m.network.slug, m.role) for m in user.memberships) == [
        ("iberred", "observer"),
        ("wacap", "coordinator"),
    ]
    assert user.password_hash.startswith("$argon2id$")
    assert GOOD_PASSWORD not in user.password_hash
    assert accounts.authenticate("amina.example@example.org", GOOD_PASSWORD) == user


def test_create_user_reads_the_password_from_stdin(runner, db):
    result = _create_user(
        runner, "stdin@example.org", "--name", "Std In", password=None, stdin="from stdin pass\n"
    )
    assert result.exit_code == 0, result.output
    assert accounts.authenticate("stdin@example.org", "from stdin pass").email == (
        "stdin@example.org"
    )


def test_create_admin(runner, db):
    result = _create_user(runner, "admin@example.org", "--name", "Site Admin", "--admin")
    assert result.exit_code == 0, result.output
    assert accounts.get_user_by_email("admin@example.org").is_admin


@pytest.mark.parametrize(
    ("args", "password", "message"),
    [
        (["not-an-email", "--name", "X"], GOOD_PASSWORD, "Enter a valid e-mail address."),
        (["x@example.org", "--name", "  "], GOOD_PASSWORD, "A name is required."),
        (["x@example.org", "--name", "X"], "short", "Use at least 12 characters."),
        (["x@example.org", "--name", "X"], "", "Use at least 12 characters."),
        (
            ["x@example.org", "--name", "X", "--network", "nowhere", "--role", "observer"],
            GOOD_PASSWORD,
            "Unknown network: nowhere",
        ),
        (
            ["x@example.org", "--name", "X", "--network", "wacap", "--role", "emperor"],
            GOOD_PASSWORD,
            "Unknown role: emperor",
        ),
    ],
)
def test_invalid_create_user_fails_clearly_and_creates_nothing(
    runner, db, make_network, args, password, message
):
    make_network("wacap")
    before = _users(db)
    result = _create_user(runner, *args, password=password)
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output
    assert _users(db) == before


def test_the_same_network_twice_fails_clearly(runner, db, make_network):
    make_network("wacap")
    result = _create_user(
        runner,
        *("x@example.org", "--name", "X"),
        *("--network", "wacap", "--role", "observer"),
        *("--network", "wacap", "--role", "coordinator"),
    )
    assert result.exit_code == 1
    assert "wacap is given twice" in result.output
    assert "Traceback" not in result.output
    assert accounts.get_user_by_email("x@example.org") is None


def test_empty_password_on_stdin_creates_nothing(runner, db):
    result = _create_user(runner, "empty@example.org", "--name", "E", password=None, stdin="\n")
    assert result.exit_code != 0
    assert "Use at least 12 characters." in result.output
    assert accounts.get_user_by_email("empty@example.org") is None


def test_network_without_role_is_a_usage_error(runner, db, make_network):
    make_network("wacap")
    result = _create_user(runner, "x@example.org", "--name", "X", "--network", "wacap")
    assert result.exit_code == 2
    assert "Give one --role for each --network." in result.output
    assert accounts.get_user_by_email("x@example.org") is None


def test_duplicate_email_is_refused(runner, db, make_user):
    existing = make_user("observer", "wacap", email="taken@example.org")
    result = _create_user(runner, "TAKEN@example.org", "--name", "Second")
    assert result.exit_code != 0
    assert "An account with this e-mail already exists." in result.output
    assert _users(db) == 1
    assert accounts.get_user_by_email("taken@example.org").name == existing.name


def test_create_token_prints_a_token_that_works_as_bearer(runner, db, make_user, client):
    user = make_user("observer", "wacap")
    result = runner.invoke(args=["create-token", user.email, "--name", "case system"])
    assert result.exit_code == 0, result.output
    plain = result.output.strip()
    assert plain.startswith("ntk_")
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {plain}"})
    assert response.status_code == 200
    assert response.get_json()["email"] == user.email
    assert [t.label for t in accounts.active_tokens(user)] == ["case system"]


def test_create_token_for_unknown_email_fails(runner, db):
    result = runner.invoke(args=["create-token", "nobody@example.org"])
    assert result.exit_code != 0
    assert "No account with e-mail nobody@example.org." in result.output


def test_create_token_for_an_inactive_account_fails(runner, db, make_user):
    user = make_user("observer", "wacap")
    user.is_active_account = False
    db.session.commit()
    result = runner.invoke(args=["create-token", user.email])
    assert result.exit_code == 1
    assert "This account is deactivated." in result.output
    assert "ntk_" not in result.output
