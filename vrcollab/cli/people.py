"""CLI for people (offline, on the database like ``project create``):

- ``vrcollab member list|role|remove --project P [--user U] [--role R]``
- ``vrcollab invite create|list|revoke --project P ...``
- ``vrcollab token create --project P --role R --name N [--expires-in S]``,
  ``vrcollab token list --user U`` and ``vrcollab token revoke TOKEN_ID``
- ``vrcollab account signin-link [--user U]`` (a new one-time link for the owner or a user) and
  ``vrcollab account grant --user U [--admin] [--no-create-projects]``

Settings come from the environment (:func:`vrcollab.settings.load_settings`) and ``--data-dir``.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from vrcollab.cli.common import SubParsers, add_data_dir, settings_from
from vrcollab.errors import ConfigError, NotFoundError
from vrcollab.server.auth import (
    change_member,
    check_role,
    ensure_owner_account,
    issue_invite,
    issue_member_token,
    secret_key,
    signin_code,
)
from vrcollab.server.lan import link_base
from vrcollab.server.schemas import invite_json
from vrcollab.settings import Settings
from vrcollab.store import Store, open_store
from vrcollab.sync.messages import ROLES


def _run(args: argparse.Namespace, action: Any) -> int:
    settings = settings_from(args)
    store = open_store(settings)
    try:
        out = action(store, settings)
    finally:
        store.close()
    print(json.dumps(out, indent=2))
    return 0


def _owner_of(store: Store, project_id: str) -> Any:
    for user, role in store.list_members(project_id):
        if role == "owner":
            return user
    raise NotFoundError(f"project {project_id} has no owner")


# --- member ----------------------------------------------------------------------------------


def add_member_parser(sub: SubParsers) -> None:
    """``vrcollab member list|role|remove``."""
    p = sub.add_parser("member", help="list project members, change roles, remove members")
    msub = p.add_subparsers(dest="member_command", required=True, metavar="ACTION")
    ls = msub.add_parser("list", help="members and roles")
    ls.add_argument("--project", required=True)
    role = msub.add_parser("role", help="change a member's role")
    role.add_argument("--project", required=True)
    role.add_argument("--user", required=True, help="user id")
    role.add_argument("--role", required=True, choices=ROLES[::-1])
    rm = msub.add_parser("remove", help="remove a member (its live connections close)")
    rm.add_argument("--project", required=True)
    rm.add_argument("--user", required=True, help="user id")
    for q in (ls, role, rm):
        add_data_dir(q)
    ls.set_defaults(func=lambda a: _run(a, lambda s, _: [
        {"user_id": u.user_id, "name": u.name, "role": r} for u, r in s.list_members(a.project)]))
    role.set_defaults(func=lambda a: _run(a, lambda s, _: _member_change(s, a, a.role)))
    rm.set_defaults(func=lambda a: _run(a, lambda s, _: _member_change(s, a, None)))


def _member_change(store: Store, args: argparse.Namespace, role: str | None) -> dict[str, Any]:
    actor = _owner_of(store, args.project)
    previous = change_member(store, args.project, actor, args.user, role)
    return {"project_id": args.project, "user_id": args.user, "previous_role": previous,
            "role": role, "removed": role is None}


# --- invite ----------------------------------------------------------------------------------


def add_invite_parser(sub: SubParsers) -> None:
    """``vrcollab invite create|list|revoke``."""
    p = sub.add_parser("invite", help="create, list and revoke project invites")
    isub = p.add_subparsers(dest="invite_command", required=True, metavar="ACTION")
    c = isub.add_parser("create", help="a new invite (single-use by default)")
    c.add_argument("--project", required=True)
    c.add_argument("--role", default="reviewer", choices=ROLES[::-1])
    c.add_argument("--expires-in", dest="expires_in", type=float, default=7 * 24 * 3600,
                   help="seconds (default 7 days)")
    c.add_argument("--uses", type=int, default=1, help="number of uses (0: unlimited)")
    c.add_argument("--label", default="")
    ls = isub.add_parser("list", help="invites with uses and status")
    ls.add_argument("--project", required=True)
    rv = isub.add_parser("revoke", help="revoke an invite")
    rv.add_argument("--project", required=True)
    rv.add_argument("invite_id")
    for q in (c, ls, rv):
        add_data_dir(q)
    c.set_defaults(func=lambda a: _run(a, lambda s, st: _invite_create(s, st, a)))
    ls.set_defaults(func=lambda a: _run(a, lambda s, _: _invite_list(s, a.project)))
    rv.set_defaults(func=lambda a: _run(a, lambda s, _: _invite_revoke(s, a)))


def _invite_create(store: Store, settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    check_role(args.role)
    if args.uses < 0:
        raise ConfigError("--uses must be 0 (unlimited) or more")
    owner = _owner_of(store, args.project)
    token, code, inv = issue_invite(
        store, secret_key(settings), args.project, args.role, created_by=owner.user_id,
        expires_in_s=args.expires_in, max_uses=args.uses or None, label=args.label)
    base = link_base(settings)
    return {"invite_id": inv.invite_id, "url": f"{base}/join?invite={token}", "code": code,
            "invite": token, "role": inv.role, "expires_at": inv.expires_at,
            "max_uses": inv.max_uses}


def _invite_list(store: Store, project_id: str) -> list[dict[str, Any]]:
    store.get_project(project_id)
    return [invite_json(i, time.time()) for i in store.list_invites(project_id)]


def _invite_revoke(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    inv = store.get_invite(args.invite_id)
    if inv.project_id != args.project:
        raise NotFoundError(f"no invite {args.invite_id} in {args.project}")
    store.revoke_invite(inv.invite_id)
    store.audit(args.project, None, "invite.revoked", detail={"invite_id": inv.invite_id,
                                                              "via": "cli"})
    return {"invite_id": inv.invite_id, "revoked": True}


# --- token create / list / revoke -------------------------------------------------------------


def add_token_parser(sub: SubParsers) -> None:
    """``vrcollab token create --project P --role R --name N [--expires-in S]``."""
    p = sub.add_parser("token", help="issue bearer tokens (offline)")
    tsub = p.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    c = tsub.add_parser("create", help="new member with a role, and its bearer token")
    c.add_argument("--project", required=True, help="project id")
    c.add_argument("--role", required=True, choices=ROLES[::-1])
    c.add_argument("--name", required=True, help="display name")
    c.add_argument("--expires-in", dest="expires_in", type=float, help="seconds until expiry")
    add_data_dir(c)
    c.set_defaults(func=_token_create)
    add_token_actions(tsub)  # token list | revoke


def _token_create(args: argparse.Namespace) -> int:
    settings = settings_from(args)
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




def add_token_actions(tsub: SubParsers) -> None:
    """``token list --user U`` and ``token revoke TOKEN_ID`` on the existing ``token`` parser."""
    ls = tsub.add_parser("list", help="a user's tokens and sessions (ids, no secrets)")
    ls.add_argument("--user", required=True, help="user id")
    rv = tsub.add_parser("revoke", help="revoke a token or session by id (or --user: all)")
    rv.add_argument("token_id", nargs="?", help="16 hex digits from 'token list'")
    rv.add_argument("--user", help="revoke every token of this user")
    for q in (ls, rv):
        add_data_dir(q)
    ls.set_defaults(func=lambda a: _run(a, lambda s, _: [
        {"token_id": t.token_id, "kind": t.kind, "label": t.label, "created": t.created,
         "expires_at": t.expires_at} for t in s.list_tokens(a.user)]))
    rv.set_defaults(func=lambda a: _run(a, lambda s, _: _token_revoke(s, a)))


def _token_revoke(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    if args.user:
        return {"user_id": args.user, "revoked": store.revoke_user_tokens(args.user)}
    if not args.token_id:
        raise ConfigError("give a token id or --user")
    if not store.revoke_token_id(args.token_id):
        raise NotFoundError(f"no token {args.token_id}")
    return {"token_id": args.token_id, "revoked": True}


# --- account ---------------------------------------------------------------------------------


def add_account_parser(sub: SubParsers) -> None:
    """``vrcollab account signin-link|grant``."""
    p = sub.add_parser("account", help="sign-in links and account permissions")
    asub = p.add_subparsers(dest="account_command", required=True, metavar="ACTION")
    link = asub.add_parser("signin-link", help="a one-time browser sign-in link")
    link.add_argument("--user", help="user id (default: the first admin, the owner)")
    grant = asub.add_parser("grant", help="set account permissions")
    grant.add_argument("--user", required=True)
    grant.add_argument("--admin", action="store_true")
    grant.add_argument("--no-create-projects", dest="create", action="store_false")
    for q in (link, grant):
        add_data_dir(q)
    link.set_defaults(func=lambda a: _run(a, lambda s, st: _signin_link(s, st, a.user)))
    grant.set_defaults(func=lambda a: _run(a, lambda s, _: _grant(s, a)))


def _signin_link(store: Store, settings: Settings, user_id: str | None) -> dict[str, Any]:
    if user_id is None:
        made = ensure_owner_account(store)
        user_id = made[0].user_id if made is not None else _first_admin(store)
    code = signin_code(store, user_id)
    return {"user_id": user_id, "url": f"{link_base(settings)}/signin?code={code}"}


def _first_admin(store: Store) -> str:
    found = store.first_admin()
    if found is None:
        raise NotFoundError("no admin account; give --user")
    return found


def _grant(store: Store, args: argparse.Namespace) -> dict[str, Any]:
    store.set_account(args.user, admin=args.admin, create_projects=args.create or args.admin)
    return {"user_id": args.user, "admin": args.admin, "create_projects": args.create}
