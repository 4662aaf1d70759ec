"""Concurrent writers do not fork the audit chain (issue 8): eight threads, each with its
own connection, append events at once; every event gets its own place and ``verify``
passes. On PostgreSQL the head row's lock serialises them; SQLite has one writer."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from network import create_app
from network.extensions import db
from network.models.people import AuditEvent
from network.policy import SYSTEM
from network.services import audit, audit_chain
from tests.conftest import _create_pg_database

THREADS = 8
EACH = 15


def _backends() -> list[str]:
    return ["sqlite"] + (["postgresql"] if os.environ.get("NETWORK_TEST_DATABASE_URL") else [])


@pytest.fixture(params=_backends())
def fresh_app(request, tmp_path: Path) -> Iterator[Flask]:
    drop = None
    if request.param == "postgresql":
        url, drop = _create_pg_database(os.environ["NETWORK_TEST_DATABASE_URL"])
    else:
        url = f"sqlite:///{tmp_path / 'network.db'}"
    app = create_app(
        {
            "TESTING": True,
            "INSTANCE_PATH": str(tmp_path),
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key",
            "DATA_KEY": None,
            "SERVER_NAME": None,
        }
    )
    assert app.test_cli_runner().invoke(args=["init"]).exit_code == 0
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if drop:
        drop()


def test_concurrent_writers_never_fork_the_chain(fresh_app):
    barrier = threading.Barrier(THREADS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with fresh_app.app_context():
                barrier.wait(timeout=30)
                for index in range(EACH):
                    audit.record(
                        SYSTEM, "network.update", "network", None, after={"w": number, "i": index}
                    )
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported below
            failures.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    with fresh_app.app_context():
        total = db.session.scalar(select(func.count()).select_from(AuditEvent))
        assert total == THREADS * EACH
        places = db.session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq))
        assert list(places) == list(range(1, total + 1))
        result = audit_chain.verify()
        assert result.ok, result.problem
        assert result.checked == total
