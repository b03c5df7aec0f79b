"""Postgres store (``database_url=postgresql://...``): auth, identity, room op log, snapshots.

Reuses the SQL of :class:`vrcollab.store.sqlite.SqliteStore` (the statements are portable)
through a connection adapter that turns ``?`` placeholders into psycopg's ``%s``; the schema,
transactions and the op-log write are Postgres' own. ``append_commits`` is one transaction,
committed before it returns (R9); ``UNIQUE (room_id, op_id)`` and ``PRIMARY KEY (room_id, seq)``
keep op ids and seqs unique per room. Migrations are ordered and recorded in ``schema_version``.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import psycopg

from vrcollab.errors import StoreError
from vrcollab.store.sqlite import SqliteStore, _dumps
from vrcollab.sync.messages import Commit

#: Ordered migrations; entry i brings the schema to version i + 1.
MIGRATIONS: tuple[str, ...] = (
    """
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
    """,
)


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the missing migrations in order, under an advisory lock; the schema version."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(7243001)")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = int(row[0]) if row and row[0] is not None else 0
        for version, sql in enumerate(MIGRATIONS, start=1):
            if version > current:
                conn.execute(sql)
                conn.execute("INSERT INTO schema_version VALUES (%s)", (version,))
    return len(MIGRATIONS)


class _Conn:
    """A psycopg connection that accepts SQLite-style ``?`` placeholders."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, args: Any = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(sql.replace("?", "%s"), tuple(args))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)


class PostgresStore(SqliteStore):
    """Store in a Postgres database (one connection serialised by a lock)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.RLock()
        try:
            self._pg = psycopg.connect(url, autocommit=True)
            migrate(self._pg)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open database: {exc}") from exc
        self._db = _Conn(self._pg)  # type: ignore[assignment]

    class _PgTx:
        def __init__(self, store: PostgresStore) -> None:
            self.store = store

        def __enter__(self) -> _Conn:
            self.store._lock.acquire()
            try:
                self.store._pg.execute("BEGIN")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._db  # type: ignore[return-value]

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            try:
                self.store._pg.execute("COMMIT" if exc_type is None else "ROLLBACK")
            finally:
                self.store._lock.release()

    def _tx(self) -> Any:
        return PostgresStore._PgTx(self)

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            try:
                row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
                return row
            except psycopg.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._db.execute(sql, args).fetchall())
            except psycopg.Error as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _write(self, sql: str, args: tuple[Any, ...], conflict: str) -> None:
        try:
            with self._tx() as db:
                db.execute(sql, args)
        except psycopg.errors.IntegrityError as exc:
            raise StoreError(f"{conflict}: {exc}", code="conflict") from exc
        except psycopg.Error as exc:
            raise StoreError(f"write failed: {exc}") from exc

    def append_commits(self, room_id: str, commits: list[Commit]) -> None:
        if not commits:
            return
        try:
            with self._tx() as db:
                db.execute("SELECT pg_advisory_xact_lock(hashtext(?))", (room_id,))
                row = db.execute("SELECT MAX(seq) FROM commits WHERE room_id=?",
                                 (room_id,)).fetchone()
                last = (row[0] if row else None) or 0
                for c in commits:
                    if c.seq != last + 1:
                        raise StoreError(f"commit seq {c.seq} does not follow {last}",
                                         code="conflict")
                    last = c.seq
                db.executemany(
                    "INSERT INTO commits (room_id, seq, op_id, body) VALUES (?, ?, ?, ?)",
                    [(room_id, c.seq, c.op_id, _dumps(c.to_json())) for c in commits],
                )
        except psycopg.errors.IntegrityError as exc:
            raise StoreError(f"op id already committed: {exc}", code="conflict") from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot write commits: {exc}") from exc

    def save_snapshot(self, room_id: str, seq: int, snapshot: dict[str, Any]) -> None:
        body = json.dumps(snapshot, separators=(",", ":"), allow_nan=False)
        try:
            with self._tx() as db:
                db.execute("INSERT INTO snapshots VALUES (?, ?, ?, ?) ON CONFLICT (room_id, seq) "
                           "DO UPDATE SET body=excluded.body, created=excluded.created",
                           (room_id, seq, body, time.time()))
                db.execute("DELETE FROM snapshots WHERE room_id=? AND seq<?", (room_id, seq))
        except psycopg.Error as exc:
            raise StoreError(f"cannot write snapshot: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._pg.close()
