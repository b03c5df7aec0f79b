"""Run the server and bootstrap access offline.

- ``run(settings)`` starts uvicorn with the app on ``Settings.host``/``port`` (SQLite under
  ``data_dir`` unless ``database_url`` says otherwise); ``python -m vrcollab.server.serve`` too.
- CLI subcommands (registered in :mod:`vrcollab.cli`): ``serve``, ``project create`` and
  ``token create``; the last two write the database directly, so an owner token can be made
  before (or while) the server runs.
- ``serve --https`` (:mod:`vrcollab.server.tls`): HTTPS on ``--port`` (default 8443) with a
  certificate kept in the data dir, and a plain-HTTP listener on ``--http-port`` (default
  8000) that redirects to it; the printed links and QR code (:mod:`vrcollab.server.lan`) use
  the LAN address, never ``0.0.0.0``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import uvicorn

from vrcollab.errors import ConfigError
from vrcollab.server.app import create_app
from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.server.lan import announce, certificate_names, check_public_url, reachable_urls
from vrcollab.server.tls import Certificate, ensure_certificate, given_certificate, start_redirect
from vrcollab.settings import Settings, load_settings
from vrcollab.store import open_store

SubParsers = Any  # argparse._SubParsersAction


HTTPS_PORT = 8443
HTTP_PORT = 8000


def uvicorn_config(settings: Settings, tls: Certificate | None = None) -> uvicorn.Config:
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
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


async def _serve_with_redirect(server: uvicorn.Server, settings: Settings,
                               http_port: int) -> None:
    local, lan = reachable_urls(settings.host, settings.port, https=True)
    fallback = (lan[0] if lan else local).split("://", 1)[1].rsplit(":", 1)[0]
    redirect = await start_redirect(settings.host or "0.0.0.0", http_port, settings.port, fallback)
    try:
        await server.serve()
    finally:
        redirect.close()
        await redirect.wait_closed()


def run(settings: Settings, *, tls: Certificate | None = None,
        http_port: int | None = None) -> None:
    """Serve until interrupted (HTTPS with ``tls``; plus the redirect on ``http_port``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = uvicorn.Server(uvicorn_config(settings, tls))
    local, lan = reachable_urls(settings.host, settings.port, https=tls is not None)
    print(announce(local, lan, ansi=sys.stdout.isatty()), flush=True)
    if tls is not None and tls.ca is not None:
        print(f"certificate: {tls.cert} (issued by {tls.issuer}; the CA to trust once on "
              f"other devices: {tls.ca}, see docs/headset.md)", flush=True)
    if tls is not None and http_port:
        print(f"plain http on port {http_port} redirects to https", flush=True)
        asyncio.run(_serve_with_redirect(server, settings, http_port))
    else:
        server.run()


def _tls(args: argparse.Namespace, settings: Settings) -> Certificate | None:
    """The certificate ``serve`` uses: ``--cert/--key``, or one made and kept in the data dir."""
    if bool(args.cert) != bool(args.key):
        raise ConfigError("--cert and --key go together")
    if args.cert:
        return given_certificate(args.cert, args.key)
    if not args.https:
        return None
    return ensure_certificate(settings.data_dir, certificate_names(settings.host))


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {}
    for key in ("host", "port", "data_dir"):
        value = getattr(args, key, None)
        if value is not None:
            overrides[key] = value
    return load_settings(**overrides)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", dest="data_dir", type=Path,
                   help="database and files (default: VRCOLLAB_DATA_DIR or ./data)")


def add_serve_parser(sub: SubParsers) -> None:
    """``vrcollab serve [--host H] [--port P] [--data-dir D] [--https [--http-port P]]``."""
    p = sub.add_parser("serve", help="run the review server (HTTP + websocket rooms)")
    p.add_argument("--host", help="bind address (default 127.0.0.1; 0.0.0.0 for the LAN)")
    p.add_argument("--port", type=int, help=f"port (default {HTTP_PORT}; {HTTPS_PORT} with "
                   "--https)")
    p.add_argument("--no-demo", action="store_true", help="skip the demo project and sample")
    p.add_argument("--https", action="store_true", help="serve HTTPS (WebXR on a headset needs "
                   "it) with a certificate for this machine's names, made once in the data dir "
                   "(by mkcert when installed)")
    p.add_argument("--cert", type=Path, help="use this PEM certificate (chain) instead")
    p.add_argument("--key", type=Path, help="the PEM private key of --cert")
    p.add_argument("--http-port", dest="http_port", type=int, default=None,
                   help=f"with HTTPS: plain-HTTP port that redirects (default {HTTP_PORT}; "
                   "0 = none)")
    _add_common(p)
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    https = bool(args.https or args.cert)
    if https and args.port is None and load_settings().port == HTTP_PORT:
        args.port = HTTPS_PORT  # VRCOLLAB_PORT unset: HTTPS on 8443, HTTP 8000 redirects
    settings = _settings(args)
    check_public_url(settings.public_url)
    tls = _tls(args, settings)
    http_port = (HTTP_PORT if args.http_port is None else args.http_port) if tls else None
    if tls is not None and http_port == settings.port:
        raise ConfigError(f"--http-port {http_port} is the HTTPS port; pick another (or 0)")
    if not settings.public_url:  # printed links: the LAN address, never a wildcard
        local, lan = reachable_urls(settings.host, settings.port, https=tls is not None)
        settings.public_url = lan[0] if lan and settings.host in ("0.0.0.0", "::") else local
    if not args.no_demo:  # demo project + sample model + room link (vrcollab.demo)
        from vrcollab.demo import announce_demo

        announce_demo(settings)
    run(settings, tls=tls, http_port=http_port)
    return 0


def add_project_parser(sub: SubParsers) -> None:
    """``vrcollab project create --name N [--owner O] [--room R]``: prints ids and owner token."""
    p = sub.add_parser("project", help="create a project with an owner token (offline)")
    psub = p.add_subparsers(dest="project_command", required=True, metavar="ACTION")
    c = psub.add_parser("create", help="create a project, its owner and (optionally) a room")
    c.add_argument("--name", required=True, help="project name")
    c.add_argument("--owner", default="Owner", help="owner's display name")
    c.add_argument("--room", help="also create a room with this name")
    _add_common(c)
    c.set_defaults(func=_project_create)


def _project_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        project, owner, token = bootstrap_project(store, args.name, args.owner)
        out: dict[str, Any] = {"project_id": project.project_id, "user_id": owner.user_id,
                               "role": "owner", "token": token}
        if args.room:
            out["room_id"] = store.create_room(project.project_id, args.room).room_id
    finally:
        store.close()
    print(json.dumps(out, indent=2))
    return 0


def add_token_parser(sub: SubParsers) -> None:
    """``vrcollab token create --project P --role R --name N [--expires-in S]``."""
    p = sub.add_parser("token", help="issue bearer tokens (offline)")
    tsub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    c = tsub.add_parser("create", help="new member with a role, and its bearer token")
    c.add_argument("--project", required=True, help="project id")
    c.add_argument("--role", required=True, choices=["owner", "editor", "reviewer", "viewer"])
    c.add_argument("--name", required=True, help="display name")
    c.add_argument("--expires-in", dest="expires_in", type=float, help="seconds until expiry")
    _add_common(c)
    c.set_defaults(func=_token_create)


def _token_create(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = open_store(settings)
    try:
        expires = None if args.expires_in is None else time.time() + args.expires_in
        user, token = issue_member_token(store, args.project, args.role, args.name,
                                         expires_at=expires)
    finally:
        store.close()
    print(json.dumps({"user_id": user.user_id, "project_id": args.project, "role": args.role,
                      "token": token, "expires_at": expires}, indent=2))
    return 0


if __name__ == "__main__":
    run(Settings())
