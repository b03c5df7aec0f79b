"""The server's one services container and its one lifespan.

:func:`open_services` builds every shared service from the settings: the store (auth domain and
room log), the live-room hub, the catalog, the asset store and the conversion job runner with
its events. :func:`create_app <vrcollab.server.app.create_app>` keeps the container on
``app.state.services``; routes reach it through the dependencies of :mod:`vrcollab.server.deps`.
:func:`lifespan` starts the hub and the runner when the app starts and stops and closes them, in
reverse order, when it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from vrcollab.assets import AssetStore
from vrcollab.jobs import JobEvents, JobRunner
from vrcollab.server.hub import RoomHub
from vrcollab.server.rate_limits import FailureLimiter
from vrcollab.settings import Settings
from vrcollab.store import Store, open_catalog, open_store
from vrcollab.store.catalog import Catalog


@dataclass
class Services:
    """Everything the routers share: settings, store, live rooms, catalog, blobs, jobs and the
    failed-attempt limiter."""

    settings: Settings
    store: Store
    hub: RoomHub
    catalog: Catalog
    assets: AssetStore
    events: JobEvents
    runner: JobRunner
    auth_limiter: FailureLimiter
    own_store: bool = True

    def close(self) -> None:
        """Stop the runner, close the catalog and (when opened here) the store."""
        self.runner.stop()
        self.catalog.close()
        if self.own_store:
            self.store.close()


def conversion_options(settings: Settings) -> dict[str, Any]:
    """Ingest limits passed to every conversion (plain values: they cross a process boundary).

    The CLI's ``convert`` and the job worker both build :class:`vrcollab.ingest.limits.Limits` with
    :meth:`Limits.from_settings <vrcollab.ingest.limits.Limits.from_settings>`, the one mapping
    from settings to conversion limits."""
    from vrcollab.ingest.limits import Limits

    return dataclasses.asdict(Limits.from_settings(settings))


def open_services(settings: Settings, *, store: Store | None = None,
                  catalog: Catalog | None = None) -> Services:
    """All services of ``settings``: ``store`` and ``catalog`` default to the ones the settings
    name (:mod:`vrcollab.store.factory`; closed by :meth:`Services.close`); assets live in
    ``Settings.assets_path`` (``assets_dir``, default ``data_dir/assets``),
    job work dirs in ``data_dir/jobs``."""
    own_store = store is None
    the_store = store if store is not None else open_store(settings)
    data = Path(settings.data_dir)
    cat = catalog if catalog is not None else open_catalog(settings)
    assets = AssetStore(settings.assets_path)
    assets.purge_temp()
    events = JobEvents()
    runner = JobRunner(
        catalog=cat,
        assets=assets,
        work_dir=data / "jobs",
        timeout_s=settings.job_timeout_s,
        workers=settings.job_workers,
        converter=settings.job_converter,
        options=conversion_options(settings),
        events=events,
        max_attempts=settings.job_max_attempts,
        lease_s=settings.job_lease_s,
    )
    return Services(settings=settings, store=the_store, hub=RoomHub(the_store, settings),
                    catalog=cat, assets=assets, events=events, runner=runner,
                    auth_limiter=FailureLimiter(settings.auth_max_failures,
                                                settings.auth_failure_window_s),
                    own_store=own_store)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the live-room hub (on this event loop) and the job runner; on shutdown close the
    rooms, stop the runner and close what :func:`open_services` opened."""
    services: Services = app.state.services
    services.hub = RoomHub(services.store, services.settings)  # bound to the running loop
    services.hub.start()
    services.runner.start()
    from vrcollab.cluster.broker import open_job_relay
    from vrcollab.meetings.runtime import meetings_running

    relay = open_job_relay(services.settings, services.events)  # None unless needed
    try:
        async with meetings_running(app.state, services.hub, services.settings):
            yield
    finally:
        try:
            if relay is not None:
                await relay.close()
            await services.hub.shutdown()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(services.close)
