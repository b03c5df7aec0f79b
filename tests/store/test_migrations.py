"""Schema migrations (issue 11): the stored version is checked at open, missing migrations run
in order, a database from a newer release is refused; SQLite and Postgres alike."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from vrcollab.store.catalog_sqlite import SqliteCatalog
from vrcollab.store.migrations import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    SchemaError,
    migrate_postgres,
    migrate_sqlite,
    postgres_version,
    sqlite_version,
)
from vrcollab.store.sqlite import SqliteStore


def _sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(path), isolation_level=None)


def test_sqlite_fresh_database_is_at_the_latest_version(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "db").close()
    db = _sqlite(tmp_path / "db")
    assert sqlite_version(db) == len(SQLITE_MIGRATIONS)
    db.close()


def test_sqlite_runs_only_the_missing_steps_in_order(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "db")
    ran: list[int] = []

    def step(n: int) -> Any:
        def run(conn: sqlite3.Connection) -> None:
            assert sqlite_version(conn) == n - 1  # each step sees the version before it
            ran.append(n)
        return run

    steps = tuple(step(n) for n in (1, 2, 3))
    assert migrate_sqlite(db, steps=steps[:1]) == 1
    assert ran == [1]
    assert migrate_sqlite(db, steps=steps) == 3
    assert ran == [1, 2, 3]
    migrate_sqlite(db, steps=steps)  # nothing left to do
    assert ran == [1, 2, 3]
    db.close()


def test_sqlite_failed_step_rolls_back_with_its_version(tmp_path: Path) -> None:
    db = _sqlite(tmp_path / "db")

    def boom(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x)")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        migrate_sqlite(db, steps=("CREATE TABLE one (x)", boom))
    assert sqlite_version(db) == 0  # step 1 and 2 share the transaction: none applied
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half" not in names
    assert "one" not in names
    db.close()


def test_sqlite_upgrades_a_version_3_catalog_in_place(tmp_path: Path) -> None:
    path = tmp_path / "db"
    db = _sqlite(path)
    migrate_sqlite(db, steps=SQLITE_MIGRATIONS[:3])  # before job leases
    db.execute("INSERT INTO catalog_models VALUES ('m1', 'p1', 'house', 1.0)")
    db.execute("INSERT INTO catalog_versions (version_id, model_id, project_id, number, "
               "source_name, source_sha256, source_bytes, status, created) "
               "VALUES ('v1', 'm1', 'p1', 1, 'h.ifc', ?, 3, 'converting', 1.0)", ("a" * 64,))
    db.execute("INSERT INTO catalog_jobs (job_id, project_id, version_id, status, stage, "
               "percent, created, updated) VALUES ('j1', 'p1', 'v1', 'running', 'load', "
               "10, 1.0, 1.0)")
    db.close()
    cat = SqliteCatalog(path)
    job = cat.get_job("j1")
    assert (job.status, job.worker, job.lease_until) == ("running", None, None)
    assert cat.claim_next_job() is None
    cat.close()
    db = _sqlite(path)
    assert sqlite_version(db) == len(SQLITE_MIGRATIONS)
    db.close()


def test_sqlite_refuses_a_newer_schema(tmp_path: Path) -> None:
    SqliteStore(tmp_path / "db").close()
    db = _sqlite(tmp_path / "db")
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.close()
    with pytest.raises(SchemaError, match="schema version 99"):
        SqliteStore(tmp_path / "db")
    with pytest.raises(SchemaError):
        SqliteCatalog(tmp_path / "db")


def test_postgres_versions_order_and_refusal(pg_url: str) -> None:
    import psycopg

    from vrcollab.store.catalog_postgres import PostgresCatalog
    from vrcollab.store.postgres import PostgresStore

    with psycopg.connect(pg_url, autocommit=True) as conn:
        steps = ("CREATE TABLE steps (n INTEGER)", "INSERT INTO steps VALUES (2)",
                 "INSERT INTO steps VALUES (3)")
        assert migrate_postgres(conn, steps=steps[:2]) == 2
        assert migrate_postgres(conn, steps=steps) == 3
        migrate_postgres(conn, steps=steps)
        assert [r[0] for r in conn.execute("SELECT n FROM steps ORDER BY n")] == [2, 3]
        assert postgres_version(conn) == 3
        conn.execute("DROP TABLE steps")
        conn.execute("DELETE FROM schema_version")
    PostgresStore(pg_url).close()
    PostgresCatalog(pg_url).close()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert postgres_version(conn) == len(POSTGRES_MIGRATIONS)
        conn.execute("INSERT INTO schema_version VALUES (99)")
    with pytest.raises(SchemaError, match="schema version 99"):
        PostgresStore(pg_url)
    with pytest.raises(SchemaError):
        PostgresCatalog(pg_url)


def test_postgres_processes_starting_at_once_migrate_once(pg_url: str) -> None:
    from vrcollab.store.postgres import PostgresStore

    errors: list[BaseException] = []
    start = time.monotonic() + 0.2

    def open_one() -> None:
        time.sleep(max(0.0, start - time.monotonic()))
        try:
            PostgresStore(pg_url).close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    import psycopg

    with psycopg.connect(pg_url) as conn:
        rows = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, len(POSTGRES_MIGRATIONS) + 1))
