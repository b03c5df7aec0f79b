"""Auth domain services: bootstrap tokens, signed invites, and the checks done at the upgrade.

Pure functions over an :class:`~vrcollab.store.base.AuthStore`; the REST router, the websocket
endpoint and the CLI all call these.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from itsdangerous import BadSignature, URLSafeSerializer

from vrcollab.errors import AuthError, ConfigError, NotFoundError, PermissionDeniedError
from vrcollab.settings import Settings
from vrcollab.store.base import AuthStore, Project, RoomRecord, User, new_id
from vrcollab.sync.messages import ROLES, role_at_least

_INVITE_SALT = "vrcollab-invite-v1"
MAX_INVITE_SECONDS = 90 * 24 * 3600


def secret_key(settings: Settings) -> str:
    """``Settings.secret_key``, or one generated once and kept in ``data_dir/secret_key``."""
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.data_dir) / "secret_key"
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:  # O_EXCL: two processes starting at once agree on the first key written
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(key)
    return key


def check_role(role: str) -> str:
    """``role`` if it is one of owner/editor/reviewer/viewer, else ConfigError."""
    if role not in ROLES:
        raise ConfigError(f"unknown role {role!r} (owner, editor, reviewer, viewer)")
    return role


def bootstrap_project(
    store: AuthStore, project_name: str, owner_name: str, *, project_id: str | None = None
) -> tuple[Project, User, str]:
    """Create a project with an owner and return (project, owner, owner's bearer token)."""
    project = store.create_project(project_name, project_id=project_id)
    user = store.create_user(owner_name)
    store.set_member(project.project_id, user.user_id, "owner")
    return project, user, store.create_token(user.user_id)


def issue_member_token(
    store: AuthStore,
    project_id: str,
    role: str,
    name: str,
    *,
    expires_at: float | None = None,
) -> tuple[User, str]:
    """Create a user with ``role`` in a project and a bearer token for it (CLI, tests, bots)."""
    store.get_project(project_id)
    user = store.create_user(name)
    store.set_member(project_id, user.user_id, check_role(role))
    return user, store.create_token(user.user_id, expires_at=expires_at)


@dataclass(frozen=True, slots=True)
class Invite:
    """A decoded, valid invite."""

    invite_id: str
    project_id: str
    role: str
    expires_at: float


def create_invite(key: str, project_id: str, role: str, expires_in_s: float) -> tuple[str, Invite]:
    """A signed invite string granting ``role`` until now + ``expires_in_s``."""
    if not 0 < expires_in_s <= MAX_INVITE_SECONDS:
        raise ConfigError(f"invite expiry must be between 1 s and {MAX_INVITE_SECONDS} s")
    invite = Invite(new_id("i"), project_id, check_role(role), time.time() + expires_in_s)
    payload = {"i": invite.invite_id, "p": project_id, "r": role, "e": invite.expires_at}
    return URLSafeSerializer(key, salt=_INVITE_SALT).dumps(payload), invite


def read_invite(key: str, token: str, now: float) -> Invite:
    """Verify signature and expiry; AuthError otherwise."""
    try:
        payload = URLSafeSerializer(key, salt=_INVITE_SALT).loads(token)
    except BadSignature:
        raise AuthError("invalid invite", code="bad_invite") from None
    if not isinstance(payload, dict):
        raise AuthError("invalid invite", code="bad_invite")
    invite = Invite(str(payload["i"]), str(payload["p"]), str(payload["r"]), float(payload["e"]))
    if now >= invite.expires_at:
        raise AuthError("invite expired", code="invite_expired")
    return invite


def accept_invite(
    store: AuthStore, key: str, token: str, name: str, now: float
) -> tuple[User, str, Invite]:
    """Redeem an invite: new user with the invite's role, and its bearer token (expires with
    nothing: revoke it to end access)."""
    invite = read_invite(key, token, now)
    user, bearer = issue_member_token(store, invite.project_id, invite.role, name)
    return user, bearer, invite


def require_role(store: AuthStore, project_id: str, user: User, minimum: str) -> str:
    """The user's role in the project if at least ``minimum``; NotFound for non-members (no
    existence leak), PermissionDenied for a too-low role."""
    role = store.get_role(project_id, user.user_id)
    if role is None:
        raise NotFoundError(f"no project {project_id}")
    if not role_at_least(role, minimum):
        raise PermissionDeniedError(f"needs role {minimum}, you are {role}")
    return role


def bearer_from(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    """The token from ``Authorization: Bearer`` or ``?token=`` (protocol R2)."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None
    return query.get("token") or None


def origin_allowed(origin: str | None, host: str | None, allowed: list[str]) -> bool:
    """Origin allow-list check (R2). No Origin header (non-browser client) is allowed; with an
    empty allow-list only the server's own host is; ``*`` allows any origin."""
    if origin is None:
        return True
    if allowed:
        return "*" in allowed or origin.rstrip("/") in {a.rstrip("/") for a in allowed}
    parts = urlsplit(origin)
    return bool(host) and parts.netloc == host and parts.scheme in ("http", "https")


def authorize_room(
    store: AuthStore, token: str | None, room_id: str, now: float
) -> tuple[User, RoomRecord, str]:
    """(user, room, role) for a websocket upgrade, or AuthError/NotFoundError/PermissionDenied.

    A room of another project answers exactly like a bad token, so nothing leaks."""
    if not token:
        raise AuthError("missing token")
    user = store.resolve_token(token, now)
    room = store.get_room(room_id)
    role = store.get_role(room.project_id, user.user_id)
    if role is None:
        raise PermissionDeniedError("not a member of this room's project")
    return user, room, role
