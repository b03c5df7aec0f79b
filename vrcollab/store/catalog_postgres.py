"""Postgres implementation of the model catalog (``database_url=postgresql://...``).

The SQL of :class:`vrcollab.store.catalog_sqlite.SqliteCatalog` is portable and reused through
the ``?`` -> ``%s`` adapter of :mod:`vrcollab.store.postgres`; what is Postgres' own is the
connection, transactions (nested ones become savepoints) and the job claim: the next queued job
is picked and locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` and set ``running`` in the same
statement, so any number of server processes claim from one queue without taking a job twice
or waiting on each other.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from vrcollab.errors import StoreError
from vrcollab.store.catalog import JobRecord
from vrcollab.store.catalog_sqlite import _JOB_COLUMNS, CLAIM_ORDER, SqliteCatalog
from vrcollab.store.postgres import _Conn, connect


class PostgresCatalog(SqliteCatalog):
    """Catalog tables in a Postgres database (one connection per process, behind a lock)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._pg = connect(url)
        self._db = _Conn(self._pg)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            try:
                with self._pg.transaction():
                    yield self._db
            except psycopg.Error as exc:
                raise StoreError(f"catalog database error: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            try:
                yield self._db
            except psycopg.Error as exc:
                raise StoreError(f"catalog database error: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._pg.close()

    def claim_next_job(self, *, worker: str | None = None,
                       lease_s: float | None = None) -> JobRecord | None:
        now = time.time()
        with self._tx() as db:
            row = db.execute(
                "WITH pick AS (SELECT q.seq FROM catalog_jobs q WHERE q.status = 'queued' "
                f"{CLAIM_ORDER} LIMIT 1 FOR UPDATE SKIP LOCKED) "
                "UPDATE catalog_jobs j SET status = 'running', attempts = j.attempts + 1, "
                "started = ?, updated = ?, worker = ?, lease_until = ? FROM pick "
                f"WHERE j.seq = pick.seq RETURNING {_qualified('j')}",
                (now, now, worker, None if lease_s is None else now + lease_s),
            ).fetchone()
        return None if row is None else JobRecord(*row)


def _qualified(alias: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in _JOB_COLUMNS.split(","))
