"""Postgres implementation of the model catalog (``database_url=postgresql://...``).

The SQL of :class:`vrcollab.store.catalog_sqlite.SqliteCatalog` is portable and reused through
the ``?`` -> ``%s`` adapter of :mod:`vrcollab.store.postgres`; what is Postgres' own is the
connection, transactions (nested ones become savepoints) and the job claim: the next queued job
is picked and locked with ``SELECT ... FOR UPDATE SKIP LOCKED`` and set ``running`` in the same
statement, so any number of server processes claim from one queue without taking a job twice
or waiting on each other. A trigger notifies ``vrcollab_jobs`` on every job write, and
:meth:`PostgresCatalog.watch_jobs` relays those to the process's job events, so progress of a
job converting in one process reaches clients connected to any other.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from vrcollab.errors import StoreError
from vrcollab.store.catalog import JobRecord
from vrcollab.store.catalog_sqlite import _JOB_COLUMNS, CLAIM_ORDER, SqliteCatalog
from vrcollab.store.postgres import _Conn

log = logging.getLogger("vrcollab.store")
CHANNEL = "vrcollab_jobs"  # notified by a trigger on every job write (migration 3)


class PostgresCatalog(SqliteCatalog):
    """Catalog tables in a Postgres database (one connection per process, behind a lock)."""

    def __init__(self, url: str) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._url = url
        self._db = _Conn(url)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        with self._lock:
            try:
                conn = self._db.live() if self._depth == 0 else self._db.conn
                self._depth += 1
                try:
                    with conn.transaction():
                        yield self._db
                finally:
                    self._depth -= 1
            except psycopg.Error as exc:
                raise StoreError(f"catalog database error: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[Any]:
        with self._lock:
            try:
                if self._depth == 0:  # never reconnect inside a transaction
                    self._db.live()
                yield self._db
            except psycopg.Error as exc:
                raise StoreError(f"catalog database error: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._db.conn.close()

    def watch_jobs(self, on_change: Callable[[str], None]) -> Callable[[], None] | None:
        """``LISTEN vrcollab_jobs`` on a connection of its own, in a daemon thread (reconnects
        after a database restart)."""
        stop = threading.Event()

        def run() -> None:
            while not stop.is_set():
                try:
                    with psycopg.connect(self._url, autocommit=True) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        while not stop.is_set():
                            for note in conn.notifies(timeout=0.5):
                                try:
                                    on_change(note.payload)
                                except Exception:  # a listener's bug must not end the feed
                                    log.exception("job change listener failed")
                except psycopg.Error as exc:
                    log.warning("job notifications interrupted (%s); reconnecting", exc)
                    stop.wait(1.0)

        thread = threading.Thread(target=run, name="vrcollab-job-notify", daemon=True)
        thread.start()

        def cancel() -> None:
            stop.set()
            thread.join(timeout=5)

        return cancel

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
