"""Run the server: ``run(settings)`` starts uvicorn with the app on Settings.host/port."""

from __future__ import annotations

import logging

import uvicorn

from vrcollab.server.app import create_app
from vrcollab.settings import Settings


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    """The uvicorn configuration used by :func:`run` (frame size limit = max_message_bytes)."""
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def run(settings: Settings) -> None:
    """Serve until interrupted (SQLite under ``data_dir`` unless ``database_url`` says else)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = uvicorn.Server(uvicorn_config(settings))
    print(f"vrcollab serving on http://{settings.host}:{settings.port}", flush=True)
    server.run()


if __name__ == "__main__":
    run(Settings())
