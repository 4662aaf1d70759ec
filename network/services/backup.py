"""``network backup`` and ``network restore`` (issue 8; OWASP ASVS 10.3 / 14.1 integrity of
what is restored).

The archive (``.tar.gz``) holds:

``database.sqlite3``
    SQLite: a consistent copy made with SQLite's online backup API (the server may run).
``database.pgdump``
    PostgreSQL: ``pg_dump --format=custom`` (one snapshot), when ``pg_dump`` is installed
    and works with the server.
``database.jsonl``
    PostgreSQL otherwise (or ``--logical``): every table, read in one REPEATABLE READ
    transaction, one JSON line per row (typed values tagged), with the Alembic revision.
``uploads/…``
    The stored files as they are on disk: already encrypted under the data key.
``manifest.json``
    The format, the database kind, the Alembic revision, and the size and SHA-256 of every
    other member; sealed with an HMAC under a key derived from the data key, and naming
    that key's id.

**The archive does not contain the data key** (README, "Security"): without it nothing
encrypted (files, two-factor secrets, the search index) can be read, and ``restore``
refuses to start. Keep the key apart from the backups.

Files are copied before and after the database snapshot, so an upload committed during
the backup is in it and a file deleted during it is still there (an orphan that
``network purge-expired`` removes).

``restore`` only writes into an empty instance (no tables or only empty ones, an empty
upload folder); it checks the manifest's seal and every member's size and SHA-256 before
writing anything, refuses members with unsafe names or types, then loads the database,
upgrades it to the current schema and puts the files in place.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import hashlib
import hmac
import io
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

from network import crypto
from network.extensions import db

log = logging.getLogger(__name__)

FORMAT = 1
MANIFEST = "manifest.json"
_SEAL_INFO = b"network backup manifest v1"
_CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup or a restore that cannot be done; the message says why."""


@dataclass
class BackupReport:
    path: Path
    database: str
    files: int
    members: int


@dataclass
class RestoreReport:
    database: str
    files: int
    revision: str | None
    audit_ok: bool
    audit_message: str
    problems: list[str] = field(default_factory=list)


# --- Helpers ----------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _seal_key(key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_SEAL_INFO).derive(key)


def _seal(body: dict[str, Any], key: bytes) -> str:
    data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    return hmac.new(_seal_key(key), data, "sha256").hexdigest()


def _upload_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"])


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _is_stored_file(path: Path) -> bool:
    return path.is_file() and not path.is_symlink() and not path.name.startswith(".tmp-")


def _copy_uploads(target: Path, copied: set[str]) -> None:
    root = _upload_root()
    if not root.is_dir():
        return
    for folder in sorted(root.iterdir()):
        if not folder.is_dir() or folder.is_symlink():
            continue
        for path in sorted(folder.iterdir()):
            name = f"{folder.name}/{path.name}"
            if name in copied or not _is_stored_file(path):
                continue
            destination = target / folder.name / path.name
            destination.parent.mkdir(parents=True, exist_ok=True)
            try:
                shutil.copy2(path, destination)
            except FileNotFoundError:
                continue  # removed meanwhile (its row went before the snapshot)
            copied.add(name)


# --- Logical dump (PostgreSQL without pg_dump) ---------------------------------------------------


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, bytes | memoryview):
        return {"$bytes": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, decimal.Decimal):
        return {"$dec": str(value)}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dict | list):
        return {"$json": value}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        ((tag, raw),) = value.items()
        if tag == "$dt":
            return dt.datetime.fromisoformat(raw)
        if tag == "$date":
            return dt.date.fromisoformat(raw)
        if tag == "$time":
            return dt.time.fromisoformat(raw)
        if tag == "$bytes":
            return base64.b64decode(raw)
        if tag == "$dec":
            return decimal.Decimal(raw)
        if tag == "$json":
            return raw
    return value


def _reflected(connection: sa.Connection) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(connection)
    return metadata


def _logical_dump(path: Path) -> str | None:
    engine = db.engine
    with (
        engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection,
        connection.begin(),
    ):
        if engine.dialect.name == "postgresql":
            connection.execute(sa.text("SET TRANSACTION READ ONLY"))
        revision = _revision(connection)
        metadata = _reflected(connection)
        with open(path, "w", encoding="utf-8") as out:
            for table in metadata.sorted_tables:
                if table.name == "alembic_version":
                    continue
                out.write(json.dumps({"table": table.name}) + "\n")
                order = list(table.primary_key.columns) or list(table.columns)
                for row in connection.execute(sa.select(table).order_by(*order)):
                    encoded = {key: _encode(value) for key, value in row._mapping.items()}
                    out.write(json.dumps({"row": encoded}, ensure_ascii=True) + "\n")
    return revision


def _logical_load(path: Path) -> None:
    engine = db.engine
    with engine.begin() as connection:
        metadata = _reflected(connection)
        table: sa.Table | None = None
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if table is not None and batch:
                connection.execute(table.insert(), batch)
            batch.clear()

        with open(path, encoding="utf-8") as source:
            dumped = [json.loads(line)["table"] for line in source if line.startswith('{"table"')]
        # The rows the migrations seeded (the instance was checked empty) give way.
        for name in reversed([t.name for t in metadata.sorted_tables if t.name in dumped]):
            connection.execute(metadata.tables[name].delete())
        with open(path, encoding="utf-8") as source:
            for line in source:
                item = json.loads(line)
                if "table" in item:
                    flush()
                    table = metadata.tables.get(item["table"])
                    if table is None:
                        raise BackupError(f"the archive has a table unknown here: {item['table']}")
                    continue
                if table is None:
                    raise BackupError("the database dump is malformed")
                batch.append({key: _decode(value) for key, value in item["row"].items()})
                if len(batch) >= 500:
                    flush()
            flush()
        if engine.dialect.name == "postgresql":
            _reset_sequences(connection, metadata)


def _reset_sequences(connection: sa.Connection, metadata: sa.MetaData) -> None:
    for table in metadata.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(
                sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                {"t": table.name, "c": column.name},
            ).scalar()
            if sequence:
                highest = connection.execute(sa.select(sa.func.max(column))).scalar()
                connection.execute(
                    sa.select(sa.func.setval(sequence, highest or 1, highest is not None))
                )


# --- PostgreSQL tools --------------------------------------------------------------------------


def _libpq_url() -> str:
    url = db.engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def _pg_tool(name: str) -> str | None:
    return shutil.which(name)


_DUMP_OPTIONS = ("--format=custom", "--no-owner", "--no-privileges")
_RESTORE_OPTIONS = ("--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error")


def _pg_dump(path: Path) -> bool:
    tool = _pg_tool("pg_dump")
    if tool is None:
        return False
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [tool, *_DUMP_OPTIONS, "--file", str(path), "--dbname", _libpq_url()],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        log.warning("pg_dump failed, making a logical dump instead: %s", result.stderr.strip())
        path.unlink(missing_ok=True)
        return False
    return True


# --- Backup ------------------------------------------------------------------------------------


def backup(path: Path, *, logical: bool = False) -> BackupReport:
    """Write a consistent archive of the database and the stored files to ``path``."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new name")
    ring = crypto.keyring()
    dialect = db.engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="network-backup-") as scratch:
        work = Path(scratch)
        uploads = work / "uploads"
        uploads.mkdir()
        copied: set[str] = set()
        _copy_uploads(uploads, copied)  # before the snapshot: files deleted meanwhile stay
        db.session.remove()
        if dialect == "sqlite" and not logical:
            kind, member = "sqlite", "database.sqlite3"
            source = sqlite3.connect(db.engine.url.database)
            target = sqlite3.connect(work / member)
            try:
                source.backup(target)
            finally:
                target.close()
                source.close()
            check = sqlite3.connect(work / member)
            try:
                revision = check.execute("SELECT version_num FROM alembic_version").fetchone()[0]
            finally:
                check.close()
        elif dialect == "postgresql" and not logical and _pg_dump(work / "database.pgdump"):
            kind, member = "pg_dump", "database.pgdump"
            with db.engine.connect() as connection:
                revision = _revision(connection)
        else:
            kind, member = "logical", "database.jsonl"
            revision = _logical_dump(work / member)
        _copy_uploads(uploads, copied)  # after: uploads committed during the snapshot
        members: dict[str, dict[str, Any]] = {}
        for file in sorted(p for p in work.rglob("*") if p.is_file()):
            name = file.relative_to(work).as_posix()
            members[name] = {"sha256": _sha256(file), "size": file.stat().st_size}
        body = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": {"kind": kind, "member": member, "dialect": dialect},
            "revision": revision,
            "key_id": ring.current_id,
            "members": members,
        }
        manifest = {**body, "seal": _seal(body, ring.current)}
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as archive:
                for name in members:
                    archive.add(work / name, arcname=name, recursive=False)
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(data)
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                archive.addfile(info, io.BytesIO(data))
            os.chmod(partial, 0o600)
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    log.info("backup written to %s (%s, %d files)", path, kind, len(copied))
    return BackupReport(path, kind, len(copied), len(members) + 1)


# --- Restore -----------------------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    pure = PurePosixPath(name)
    return bool(name) and not pure.is_absolute() and ".." not in pure.parts and "\\" not in name


def _read_archive(path: Path, work: Path) -> dict[str, Any]:
    """Extract and check the archive into ``work``; returns the manifest."""
    try:
        archive = tarfile.open(path, "r:gz")  # noqa: SIM115 (closed below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"not a backup archive: {exc}") from exc
    with archive:
        try:
            entries = archive.getmembers()
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"the archive is damaged: {exc}") from exc
        names = [entry.name for entry in entries]
        if MANIFEST not in names:
            raise BackupError("the archive has no manifest")
        if len(set(names)) != len(names):
            raise BackupError("the archive holds a member twice")
        for entry in entries:
            if not entry.isfile() or not _safe_name(entry.name):
                raise BackupError(f"the archive holds an unsafe member: {entry.name!r}")
        try:
            archive.extractall(work, filter="data")
        except (tarfile.TarError, EOFError, OSError) as exc:
            raise BackupError(f"the archive is damaged: {exc}") from exc
    try:
        manifest = json.loads((work / MANIFEST).read_text())
        body = {k: v for k, v in manifest.items() if k != "seal"}
        listed: dict[str, Any] = body["members"]
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError("the manifest is not readable") from exc
    if body.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {body.get('format')!r}")
    key = crypto.keyring().by_id.get(str(body.get("key_id")))
    if key is None:
        raise BackupError(
            f"the data key {body.get('key_id')} that sealed this backup is not configured "
            "here: install it (instance/data_key or NETWORK_DATA_KEY) first"
        )
    if not hmac.compare_digest(str(manifest.get("seal")), _seal(body, key)):
        raise BackupError("the manifest's seal does not verify: the archive was altered")
    present = set(names) - {MANIFEST}
    if present != set(listed):
        extra = sorted(present - set(listed))[:3]
        missing = sorted(set(listed) - present)[:3]
        raise BackupError(f"members differ from the manifest (extra {extra}, missing {missing})")
    for name, expected in listed.items():
        file = work / name
        if file.stat().st_size != expected["size"] or _sha256(file) != expected["sha256"]:
            raise BackupError(f"checksum mismatch for {name}: the archive was altered")
    return body


# Tables the migrations fill with one row: a freshly initialised instance is still empty.
_SEEDED_TABLES = frozenset({"alembic_version", "directory_revision", "audit_chain_head"})


def _has_data(connection: sa.Connection) -> list[str]:
    """The tables holding rows (``alembic_version`` aside)."""
    full = []
    for table in _reflected(connection).sorted_tables:
        if table.name in _SEEDED_TABLES:
            continue
        if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first():
            full.append(table.name)
    return full


def _uploads_empty() -> bool:
    root = _upload_root()
    return not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def restore(path: Path, *, migrate: Callable[[str | None], None]) -> RestoreReport:
    """Restore the archive at ``path`` into this (empty) instance; ``migrate(revision)``
    upgrades the schema (to ``revision``, or to the newest when None)."""
    from network.services import audit_chain

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    if (
        not crypto.uses_environment_key()
        and not (Path(current_app.config["INSTANCE_PATH"]) / crypto.KEY_FILE).exists()
    ):
        raise BackupError(
            "no data key is configured: copy the data key kept apart from the backups to "
            "instance/data_key (mode 0600) or set NETWORK_DATA_KEY, then restore"
        )
    engine = db.engine
    dialect = engine.dialect.name
    with engine.connect() as connection:
        tables = [t for t in sa.inspect(connection).get_table_names() if t != "alembic_version"]
        full = _has_data(connection)
    if full:
        raise BackupError(f"this instance is not empty ({', '.join(sorted(full)[:5])}…)")
    if not _uploads_empty():
        raise BackupError(f"the upload folder {_upload_root()} is not empty")
    with tempfile.TemporaryDirectory(prefix="network-restore-") as scratch:
        work = Path(scratch)
        manifest = _read_archive(path, work)
        database = manifest["database"]
        kind, member = database["kind"], database["member"]
        if database.get("dialect") != dialect and kind != "logical":
            raise BackupError(
                f"this archive holds a {database.get('dialect')} database; this instance runs "
                f"{dialect}"
            )
        db.session.remove()
        if kind == "sqlite":
            target = Path(engine.url.database)
            engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            source = sqlite3.connect(work / member)
            destination = sqlite3.connect(target)
            try:
                source.backup(destination)
            finally:
                destination.close()
                source.close()
        elif kind == "pg_dump":
            tool = _pg_tool("pg_restore")
            if tool is None:
                raise BackupError("pg_restore is needed to restore this archive")
            if tables:
                raise BackupError("restore a pg_dump backup into a database without tables")
            engine.dispose()
            result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
                [tool, *_RESTORE_OPTIONS, "--dbname", _libpq_url(), str(work / member)],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_restore failed: {result.stderr.strip()[:500]}")
        elif kind == "logical":
            migrate(manifest.get("revision"))
            _logical_load(work / member)
        else:
            raise BackupError(f"unknown database kind {kind!r}")
        engine.dispose()
        migrate(None)
        root = _upload_root()
        files = 0
        for name in manifest["members"]:
            if not name.startswith("uploads/"):
                continue
            relative = PurePosixPath(name).relative_to("uploads")
            destination = root.joinpath(*relative.parts)
            destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            shutil.move(work / name, destination)
            files += 1
    db.session.remove()
    problems = _check_files()
    result = audit_chain.verify()
    message = (
        f"{result.checked} audit event(s) chained" if result.ok else f"BROKEN: {result.problem}"
    )
    log.info("backup %s restored (%s, %d files)", path, kind, files)
    return RestoreReport(kind, files, manifest.get("revision"), result.ok, message, problems)


def _check_files() -> list[str]:
    """Every restored attachment and domain file opens under the data key and matches its
    SHA-256; returns what does not."""
    from network.services import attachments

    problems = []
    for attachment in attachments.iter_all():
        try:
            attachments.read_content(attachment)
        except attachments.AttachmentDamaged:
            problems.append(f"attachment {attachment.id}")
    for table, row_id, storage_key, sha256 in attachments._owned_files():
        try:
            attachments.read_stored_file(storage_key, sha256)
        except attachments.AttachmentDamaged:
            problems.append(f"{table} {row_id}")
    db.session.commit()
    return problems
