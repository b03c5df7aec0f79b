"""SQLite store: the embedded default (one file in ``data_dir``, WAL mode).

Durability: every ``append_commits`` is one transaction, committed before it returns. In WAL mode
``synchronous=FULL`` fsyncs the WAL on every commit, so an acknowledged op survives a power cut;
``NORMAL`` survives a crash of the process (``kill -9``) but may lose the last transactions on a
power cut. The default is FULL (``Settings.sqlite_synchronous``).

One connection serialised by a lock; safe to call from worker threads (the server runs writes in
``asyncio.to_thread`` so fsyncs never block the event loop).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from vrcollab.errors import AuthError, NotFoundError, StoreError
from vrcollab.store.base import (
    Project,
    RoomLoad,
    RoomRecord,
    Store,
    User,
    hash_token,
    new_id,
    new_token,
)
from vrcollab.store.identity_sqlite import SqliteIdentity
from vrcollab.store.sqlite_db import connect
from vrcollab.sync.messages import ROLES, Commit


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


class SqliteStore(SqliteIdentity, Store):
    """Store backed by one SQLite database file."""

    #: The driver's error classes, turned into ``StoreError`` by the query helpers.
    _db_errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: Path | str, *, synchronous: str = "FULL") -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._db = connect(self.path, synchronous=synchronous)  # migrated to the latest schema

    # --- plumbing --------------------------------------------------------------------------

    class _Tx:
        def __init__(self, store: SqliteStore) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._lock.acquire()
            try:
                self.store._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._lock.release()
                raise
            return self.store._db

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            try:
                self.store._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
            finally:
                self.store._lock.release()

    def _tx(self) -> SqliteStore._Tx:
        return SqliteStore._Tx(self)

    def _ready(self) -> None:
        """Called before each read (Postgres reconnects here); nothing to do for SQLite."""

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self._lock:
            try:
                self._ready()
                row: tuple[Any, ...] | None = self._db.execute(sql, args).fetchone()
                return row
            except self._db_errors as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                self._ready()
                return list(self._db.execute(sql, args).fetchall())
            except self._db_errors as exc:
                raise StoreError(f"query failed: {exc}") from exc

    def _write(self, sql: str, args: tuple[Any, ...], conflict: str) -> None:
        try:
            with self._tx() as db:
                db.execute(sql, args)
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"{conflict}: {exc}", code="conflict") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"write failed: {exc}") from exc

    # --- auth domain -----------------------------------------------------------------------

    def create_user(self, name: str) -> User:
        user = User(new_id("u"), name, time.time())
        self._write("INSERT INTO users VALUES (?, ?, ?)", (user.user_id, name, user.created),
                    "user exists")
        return user

    def get_user(self, user_id: str) -> User:
        row = self._one("SELECT user_id, name, created FROM users WHERE user_id=?", (user_id,))
        if row is None:
            raise NotFoundError(f"no user {user_id}")
        return User(*row)

    def create_project(self, name: str, *, project_id: str | None = None) -> Project:
        project = Project(project_id or new_id("p"), name, time.time())
        self._write("INSERT INTO projects VALUES (?, ?, ?)",
                    (project.project_id, name, project.created),
                    f"project {project.project_id} already exists")
        return project

    def get_project(self, project_id: str) -> Project:
        row = self._one("SELECT project_id, name, created FROM projects WHERE project_id=?",
                        (project_id,))
        if row is None:
            raise NotFoundError(f"no project {project_id}")
        return Project(*row)

    def set_member(self, project_id: str, user_id: str, role: str) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.get_project(project_id)
        self.get_user(user_id)
        self._write(
            "INSERT INTO members VALUES (?, ?, ?) ON CONFLICT (project_id, user_id) "
            "DO UPDATE SET role=excluded.role",
            (project_id, user_id, role),
            "membership",
        )

    def get_role(self, project_id: str, user_id: str) -> str | None:
        row = self._one("SELECT role FROM members WHERE project_id=? AND user_id=?",
                        (project_id, user_id))
        return None if row is None else str(row[0])

    def memberships(self, user_id: str) -> dict[str, str]:
        rows = self._all("SELECT project_id, role FROM members WHERE user_id=?", (user_id,))
        return {str(p): str(r) for p, r in rows}

    def members(self, project_id: str) -> dict[str, str]:
        rows = self._all("SELECT user_id, role FROM members WHERE project_id=? ORDER BY user_id",
                         (project_id,))
        return {str(u): str(r) for u, r in rows}

    def create_token(self, user_id: str, *, expires_at: float | None = None,
                     kind: str = "bearer", label: str = "") -> str:
        self.get_user(user_id)
        token = new_token()
        self._write("INSERT INTO tokens (token_hash, user_id, created, expires_at, kind, label) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (hash_token(token), user_id, time.time(), expires_at, kind, label),
                    "token exists")
        return token

    def resolve_token(self, token: str, now: float) -> User:
        row = self._one(
            "SELECT u.user_id, u.name, u.created, t.expires_at FROM tokens t "
            "JOIN users u USING (user_id) WHERE t.token_hash=?",
            (hash_token(token),),
        )
        if row is None:
            raise AuthError("unknown or revoked token")
        if row[3] is not None and now >= row[3]:
            raise AuthError("token expired", code="token_expired")
        return User(row[0], row[1], row[2])

    def revoke_token(self, token: str) -> None:
        self._write("DELETE FROM tokens WHERE token_hash=?", (hash_token(token),), "revoke")

    def create_room(
        self,
        project_id: str,
        name: str,
        *,
        model: dict[str, Any] | None = None,
        room_id: str | None = None,
    ) -> RoomRecord:
        self.get_project(project_id)
        room = RoomRecord(room_id or new_id("r"), project_id, name, model, time.time())
        self._write(
            "INSERT INTO rooms VALUES (?, ?, ?, ?, ?)",
            (room.room_id, project_id, name, None if model is None else _dumps(model),
             room.created),
            f"room {room.room_id} already exists",
        )
        return room

    @staticmethod
    def _room(row: tuple[Any, ...]) -> RoomRecord:
        return RoomRecord(row[0], row[1], row[2], None if row[3] is None else json.loads(row[3]),
                          row[4])

    def get_room(self, room_id: str) -> RoomRecord:
        row = self._one("SELECT room_id, project_id, name, model, created FROM rooms "
                        "WHERE room_id=?", (room_id,))
        if row is None:
            raise NotFoundError(f"no room {room_id}")
        return self._room(row)

    def list_rooms(self, project_id: str) -> list[RoomRecord]:
        rows = self._all("SELECT room_id, project_id, name, model, created FROM rooms "
                         "WHERE project_id=? ORDER BY created, room_id", (project_id,))
        return [self._room(r) for r in rows]

    def set_room_model(self, room_id: str, model: dict[str, Any] | None) -> None:
        self.get_room(room_id)
        self._write("UPDATE rooms SET model=? WHERE room_id=?",
                    (None if model is None else _dumps(model), room_id), "room model")

    # --- op log ----------------------------------------------------------------------------

    def append_commits(self, room_id: str, commits: list[Commit]) -> None:
        if not commits:
            return
        try:
            with self._tx() as db:
                row = db.execute("SELECT MAX(seq) FROM commits WHERE room_id=?",
                                 (room_id,)).fetchone()
                last = row[0] or 0
                for c in commits:
                    if c.seq != last + 1:
                        raise StoreError(f"commit seq {c.seq} does not follow {last}",
                                         code="conflict")
                    last = c.seq
                db.executemany(
                    "INSERT INTO commits (room_id, seq, op_id, body) VALUES (?, ?, ?, ?)",
                    [(room_id, c.seq, c.op_id, _dumps(c.to_json())) for c in commits],
                )
        except sqlite3.IntegrityError as exc:
            raise StoreError(f"op id already committed: {exc}", code="conflict") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write commits: {exc}") from exc

    def commits_since(self, room_id: str, seq: int) -> list[Commit]:
        rows = self._all("SELECT body FROM commits WHERE room_id=? AND seq>? ORDER BY seq",
                         (room_id, seq))
        return [Commit.from_json(json.loads(r[0])) for r in rows]

    def save_snapshot(self, room_id: str, seq: int, snapshot: dict[str, Any]) -> None:
        body = _dumps(snapshot)
        try:
            with self._tx() as db:
                db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)",
                           (room_id, seq, body, time.time()))
                db.execute("DELETE FROM snapshots WHERE room_id=? AND seq<?", (room_id, seq))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write snapshot: {exc}") from exc

    def load_room(self, room_id: str, *, replay_window: int) -> RoomLoad:
        with self._lock:
            row = self._one("SELECT seq, body FROM snapshots WHERE room_id=? "
                            "ORDER BY seq DESC LIMIT 1", (room_id,))
            snap_seq, snap = (0, None) if row is None else (int(row[0]), json.loads(row[1]))
            before_rows = self._all(
                "SELECT body FROM commits WHERE room_id=? AND seq<=? ORDER BY seq DESC LIMIT ?",
                (room_id, snap_seq, max(0, replay_window)),
            )
            ids = self._all("SELECT op_id, seq FROM commits WHERE room_id=?", (room_id,))
            return RoomLoad(
                snapshot=snap,
                snapshot_seq=snap_seq,
                tail=self.commits_since(room_id, snap_seq),
                log_before=[Commit.from_json(json.loads(r[0])) for r in reversed(before_rows)],
                op_seqs={str(a): int(b) for a, b in ids},
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
