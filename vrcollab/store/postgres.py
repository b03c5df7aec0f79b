"""Postgres store (``database_url=postgresql://...``): auth, identity, room op log, snapshots.

Reuses the SQL of :class:`vrcollab.store.sqlite.SqliteStore` (the statements are portable)
through a connection adapter that turns ``?`` placeholders into psycopg's ``%s``; the schema,
transactions and the op-log write are Postgres' own. ``append_commits`` is one transaction,
committed before it returns (R9); ``UNIQUE (room_id, op_id)`` and ``PRIMARY KEY (room_id, seq)``
keep op ids and seqs unique per room. Single-use secrets are taken with row locks
(``use_invite``: ``SELECT ... FOR UPDATE``; sign-in codes: ``DELETE ... RETURNING``).
Migrations: :mod:`vrcollab.store.migrations` (ordered, recorded in ``schema_version``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import Any

import psycopg

from vrcollab.errors import AuthError, StoreError
from vrcollab.store.base import hash_token
from vrcollab.store.identity import InviteRecord
from vrcollab.store.identity_sqlite import _INVITE_COLUMNS, _invite
from vrcollab.store.migrations import migrate_postgres
from vrcollab.store.sqlite import SqliteStore, _dumps
from vrcollab.sync.messages import Commit


def migrate(conn: psycopg.Connection[Any]) -> int:
    """Apply the missing migrations in order (:mod:`vrcollab.store.migrations`)."""
    return migrate_postgres(conn)


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to a migrated database (StoreError when it cannot be had)."""
    try:
        conn = psycopg.connect(url, autocommit=True)
    except psycopg.Error as exc:
        raise StoreError(f"cannot open database: {exc}") from exc
    try:
        migrate(conn)
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"cannot migrate database: {exc}") from exc
    except StoreError:
        conn.close()
        raise
    return conn


class _Conn:
    """A psycopg connection that accepts SQLite-style ``?`` placeholders and, once lost (a
    database restart, a failover), reconnects at the next use: the statement that met the dead
    connection fails with StoreError, the ones after it run on a fresh connection."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = connect(url)

    def live(self) -> psycopg.Connection[Any]:
        """The connection, re-opened first when the old one is closed or broken."""
        if self.conn.closed or self.conn.broken:
            try:
                self.conn = psycopg.connect(self.url, autocommit=True)
            except psycopg.Error as exc:
                raise StoreError(f"cannot reach the database: {exc}") from exc
        return self.conn

    def execute(self, sql: str, args: Any = ()) -> psycopg.Cursor[Any]:
        return self.conn.execute(sql.replace("?", "%s"), tuple(args))

    def executemany(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self.conn.cursor() as cur:
            cur.executemany(sql.replace("?", "%s"), rows)


class PostgresStore(SqliteStore):
    """Store in a Postgres database (one connection serialised by a lock)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.RLock()
        self._db = _Conn(url)  # type: ignore[assignment]

    class _PgTx:
        def __init__(self, store: PostgresStore) -> None:
            self.store = store
            self.conn: psycopg.Connection[Any] | None = None

        def __enter__(self) -> _Conn:
            self.store._lock.acquire()
            try:
                self.conn = self.store._pg().live()
                self.conn.execute("BEGIN")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._db  # type: ignore[return-value]

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            conn = self.conn
            assert conn is not None
            try:
                if exc_type is None:
                    if self.store._pg().conn is not conn:  # reconnected mid-transaction
                        raise StoreError("the database connection was lost in a transaction")
                    conn.execute("COMMIT")
                elif not (conn.closed or conn.broken):
                    with contextlib.suppress(psycopg.Error):  # keep the original error
                        conn.execute("ROLLBACK")
            finally:
                self.store._lock.release()

    def _pg(self) -> _Conn:
        return self._db  # type: ignore[return-value]

    def _tx(self) -> Any:
        return PostgresStore._PgTx(self)

    _db_errors = (psycopg.Error,)

    def _ready(self) -> None:
        self._pg().live()

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

    def write_problem(self) -> str | None:
        """Why the database cannot take a write now (None when it can): unreachable, a standby
        in recovery, or read-only (``/api/health`` answers 503 then)."""
        try:
            with self._tx() as db:
                db.execute("SET LOCAL statement_timeout = 2000")
                row = db.execute("SELECT pg_is_in_recovery(), "
                                 "current_setting('transaction_read_only')").fetchone()
        except (StoreError, psycopg.Error) as exc:
            return f"database unreachable: {exc}"
        if row is None or row[0] or row[1] == "on":
            return "database is read-only (a standby, or read-only transactions)"
        return None

    def use_invite(self, invite_id: str, now: float) -> InviteRecord:
        """``SELECT ... FOR UPDATE``: of two processes accepting the last use at once, the
        second waits for the first and then sees the invite used up."""
        try:
            with self._tx() as db:
                row = db.execute(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE invite_id=? "
                                 "FOR UPDATE", (invite_id,)).fetchone()
                if row is None:
                    raise AuthError("unknown invite", code="bad_invite")
                refusal = _invite(row).refusal(now)
                if refusal is not None:
                    raise refusal
                row = db.execute(f"UPDATE invites SET uses = uses + 1 WHERE invite_id=? "
                                 f"RETURNING {_INVITE_COLUMNS}", (invite_id,)).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"cannot use invite: {exc}") from exc
        return _invite(row)

    def use_signin_code(self, code: str, now: float) -> str:
        """``DELETE ... RETURNING``: a sign-in code works once even across processes."""
        try:
            with self._tx() as db:
                row = db.execute("DELETE FROM signin_codes WHERE code_hash=? "
                                 "RETURNING user_id, expires_at", (hash_token(code),)).fetchone()
        except psycopg.Error as exc:
            raise StoreError(f"cannot use sign-in code: {exc}") from exc
        if row is None:
            raise AuthError("unknown or used sign-in link", code="bad_signin")
        if now >= row[1]:
            raise AuthError("sign-in link expired", code="signin_expired")
        return str(row[0])

    def close(self) -> None:
        with self._lock:
            self._pg().conn.close()
