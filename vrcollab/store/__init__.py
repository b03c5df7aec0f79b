"""Persistence behind interfaces: memory, SQLite and Postgres backends of one contract.

- :mod:`.base` (auth, rooms, op log) + :mod:`.identity` -> :class:`Store`; :mod:`.catalog`
  (models, versions, files, jobs) -> :class:`~vrcollab.store.catalog.Catalog`.
- :mod:`.factory`: the one factory, ``open_stores(settings)`` (or ``open_store`` /
  ``open_catalog`` for one of the two), chosen by ``Settings.database_url``.
- :mod:`.migrations`: ordered schema migrations of both engines, run at open;
  :mod:`.sqlite_db`: the one SQLite connection helper.
- :mod:`.room_loader`: a live room from a stored one (not re-exported here).

A new backend implements both faces, gets a branch in :func:`~vrcollab.store.factory.engine`,
and must pass ``tests/store``.
"""

from __future__ import annotations

from vrcollab.store.base import AuthStore, RoomStore, Store
from vrcollab.store.factory import Stores, open_catalog, open_store, open_stores, sqlite_path
from vrcollab.store.memory import MemoryStore
from vrcollab.store.sqlite import SqliteStore

__all__ = [
    "AuthStore",
    "MemoryStore",
    "RoomStore",
    "SqliteStore",
    "Store",
    "Stores",
    "open_catalog",
    "open_store",
    "open_stores",
    "sqlite_path",
]
