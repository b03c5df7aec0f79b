"""The one store factory: ``Settings.database_url`` -> the stores every entry point uses.

``vrcollab serve``, every CLI command and the demo open their stores here, so one environment
(``VRCOLLAB_DATABASE_URL``, ``VRCOLLAB_DATA_DIR``) means one database for all of them:

========================  =========================================================
``database_url``          engine
========================  =========================================================
``''``                    SQLite file ``<data_dir>/vrcollab.sqlite3`` (the default)
``sqlite:///path``        SQLite file at ``path``
``memory://``             in memory (tests, throwaway servers; nothing survives)
``postgresql://...``      Postgres (``postgres://`` too; needs the ``postgres`` extra)
========================  =========================================================

Each backend has the same two faces, checked by the contract suites in ``tests/store``:
:class:`~vrcollab.store.base.Store` (auth, identity, rooms, op log, snapshots) and
:class:`~vrcollab.store.catalog.Catalog` (models, versions, files, conversion jobs). Both live
in one database; opening either migrates it (:mod:`vrcollab.store.migrations`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from vrcollab.errors import ConfigError
from vrcollab.settings import Settings
from vrcollab.store.base import Store
from vrcollab.store.catalog import Catalog

Engine = Literal["memory", "sqlite", "postgres"]


@dataclass(frozen=True)
class Stores:
    """The store and catalog of one database."""

    store: Store
    catalog: Catalog

    def close(self) -> None:
        """Close both."""
        self.catalog.close()
        self.store.close()


def engine(settings: Settings) -> tuple[Engine, str]:
    """The engine ``database_url`` names and where (a file path or the URL itself)."""
    url = settings.database_url
    if url == "memory://":
        return "memory", ""
    if url == "":
        return "sqlite", str(settings.data_dir / "vrcollab.sqlite3")
    if url.startswith("sqlite:///"):
        return "sqlite", url[len("sqlite:///"):]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres", url
    raise ConfigError(f"unsupported database_url {url!r} "
                      "(use '', sqlite:///path, postgresql://... or memory://)")


def sqlite_path(settings: Settings) -> str:
    """The SQLite file used when ``database_url`` is empty or ``sqlite:///path``."""
    kind, where = engine(settings)
    if kind != "sqlite":
        raise ConfigError(f"database_url {settings.database_url!r} is not a SQLite file")
    return where


def open_store(settings: Settings) -> Store:
    """The auth/room store of ``database_url``."""
    kind, where = engine(settings)
    if kind == "memory":
        from vrcollab.store.memory import MemoryStore

        return MemoryStore()
    if kind == "sqlite":
        from vrcollab.store.sqlite import SqliteStore

        return SqliteStore(where, synchronous=settings.sqlite_synchronous)
    from vrcollab.store.postgres import PostgresStore

    return PostgresStore(where)


def open_catalog(settings: Settings) -> Catalog:
    """The model catalog (and job queue) of ``database_url``."""
    kind, where = engine(settings)
    if kind == "memory":
        from vrcollab.store.catalog import MemoryCatalog

        return MemoryCatalog()
    if kind == "sqlite":
        from vrcollab.store.catalog_sqlite import SqliteCatalog

        return SqliteCatalog(where, synchronous=settings.sqlite_synchronous)
    from vrcollab.store.catalog_postgres import PostgresCatalog

    return PostgresCatalog(where)


def open_stores(settings: Settings) -> Stores:
    """Store and catalog together (close with :meth:`Stores.close`)."""
    store = open_store(settings)
    try:
        return Stores(store, open_catalog(settings))
    except BaseException:
        store.close()
        raise
