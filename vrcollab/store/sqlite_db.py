"""The one SQLite connection helper: every SQLite store opens its file through :func:`connect`.

The connection is in autocommit mode (``isolation_level=None``; callers write ``BEGIN
IMMEDIATE`` ... ``COMMIT`` themselves), shared by threads behind the caller's lock, in WAL
journal mode with foreign keys on and a 30 s busy timeout, and the file is migrated to the
latest schema (:func:`vrcollab.store.migrations.migrate_sqlite`) before it is returned.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from vrcollab.errors import ConfigError, StoreError
from vrcollab.store.migrations import SchemaError, migrate_sqlite

SYNCHRONOUS = ("FULL", "NORMAL", "EXTRA")


def connect(path: Path | str, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """Open (creating if needed) and migrate a SQLite database; ``:memory:`` works too."""
    mode = synchronous.upper()
    if mode not in SYNCHRONOUS:
        raise ConfigError("synchronous must be FULL, NORMAL or EXTRA")
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None,
                             timeout=30.0)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={mode}")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        migrate_sqlite(db, where=str(path))
    except SchemaError:
        db.close()
        raise
    except sqlite3.Error as exc:
        db.close()
        raise StoreError(f"cannot open database {path}: {exc}") from exc
    return db
