"""Run the server and bootstrap access offline.

- ``run(settings)`` starts uvicorn with the app on ``Settings.host``/``port`` (SQLite under
  ``data_dir`` unless ``database_url`` says otherwise); ``python -m vrcollab.server.serve`` too.
  It first raises the soft open-file limit to the hard one and caps connections to what fits
  (a warning names the shortfall; see docs/api.md "Limits at the edge").
- :func:`announce_owner`: the first start creates the owner account and prints its one-time
  sign-in link.
- The ``serve`` subcommand (:mod:`vrcollab.cli.serve`) turns arguments into settings and calls
  :func:`run`.
- ``serve --https`` (:mod:`vrcollab.server.tls`): HTTPS on ``--port`` (default 8443) with a
  certificate kept in the data dir, and a plain-HTTP listener on ``--http-port`` (default
  8000) that redirects to it; the printed links and QR code (:mod:`vrcollab.server.lan`) use
  the LAN address, never ``0.0.0.0``.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn

from vrcollab.server.app import create_app
from vrcollab.server.auth import ensure_owner_account
from vrcollab.server.edge import guarded_protocol, raise_open_files_limit
from vrcollab.server.lan import announce, link_base, reachable_urls
from vrcollab.server.tls import Certificate, serve_with_redirect
from vrcollab.settings import Settings
from vrcollab.store import open_store


def uvicorn_config(settings: Settings, tls: Certificate | None = None, *,
                   max_connections: int | None = None) -> uvicorn.Config:
    """The uvicorn configuration used by :func:`run` (frame size limit = max_message_bytes).

    HTTP is uvicorn's h11 protocol guarded by :mod:`vrcollab.server.edge` (connection caps,
    header timeout and size); idle keep-alive connections close after ``keep_alive_timeout_s``.
    With ``tls``, uvicorn serves HTTPS with that certificate and key.
    """
    return uvicorn.Config(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        http=guarded_protocol(settings, max_connections=max_connections),
        h11_max_incomplete_event_size=settings.max_header_bytes + 4096,
        timeout_keep_alive=settings.keep_alive_timeout_s,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes,
        # per-message deflate off: compressing the shared poses frame once per receiver and
        # tick costs more CPU than the room has (docs/sync.md), and a negotiated extension
        # would also rule out the shared-frame fast path (vrcollab.server.frames_out)
        ws_per_message_deflate=False,
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


def announce_owner(settings: Settings) -> str | None:
    """First start: create the owner account and print its one-time sign-in link."""
    store = open_store(settings)
    try:
        made = ensure_owner_account(store)
    finally:
        store.close()
    if made is None:
        return None
    link = f"{link_base(settings)}/signin?code={made[1]}"
    print(f"owner sign-in link (one-time, 24 h): {link}", flush=True)
    return link


def run(settings: Settings, *, tls: Certificate | None = None,
        http_port: int | None = None) -> None:
    """Serve until interrupted (HTTPS with ``tls``; plus the redirect on ``http_port``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    announce_owner(settings)  # first start: the owner account and its one-time sign-in link
    cap = raise_open_files_limit(settings.max_connections)
    server = uvicorn.Server(uvicorn_config(settings, tls, max_connections=cap))
    local, lan = reachable_urls(settings.host, settings.port, https=tls is not None)
    # a QR code when another device could use it (a LAN address, or HTTPS for headsets)
    print(announce(local, lan, ansi=sys.stdout.isatty(), qr=bool(lan) or tls is not None),
          flush=True)
    if tls is not None and tls.ca is not None:
        print(f"certificate: {tls.cert} (issued by {tls.issuer}; the CA to trust once on "
              f"other devices: {tls.ca}, see docs/headset.md)", flush=True)
    if tls is not None and http_port:
        print(f"plain http on port {http_port} redirects to https", flush=True)
        asyncio.run(serve_with_redirect(server, settings.host, settings.port, http_port))
    else:
        server.run()


if __name__ == "__main__":
    run(Settings())
