"""REST for people: members and roles, invites (list, revoke), the audit log, tokens and
account permissions.

Every membership change goes through :func:`vrcollab.server.auth.change_member` (audited) and
closes the member's live room connections at once (4401); without this hook they would close
at the next re-check (``Settings.auth_recheck_s``).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from vrcollab.errors import NotFoundError
from vrcollab.server.auth import change_member, require_role
from vrcollab.server.connection import CLOSE_CREDENTIALS
from vrcollab.server.deps import CurrentUser, StoreDep, get_hub
from vrcollab.server.schemas import (
    AccountOut,
    AuditOut,
    InviteOut,
    MemberOut,
    MemberRemovedOut,
    NewTokenOut,
    RoleChangeOut,
    RoleName,
    TokenInfoOut,
    TokenRevokedOut,
    invite_json,
)
from vrcollab.store.base import hash_token
from vrcollab.store.identity import TokenInfo, token_id_of

router = APIRouter(prefix="/api", tags=["people"])


class RoleIn(BaseModel):
    role: RoleName


class TokenIn(BaseModel):
    label: str = Field(default="", max_length=100)
    expires_in_s: float | None = Field(default=None, gt=0, le=366 * 24 * 3600)


class AccountIn(BaseModel):
    admin: bool = False
    create_projects: bool = False


async def _close_member(request: Request, project_id: str, user_id: str, reason: str) -> int:
    """Close the member's connections on every process (on the event loop: connections are
    not thread-safe); how many closed."""
    hub = get_hub(request)
    closed: int = await hub.close_user(project_id, user_id, CLOSE_CREDENTIALS, reason)
    return closed


def _token_json(t: TokenInfo) -> dict[str, Any]:
    return {"token_id": t.token_id, "kind": t.kind, "label": t.label, "created": t.created,
            "expires_at": t.expires_at}


@router.get("/projects/{project_id}/members", response_model=list[MemberOut])
def list_members(project_id: str, user: CurrentUser, store: StoreDep) -> list[dict[str, Any]]:
    """Any member: the project's members with their roles."""
    require_role(store, project_id, user, "viewer")
    return [{"user_id": u.user_id, "name": u.name, "role": role, "you": u.user_id == user.user_id}
            for u, role in store.list_members(project_id)]


@router.put("/projects/{project_id}/members/{user_id}", response_model=RoleChangeOut)
async def set_role(project_id: str, user_id: str, body: RoleIn, request: Request,
                   user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """Owner: change a member's role (not the last owner's). Their open rooms close (4401)
    and are joined again with the new role."""

    def change() -> str | None:
        return change_member(store, project_id, user, user_id, body.role)

    previous = await asyncio.to_thread(change)
    closed = 0
    if previous != body.role:
        closed = await _close_member(request, project_id, user_id, "your role changed")
    return {"user_id": user_id, "role": body.role, "previous_role": previous,
            "closed_connections": closed}


@router.delete("/projects/{project_id}/members/{user_id}",
                response_model=MemberRemovedOut)
async def remove_member(project_id: str, user_id: str, request: Request,
                        user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """Owner (or the member itself, leaving): remove a member; its connections close (4401)."""

    def remove() -> str | None:
        role = store.get_role(project_id, user_id)
        if user_id == user.user_id and role not in (None, "owner"):
            store.remove_member(project_id, user_id)
            store.audit(project_id, user.user_id, "member.left", target_id=user_id,
                        detail={"previous_role": role})
            return role
        return change_member(store, project_id, user, user_id, None)

    previous = await asyncio.to_thread(remove)
    closed = await _close_member(request, project_id, user_id, "removed from the project")
    return {"user_id": user_id, "removed": True, "previous_role": previous,
            "closed_connections": closed}


@router.get("/projects/{project_id}/invites", response_model=list[InviteOut])
def list_invites(project_id: str, user: CurrentUser, store: StoreDep) -> list[dict[str, Any]]:
    """Owner: the project's invites with uses, expiry and status (no secrets)."""
    require_role(store, project_id, user, "owner")
    now = time.time()
    return [invite_json(i, now) for i in store.list_invites(project_id)]


@router.delete("/projects/{project_id}/invites/{invite_id}", response_model=InviteOut)
def revoke_invite(project_id: str, invite_id: str, user: CurrentUser,
                  store: StoreDep) -> dict[str, Any]:
    """Owner: revoke an invite; its next use is refused (401 ``invite_revoked``)."""
    require_role(store, project_id, user, "owner")
    inv = store.get_invite(invite_id)
    if inv.project_id != project_id:
        raise NotFoundError(f"no invite {invite_id}")
    inv = store.revoke_invite(invite_id)
    store.audit(project_id, user.user_id, "invite.revoked", detail={"invite_id": invite_id})
    return invite_json(inv, time.time())


@router.get("/projects/{project_id}/audit", response_model=list[AuditOut])
def audit_log(project_id: str, user: CurrentUser, store: StoreDep,
              limit: int = 200) -> list[dict[str, Any]]:
    """Owner: membership changes, newest first (who joined with which invite, roles, removals,
    invites created and revoked)."""
    require_role(store, project_id, user, "owner")
    names = {u.user_id: u.name for u, _ in store.list_members(project_id)}
    out = []
    for a in store.list_audit(project_id, limit=max(1, min(limit, 1000))):
        out.append({"seq": a.seq, "at": a.at, "action": a.action, "actor_id": a.actor_id,
                    "actor_name": names.get(a.actor_id or ""), "target_id": a.target_id,
                    "target_name": names.get(a.target_id or ""), "detail": a.detail})
    return out


@router.get("/tokens", response_model=list[TokenInfoOut])
def my_tokens(user: CurrentUser, store: StoreDep) -> list[dict[str, Any]]:
    """The caller's bearer tokens and browser sessions (ids, never the secrets)."""
    return [_token_json(t) for t in store.list_tokens(user.user_id)]


@router.post("/tokens", status_code=201, response_model=NewTokenOut)
def new_token(body: TokenIn, user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """A bearer token for the caller's scripts and CLI (shown once)."""
    expires = None if body.expires_in_s is None else time.time() + body.expires_in_s
    token = store.create_token(user.user_id, expires_at=expires, label=body.label)
    return {"token": token, "token_id": token_id_of(hash_token(token)), "kind": "bearer",
            "label": body.label, "expires_at": expires}


@router.delete("/tokens/{token_id}", response_model=TokenRevokedOut)
def revoke_token(token_id: str, user: CurrentUser, store: StoreDep) -> dict[str, Any]:
    """Revoke one of the caller's tokens or sessions (admins: anyone's)."""
    admin = store.get_account(user.user_id).admin
    if not store.revoke_token_id(token_id, user_id=None if admin else user.user_id):
        raise NotFoundError(f"no token {token_id}")
    return {"token_id": token_id, "revoked": True}


@router.put("/accounts/{user_id}", response_model=AccountOut)
def set_account(user_id: str, body: AccountIn, user: CurrentUser,
                store: StoreDep) -> dict[str, Any]:
    """Admin: grant or withdraw an account's permissions (``create_projects``, ``admin``).
    Anyone else gets 404, as for any id it may not see."""
    if not store.get_account(user.user_id).admin:
        raise NotFoundError(f"no account {user_id}")
    store.set_account(user_id, admin=body.admin, create_projects=body.create_projects)
    return {"user_id": user_id, "admin": body.admin, "create_projects": body.create_projects}
