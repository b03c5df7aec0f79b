"""``vrcollab project create --name N [--owner O] [--room R]``: a project, its owner and its
owner token, written to the database directly (offline: before or while the server runs)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from vrcollab.cli.common import SubParsers, add_data_dir, settings_from
from vrcollab.server.auth import bootstrap_project
from vrcollab.store import open_store


def add_project_parser(sub: SubParsers) -> None:
    """``vrcollab project create --name N [--owner O] [--room R]``: prints ids and owner token."""
    p = sub.add_parser("project", help="create a project with an owner token (offline)")
    psub = p.add_subparsers(dest="project_command", required=True, metavar="ACTION")
    c = psub.add_parser("create", help="create a project, its owner and (optionally) a room")
    c.add_argument("--name", required=True, help="project name")
    c.add_argument("--owner", default="Owner", help="owner's display name")
    c.add_argument("--room", help="also create a room with this name")
    add_data_dir(c)
    c.set_defaults(func=_project_create)


def _project_create(args: argparse.Namespace) -> int:
    settings = settings_from(args)
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
