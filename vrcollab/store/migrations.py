"""Ordered schema migrations for both engines, and the stored schema version check.

Each engine has one list; entry ``i`` brings a database to version ``i + 1``. At start
(:func:`migrate_sqlite`, :func:`migrate_postgres`) the stored version is read, a database
written by a newer vrcollab is refused (:class:`SchemaError`: start the newer release, or
restore a backup), and the missing migrations run in order, each in the same transaction as
the version bump, under a lock that keeps two processes starting at once from both migrating
(SQLite ``BEGIN IMMEDIATE``; Postgres an advisory transaction lock).

SQLite keeps its version in ``meta(key='schema_version')`` (versions 1 and 2 predate this module
and were written by the store itself); Postgres in ``schema_version(version)``. One database
holds every table (auth, identity, op log, snapshots, catalog, jobs; on Postgres also the
meetings), whichever store opens it first creates them all.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

from vrcollab.errors import StoreError

SqliteStep = Callable[[sqlite3.Connection], None] | str


class SchemaError(StoreError):
    """The database's schema version is newer than this vrcollab knows."""

    def __init__(self, message: str) -> None:
        super().__init__(message, code="schema_too_new")


_SQLITE_BASE = """
CREATE TABLE IF NOT EXISTS users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS members (project_id TEXT NOT NULL REFERENCES projects,
    user_id TEXT NOT NULL REFERENCES users, role TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id));
CREATE TABLE IF NOT EXISTS tokens (token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users, created REAL NOT NULL, expires_at REAL);
CREATE TABLE IF NOT EXISTS rooms (room_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects, name TEXT NOT NULL, model TEXT,
    created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS commits (room_id TEXT NOT NULL, seq INTEGER NOT NULL,
    op_id TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, op_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (room_id TEXT NOT NULL, seq INTEGER NOT NULL,
    body TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (room_id, seq));
"""

_SQLITE_IDENTITY = """
CREATE TABLE IF NOT EXISTS accounts (user_id TEXT PRIMARY KEY REFERENCES users,
    admin INTEGER NOT NULL DEFAULT 0, create_projects INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS invites (invite_id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects, role TEXT NOT NULL, created_by TEXT,
    created REAL NOT NULL, expires_at REAL NOT NULL, max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0, revoked INTEGER NOT NULL DEFAULT 0,
    code_hash TEXT NOT NULL DEFAULT '', label TEXT NOT NULL DEFAULT '');
CREATE INDEX IF NOT EXISTS invites_project ON invites(project_id);
CREATE INDEX IF NOT EXISTS invites_code ON invites(code_hash);
CREATE TABLE IF NOT EXISTS signin_codes (code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users, expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY AUTOINCREMENT,
    project_id TEXT NOT NULL, at REAL NOT NULL, actor_id TEXT, action TEXT NOT NULL,
    target_id TEXT, detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX IF NOT EXISTS audit_project ON audit(project_id, seq);
"""

_CATALOG = """
CREATE TABLE IF NOT EXISTS catalog_models (
    model_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, name TEXT NOT NULL,
    created {real} NOT NULL, UNIQUE (project_id, name));
CREATE TABLE IF NOT EXISTS catalog_versions (
    version_id TEXT PRIMARY KEY, model_id TEXT NOT NULL REFERENCES catalog_models(model_id),
    project_id TEXT NOT NULL, number INTEGER NOT NULL, source_name TEXT NOT NULL,
    source_sha256 TEXT NOT NULL, source_bytes BIGINT NOT NULL, status TEXT NOT NULL,
    created {real} NOT NULL, manifest_sha256 TEXT, elements TEXT NOT NULL DEFAULT '{{}}',
    UNIQUE (model_id, number));
CREATE INDEX IF NOT EXISTS catalog_versions_source ON catalog_versions(source_sha256);
CREATE TABLE IF NOT EXISTS catalog_jobs (
    seq {serial}, job_id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL, version_id TEXT NOT NULL REFERENCES catalog_versions(version_id),
    status TEXT NOT NULL, stage TEXT NOT NULL, percent {real} NOT NULL, created {real} NOT NULL,
    updated {real} NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, error TEXT, error_code TEXT,
    started {real}, finished {real}{lease});
CREATE INDEX IF NOT EXISTS catalog_jobs_status ON catalog_jobs(status);
CREATE INDEX IF NOT EXISTS catalog_jobs_version ON catalog_jobs(version_id);
CREATE TABLE IF NOT EXISTS catalog_assets (
    sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, created {real} NOT NULL);
CREATE TABLE IF NOT EXISTS catalog_version_files (
    version_id TEXT NOT NULL REFERENCES catalog_versions(version_id), path TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES catalog_assets(sha256), size BIGINT NOT NULL,
    content_type TEXT NOT NULL, PRIMARY KEY (version_id, path));
CREATE INDEX IF NOT EXISTS catalog_files_sha ON catalog_version_files(sha256);
"""


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in db.execute(f"PRAGMA table_info({table})")}


def _sqlite_identity(db: sqlite3.Connection) -> None:
    _script(db, _SQLITE_IDENTITY)
    columns = _columns(db, "tokens")
    if "kind" not in columns:
        db.execute("ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'bearer'")
    if "label" not in columns:
        db.execute("ALTER TABLE tokens ADD COLUMN label TEXT NOT NULL DEFAULT ''")


def _sqlite_job_leases(db: sqlite3.Connection) -> None:
    columns = _columns(db, "catalog_jobs")
    if "worker" not in columns:
        db.execute("ALTER TABLE catalog_jobs ADD COLUMN worker TEXT")
    if "lease_until" not in columns:
        db.execute("ALTER TABLE catalog_jobs ADD COLUMN lease_until REAL")


#: Per-project settings (a JSON object; keys in vrcollab.server.project_settings).
_PROJECT_SETTINGS = """
CREATE TABLE IF NOT EXISTS project_settings (
    project_id TEXT PRIMARY KEY REFERENCES projects, body TEXT NOT NULL);
"""

#: SQLite: 1 auth + op log, 2 identity, 3 catalog, 4 job leases (worker, lease_until),
#: 5 project settings.
SQLITE_MIGRATIONS: tuple[SqliteStep, ...] = (
    _SQLITE_BASE,
    _sqlite_identity,
    _CATALOG.format(real="REAL", serial="INTEGER PRIMARY KEY AUTOINCREMENT", lease=""),
    _sqlite_job_leases,
    _PROJECT_SETTINGS,
)

_PG_BASE = """
CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL);
CREATE TABLE projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL);
CREATE TABLE members (project_id TEXT NOT NULL REFERENCES projects,
    user_id TEXT NOT NULL REFERENCES users, role TEXT NOT NULL,
    PRIMARY KEY (project_id, user_id));
CREATE TABLE tokens (token_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users,
    created DOUBLE PRECISION NOT NULL, expires_at DOUBLE PRECISION,
    kind TEXT NOT NULL DEFAULT 'bearer', label TEXT NOT NULL DEFAULT '');
CREATE TABLE rooms (room_id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects,
    name TEXT NOT NULL, model TEXT, created DOUBLE PRECISION NOT NULL);
CREATE TABLE commits (room_id TEXT NOT NULL, seq BIGINT NOT NULL, op_id TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (room_id, seq), UNIQUE (room_id, op_id));
CREATE TABLE snapshots (room_id TEXT NOT NULL, seq BIGINT NOT NULL, body TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL, PRIMARY KEY (room_id, seq));
CREATE TABLE accounts (user_id TEXT PRIMARY KEY REFERENCES users,
    admin INTEGER NOT NULL DEFAULT 0, create_projects INTEGER NOT NULL DEFAULT 0);
CREATE TABLE invites (invite_id TEXT PRIMARY KEY, project_id TEXT NOT NULL REFERENCES projects,
    role TEXT NOT NULL, created_by TEXT, created DOUBLE PRECISION NOT NULL,
    expires_at DOUBLE PRECISION NOT NULL, max_uses INTEGER, uses INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0, code_hash TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '');
CREATE INDEX invites_project ON invites(project_id);
CREATE INDEX invites_code ON invites(code_hash);
CREATE TABLE signin_codes (code_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES users,
    expires_at DOUBLE PRECISION NOT NULL);
CREATE TABLE audit (seq BIGSERIAL PRIMARY KEY, project_id TEXT NOT NULL,
    at DOUBLE PRECISION NOT NULL, actor_id TEXT, action TEXT NOT NULL, target_id TEXT,
    detail TEXT NOT NULL DEFAULT '{}');
CREATE INDEX audit_project ON audit(project_id, seq);
"""

#: Every write of a job row notifies channel ``vrcollab_jobs`` with the job id, so each server
#: process relays progress of jobs other processes run (``PostgresCatalog.watch_jobs``).
_PG_JOB_NOTIFY = """
CREATE FUNCTION vrcollab_job_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('vrcollab_jobs', NEW.job_id); RETURN NEW; END $$;
CREATE TRIGGER catalog_jobs_notify AFTER INSERT OR UPDATE ON catalog_jobs
    FOR EACH ROW EXECUTE FUNCTION vrcollab_job_notify();
"""

#: The meeting tables (``vrcollab.meetings.store_postgres``; on SQLite the meeting store creates
#: them itself, ``vrcollab.meetings.store_sqlite``). ``IF NOT EXISTS``: safe in any order.
_PG_MEETINGS = """
CREATE TABLE IF NOT EXISTS meeting_meetings (
    meeting_id TEXT PRIMARY KEY, project_id TEXT NOT NULL, room_id TEXT NOT NULL,
    started DOUBLE PRECISION NOT NULL, ended DOUBLE PRECISION, seq_start BIGINT NOT NULL,
    seq_end BIGINT, recording INTEGER NOT NULL, participants TEXT NOT NULL DEFAULT '[]',
    log_bytes BIGINT NOT NULL DEFAULT 0, model TEXT);
CREATE INDEX IF NOT EXISTS meeting_meetings_project ON meeting_meetings(project_id, started);
CREATE INDEX IF NOT EXISTS meeting_meetings_running ON meeting_meetings(ended)
    WHERE ended IS NULL;
CREATE TABLE IF NOT EXISTS meeting_settings (
    project_id TEXT PRIMARY KEY, recording INTEGER NOT NULL, retention_days DOUBLE PRECISION);
"""

#: Postgres: 1 auth, identity, op log; 2 catalog and jobs with leases; 3 job notifications;
#: 4 project settings; 5 meetings.
POSTGRES_MIGRATIONS: tuple[str, ...] = (
    _PG_BASE,
    _CATALOG.format(real="DOUBLE PRECISION", serial="BIGSERIAL PRIMARY KEY",
                    lease=", worker TEXT, lease_until DOUBLE PRECISION"),
    _PG_JOB_NOTIFY,
    _PROJECT_SETTINGS,
    _PG_MEETINGS,
)


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run ``;``-separated statements inside the current transaction (``executescript``
    would commit it first)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def check_version(stored: int, known: int, where: str) -> None:
    """Refuse a database whose schema is newer than this code's migrations."""
    if stored > known:
        raise SchemaError(
            f"{where} has schema version {stored}, newer than this vrcollab knows ({known}); "
            "run the vrcollab release that wrote it, or restore a backup")


def sqlite_version(db: sqlite3.Connection) -> int:
    """The stored schema version of a SQLite database (0 when empty)."""
    db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate_sqlite(db: sqlite3.Connection, *, where: str = "the database",
                   steps: tuple[SqliteStep, ...] = SQLITE_MIGRATIONS) -> int:
    """Bring a SQLite database (autocommit connection) to the latest version; returns it."""
    db.execute("BEGIN IMMEDIATE")
    try:
        current = sqlite_version(db)
        check_version(current, len(steps), where)
        for version, step in enumerate(steps, start=1):
            if version <= current:
                continue
            if isinstance(step, str):
                _script(db, step)
            else:
                step(db)
            db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value=excluded.value", (str(version),))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return len(steps)


def postgres_version(conn: Any) -> int:
    """The stored schema version of a Postgres database (0 when empty)."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate_postgres(conn: Any, *, where: str = "the database",
                     steps: tuple[str, ...] = POSTGRES_MIGRATIONS) -> int:
    """Bring a Postgres database (a psycopg connection) to the latest version; returns it."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7243001)")
        current = postgres_version(conn)
        check_version(current, len(steps), where)
        for version, sql in enumerate(steps, start=1):
            if version > current:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
    return len(steps)
