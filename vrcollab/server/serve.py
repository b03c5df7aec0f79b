"""Run the server and bootstrap access offline.

- ``run(settings)`` starts uvicorn with the app on ``Settings.host``/``port`` (SQLite under
  ``data_dir`` unless ``database_url`` says otherwise); ``python -m vrcollab.server.serve`` too.
  It first raises the soft open-file limit to the hard one and caps connections to what fits
  (a warning names the shortfall; see docs/api.md "Limits at the edge").
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

from vrcollab.server.app import create_app
from vrcollab.server.auth import bootstrap_project, issue_member_token
from vrcollab.server.edge import guarded_protocol, raise_open_files_limit
from vrcollab.server.lan import announce, public_base, reachable_urls
from vrcollab.server.tls import (
    HTTP_PORT,
    HTTPS_PORT,
    Certificate,
    add_https_arguments,
    certificate_from_args,
    serve_with_redirect,
)
from vrcollab.settings import Settings, load_settings
from vrcollab.store import open_store

SubParsers = Any  # argparse._SubParsersAction


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
        ws_ping_interval=20.0,
        ws_ping_timeout=20.0,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )


def run(settings: Settings, *, tls: Certificate | None = None,
        http_port: int | None = None) -> None:
    """Serve until interrupted (HTTPS with ``tls``; plus the redirect on ``http_port``)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from vrcollab.server.people_cli import announce_owner

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
    p.add_argument("--voice", choices=("mesh", "janus"),
                   help="voice transport (VRCOLLAB_VOICE); janus starts a local janus when "
                        "VRCOLLAB_VOICE_JANUS_URL is unset (docs/voice.md)")
    add_https_arguments(p)
    _add_common(p)
    p.set_defaults(func=_serve)


def _serve(args: argparse.Namespace) -> int:
    if (args.https or args.cert) and args.port is None and load_settings().port == HTTP_PORT:
        args.port = HTTPS_PORT  # VRCOLLAB_PORT unset: HTTPS on 8443, HTTP 8000 redirects
    settings = _settings(args)
    tls, http_port = certificate_from_args(args, settings.data_dir, settings.host, settings.port)
    # printed links (the demo's too): the LAN address or localhost, never a wildcard
    settings.public_url = public_base(settings.public_url, settings.host, settings.port,
                                      https=tls is not None)
    if not args.no_demo:  # demo project + sample model + room link (vrcollab.demo)
        from vrcollab.demo import announce_demo

        announce_demo(settings)
    from vrcollab.voice.janus_process import serve_with_voice

    janus = serve_with_voice(settings, getattr(args, "voice", None))
    try:
        run(settings, tls=tls, http_port=http_port)
    finally:
        if janus is not None:
            janus.stop()
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
    from vrcollab.server.people_cli import add_token_actions

    add_token_actions(tsub)  # token list | revoke


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
