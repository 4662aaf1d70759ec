"""Command line: ``network init|seed-demo|create-user|create-token|import-directory|
purge-expired|rotate-key|reindex-search|serve``.

The same commands are on ``flask --app network``. Commands parse arguments and call
services; they never build queries or commit themselves.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade

from network.errors import DomainError


def _fail(error: DomainError) -> None:
    details = "; ".join(f"{k}: {v}" for k, v in error.fields.items())
    raise click.ClickException(f"{error.message} {details}".strip())


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create or upgrade the database (Alembic upgrade head)."""
    upgrade()
    click.echo("Database is up to date.")


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed when there are no networks yet.")
@with_appcontext
def seed_demo_command(if_empty: bool) -> None:
    """Load demo networks, fictional people and accounts (idempotent)."""
    from network.services import demo

    if if_empty and not demo.database_is_empty():
        click.echo("The database already has data; demo data not loaded again.")
    else:
        summary = demo.seed()
        networks, entries = summary["networks"], summary["contact_points"]
        click.echo(f"Demo data: {networks} networks, {entries} contact points.")
    click.echo(f"\nDemo accounts (password for all: {demo.DEMO_PASSWORD}):")
    for email, description in demo.DEMO_ACCOUNTS_DESCRIPTION:
        click.echo(f"  {email:<36} {description}")


@click.command("create-user")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--network", "networks", multiple=True, help="Network slug (repeat with --role).")
@click.option("--role", "roles", multiple=True, help="Role in the matching --network.")
@click.option("--admin", is_flag=True, help="Make the account a site administrator.")
@with_appcontext
def create_user_command(
    email: str, name: str, networks: tuple[str, ...], roles: tuple[str, ...], admin: bool
) -> None:
    """Create an account; the password comes from NETWORK_NEW_PASSWORD or standard input."""
    from network.policy import SYSTEM
    from network.services import accounts

    if len(networks) != len(roles):
        raise click.UsageError("Give one --role for each --network.")
    password = os.environ.get("NETWORK_NEW_PASSWORD")
    if password is None:
        if sys.stdin.isatty():
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\n")
    try:
        user = accounts.create_user(
            email,
            name,
            password,
            memberships=list(zip(networks, roles, strict=True)),
            is_admin=admin,
            actor=SYSTEM,
        )
    except DomainError as error:
        _fail(error)
    click.echo(f"Created user {user.id} <{user.email}>.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", "label", default="command line", help="A label for the token.")
@with_appcontext
def create_token_command(email: str, label: str) -> None:
    """Print a new personal access token for the API and sockets."""
    from network.services import accounts

    user = accounts.get_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account with e-mail {email}.")
    try:
        _token, plain = accounts.create_token(user, label)
    except DomainError as error:
        _fail(error)
    click.echo(plain)


@click.command("import-directory")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--network", "slug", required=True, help="Slug of the network to import into.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@with_appcontext
def import_directory_command(file: Path, slug: str, dry_run: bool) -> None:
    """Import contact points from a CSV file; nothing is written unless every row is valid."""
    from tqdm import tqdm

    from network.policy import SYSTEM
    from network.services import directory, directory_io

    data = file.read_bytes()
    try:
        network = directory.get_network(slug)
        total = max(data.count(b"\n") - 1, 0)
        with tqdm(
            total=total, unit="row", desc="Checking", disable=total < 500, file=sys.stderr
        ) as bar:
            report = directory_io.import_directory(
                data, network, SYSTEM, dry_run=dry_run, progress=bar.update
            )
    except DomainError as error:
        _fail(error)
    for error in report.errors:
        click.echo(f"row {error.row}, column {error.column or '-'}: {error.reason}", err=True)
    if not report.ok:
        raise click.ClickException(f"{len(report.errors)} error(s): nothing was written.")
    verb = "Would create" if dry_run else "Created"
    click.echo(
        f"{verb} {report.created}, {'would update' if dry_run else 'updated'} {report.updated} "
        f"of {report.rows} rows."
    )


@click.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="Report what has expired; delete nothing.")
@with_appcontext
def purge_expired_command(dry_run: bool) -> None:
    """Delete the messages and files older than their channel's retention period."""
    from network.services import retention

    report = retention.purge_expired(dry_run=dry_run)
    verb = "would lose" if dry_run else "lost"
    for found in report.channels:
        click.echo(
            f'Channel {found.channel_id} "{found.channel_name}" {verb} {found.messages} '
            f"message(s) and {found.files} file(s), through seq {found.through_seq} "
            f"(retention {found.retention_days} days)."
        )
    if not report.channels:
        click.echo("Nothing has expired.")
    if report.stale_uploads is not None:
        click.echo(f"Uploads never sent, removed: {report.stale_uploads}.")
    if report.files_left:
        click.echo(f"{report.files_left} stored file(s) could not be removed.", err=True)


@click.command("rotate-key")
@click.option(
    "--keep-previous", is_flag=True, help="Keep the previous key file once everything is done."
)
@with_appcontext
def rotate_key_command(keep_previous: bool) -> None:
    """Re-encrypt everything under a new data key (safe while the server runs)."""
    from tqdm import tqdm

    from network.services import keys

    bar = tqdm(total=0, unit="item", desc="Re-encrypting", file=sys.stderr, delay=1)

    def started(report: keys.RotationReport) -> None:
        if report.environment:
            click.echo(f"Current key (NETWORK_DATA_KEY): {report.new_key_id}.")
        else:
            click.echo(
                f"New data key {report.new_key_id} in instance/data_key; the previous key "
                f"{report.old_key_id} stays in instance/data_key.previous until the end."
            )
        bar.total = sum(keys.stale_counts(report.new_key_id).values())
        bar.refresh()

    try:
        report = keys.rotate(keep_previous=keep_previous, progress=bar.update, on_new_key=started)
    except (ValueError, RuntimeError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        bar.close()
    done = ", ".join(f"{label} {count}" for label, count in report.reencrypted.items())
    click.echo(f"Re-encrypted: {done}; attachment files {report.files}.")
    if report.files_missing:
        click.echo(f"{len(report.files_missing)} attachment file(s) are missing.", err=True)
    if not report.complete:
        raise click.ClickException(
            f"{len(report.failed)} item(s) could not be opened and {report.remaining} are "
            "still under an earlier key; the previous keys were kept. See the log."
        )
    click.echo(f"Everything is encrypted under key {report.new_key_id}.")
    if report.environment:
        click.echo(
            "Now remove NETWORK_DATA_KEYS_PREVIOUS from the environment of every server "
            "and restart them."
        )
    elif report.previous_dropped:
        click.echo("The previous key was removed (instance/data_key.previous).")
    elif keep_previous:
        click.echo("The previous key was kept in instance/data_key.previous (--keep-previous).")


@click.command("reindex-search")
@with_appcontext
def reindex_search_command() -> None:
    """Rebuild the blind search index of every message (after restoring a backup, or for
    messages stored before search existed)."""
    from network.services import search

    count = search.rebuild_index()
    click.echo(f"Indexed {count} message(s).")


@click.command("serve", context_settings={"ignore_unknown_options": True})
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
def serve_command(host: str, port: int) -> None:
    """Run the production server (eventlet) in a fresh process."""
    from network.server import BOOTSTRAP

    args = [sys.executable, "-c", BOOTSTRAP, "--host", host, "--port", str(port)]
    os.execv(sys.executable, args)  # noqa: S606 - replaces this process with the server


@click.command("send-reminders")
@click.option(
    "--lead-minutes",
    type=click.IntRange(1, 60 * 24 * 30),
    default=None,
    help="Remind this many minutes ahead instead of each event's own lead time.",
)
@with_appcontext
def send_reminders_command(lead_minutes: int | None) -> None:
    """E-mail registered participants before their events (calendar); safe to run often
    (from cron): a reminder is sent once per person and occurrence."""
    from network.services import calendar

    sent = calendar.send_reminders(lead_minutes=lead_minutes)
    click.echo(f"{sent} reminder(s) sent")


# --- Audit log, backup and restore (issue 8) ---------------------------------------------------


@click.group("audit")
def audit_group() -> None:
    """The audit log."""


@audit_group.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Check the audit log's hash chain; exits 1 at the first edited, deleted, reordered
    or unchained event."""
    from network.services import audit_chain

    result = audit_chain.verify()
    if not result.ok:
        raise click.ClickException(
            f"audit log BROKEN after {result.checked} good event(s): {result.problem}"
        )
    click.echo(
        f"OK: {result.checked} audit event(s) chained; head {result.head_seq} {result.head_hash}"
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--logical", is_flag=True, help="Dump the tables as JSON lines instead of pg_dump / SQLite."
)
@with_appcontext
def backup_command(path: Path, logical: bool) -> None:
    """Write a consistent archive (.tar.gz) of the database and the stored files, with a
    manifest of SHA-256 checksums. The data key is NOT in it: keep that apart."""
    from network.policy import SYSTEM
    from network.services import audit, backup

    try:
        report = backup.backup(path, logical=logical)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    audit.record(SYSTEM, "backup.create", "instance", None, after={"database": report.database})
    from network.extensions import db

    db.session.commit()
    click.echo(
        f"Backup written to {report.path}: database ({report.database}), "
        f"{report.files} stored file(s), {report.members} member(s) with checksums."
    )
    click.echo("The data key is not in the backup: keep it apart (README, Security).")


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(path: Path) -> None:
    """Restore an archive of `network backup` into this EMPTY instance, after checking
    the manifest's seal and every member's SHA-256 (a tampered archive is refused)."""
    from network.extensions import db
    from network.policy import SYSTEM
    from network.services import audit, backup

    def migrate(revision: str | None) -> None:
        upgrade(revision=revision or "head")

    try:
        report = backup.restore(path, migrate=migrate)
    except backup.BackupError as error:
        raise click.ClickException(f"restore refused: {error}") from error
    click.echo(
        f"Restored the database ({report.database}, revision {report.revision}) and "
        f"{report.files} stored file(s). Audit log: {report.audit_message}."
    )
    if report.problems:
        shown = ", ".join(report.problems[:10])
        raise click.ClickException(
            f"{len(report.problems)} restored file(s) do not open or match their SHA-256: {shown}"
        )
    if not report.audit_ok:
        raise click.ClickException("the restored audit log does not verify")
    click.echo("Every restored file opens under the data key and matches its SHA-256.")
    audit.record(SYSTEM, "backup.restore", "instance", None, after={"database": report.database})
    db.session.commit()
    click.echo("Run `network reindex-search` if the search index should be rebuilt.")


def register_commands(app: Flask) -> None:
    for command in (
        init_command,
        seed_demo_command,
        create_user_command,
        create_token_command,
        import_directory_command,
        purge_expired_command,
        rotate_key_command,
        reindex_search_command,
        serve_command,
        send_reminders_command,  # calendar (issue 4)
        audit_group,  # issue 8
        backup_command,
        restore_command,
    ):
        app.cli.add_command(command)


def _create_app() -> Flask:
    from network import create_app

    return create_app()


main = FlaskGroup(
    create_app=_create_app, help="Collaboration platform of judicial cooperation networks."
)
