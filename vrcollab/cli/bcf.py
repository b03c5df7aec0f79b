"""``vrcollab bcf export|import``: BCF exchange with a room on a running server.

The commands talk to the server's REST API (``--server``, default ``http://HOST:PORT`` from the
settings) with a bearer token (``--token`` or ``VRCOLLAB_TOKEN``), so imports go through the
room's sequenced op path and connected clients see them at once; nothing touches the database
behind the server's back.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import httpx

from vrcollab.cli.common import SubParsers
from vrcollab.errors import AuthError, BcfError, ConfigError, NotFoundError, VrcollabError
from vrcollab.settings import load_settings


def add_bcf_parser(sub: SubParsers) -> None:
    """Register ``bcf export`` and ``bcf import``."""
    p = sub.add_parser("bcf", help="export/import a room's issues as BCF (.bcfzip)")
    bsub = p.add_subparsers(dest="bcf_command", required=True, metavar="ACTION")
    e = bsub.add_parser("export", help="write a room's annotations as a .bcfzip")
    e.add_argument("room", help="room id")
    e.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    e.add_argument("--version", choices=["2.1", "3.0"], default="3.0", help="BCF version")
    i = bsub.add_parser("import", help="add the topics of a .bcfzip to a room")
    i.add_argument("room", help="room id")
    i.add_argument("file", type=Path, help=".bcfzip / .bcf archive")
    for q in (e, i):
        q.add_argument("--server", help="server URL (default http://HOST:PORT of the settings)")
        q.add_argument("--token", help="bearer token (default VRCOLLAB_TOKEN)")
    e.set_defaults(func=run_export)
    i.set_defaults(func=run_import)


def _target(args: argparse.Namespace) -> tuple[str, dict[str, str]]:
    settings = load_settings()
    server = (args.server or settings.public_url
              or f"http://{settings.host}:{settings.port}").rstrip("/")
    token = args.token or settings.token
    if not token:
        raise ConfigError("no token: pass --token or set VRCOLLAB_TOKEN")
    return server, {"Authorization": f"Bearer {token}"}


def _check(r: httpx.Response) -> None:
    if r.status_code < 400:
        return
    try:
        message = str(r.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = r.text[:200]
    if r.status_code in (401, 403):
        raise AuthError(message)
    if r.status_code == 404:
        raise NotFoundError(message)
    if r.status_code == 400:
        raise BcfError(message)
    raise VrcollabError(f"server answered {r.status_code}: {message}")


def run_export(args: argparse.Namespace) -> int:
    """Download the room's BCF archive into ``--output``."""
    server, headers = _target(args)
    try:
        r = httpx.get(f"{server}/api/rooms/{args.room}/bcf", params={"version": args.version},
                      headers=headers, timeout=120)
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach {server}: {exc}") from exc
    _check(r)
    args.output.write_bytes(r.content)
    print(f"wrote {args.output} (BCF {args.version}, {len(r.content)} bytes)")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Upload an archive to the room; prints what was imported and skipped (JSON)."""
    server, headers = _target(args)
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {args.file}: {exc}") from exc
    try:
        r = httpx.post(f"{server}/api/rooms/{args.room}/bcf", content=data, timeout=300,
                       headers={**headers, "Content-Type": "application/octet-stream"})
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach {server}: {exc}") from exc
    _check(r)
    print(json.dumps(r.json(), indent=2))
    return 0
