"""Postgres implementation of :class:`vrcollab.meetings.store.MeetingStore`
(``database_url=postgresql://...``).

The tables are created by the store's migrations (``vrcollab.store.migrations``, the meetings
step), in the one database every process shares, so a meeting started through one process is
listed, finished and purged by any other. The SQL of
:class:`~vrcollab.meetings.store_sqlite.SqliteMeetingStore` is portable and reused through the
``?`` -> ``%s`` connection adapter of :mod:`vrcollab.store.postgres`; every statement commits on
its own (autocommit), a lost connection is re-opened at the next statement, and driver errors
become :class:`~vrcollab.errors.StoreError`.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from vrcollab.errors import StoreError
from vrcollab.meetings.store_sqlite import SqliteMeetingStore
from vrcollab.store.postgres import _Conn


class _Live:
    """The adapter's ``execute`` on a live connection, with typed errors."""

    def __init__(self, url: str) -> None:
        try:
            self.db = _Conn(url)  # migrates the database (the meeting tables among them)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open the meeting tables: {exc}") from exc

    def execute(self, sql: str, args: Any = ()) -> psycopg.Cursor[Any]:
        try:
            self.db.live()
            return self.db.execute(sql, args)
        except psycopg.Error as exc:
            raise StoreError(f"meeting database error: {exc}") from exc

    def close(self) -> None:
        self.db.conn.close()


class PostgresMeetingStore(SqliteMeetingStore):
    """Meeting tables in a Postgres database (one connection per process, behind a lock)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._db = _Live(url)  # type: ignore[assignment]
