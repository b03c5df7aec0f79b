"""Auth domain services: bootstrap tokens, accounts, invites (signed, counted, revocable),
sign-in links, browser sessions and the checks done at the upgrade.

Pure functions over a :class:`~vrcollab.store.base.Store`; the REST routers, the websocket
endpoint and the CLI all call these. Membership changes are written to the project's audit log
here, so every caller audits the same way.
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

from vrcollab.errors import AuthError, NotFoundError, PermissionDeniedError, RequestError
from vrcollab.settings import Settings
from vrcollab.store.base import AuthStore, Project, RoomRecord, Store, User, hash_token, new_id
from vrcollab.store.identity import InviteRecord, new_short_code, normalise_code
from vrcollab.sync.messages import ROLES, role_at_least

_INVITE_SALT = "vrcollab-invite-v1"
MAX_INVITE_SECONDS = 90 * 24 * 3600
DEFAULT_INVITE_SECONDS = 7 * 24 * 3600
MAX_INVITE_USES = 1000
SIGNIN_SECONDS = 24 * 3600
SESSION_SECONDS = 30 * 24 * 3600
INVITE_TOKEN_SECONDS = 30 * 24 * 3600  # bearer tokens handed out by /api/invites/accept
SESSION_COOKIE = "vrc_session"
CSRF_COOKIE = "vrc_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


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
    """``role`` if it is one of owner/editor/reviewer/viewer, else RequestError."""
    if role not in ROLES:
        raise RequestError(f"unknown role {role!r} ({', '.join(ROLES[::-1])})")
    return role


def bootstrap_project(
    store: AuthStore, project_name: str, owner_name: str, *, project_id: str | None = None
) -> tuple[Project, User, str]:
    """Create a project with an owner and return (project, owner, owner's bearer token)."""
    project = store.create_project(project_name, project_id=project_id)
    user = store.create_user(owner_name)
    store.set_member(project.project_id, user.user_id, "owner")
    if hasattr(store, "set_account"):  # made by the operator: may create further projects
        store.set_account(user.user_id, admin=False, create_projects=True)
    return project, user, store.create_token(user.user_id, label="bootstrap")


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
        raise RequestError(f"invite expiry must be between 1 s and {MAX_INVITE_SECONDS} s")
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
    try:
        invite = Invite(str(payload["i"]), str(payload["p"]), str(payload["r"]),
                        float(payload["e"]))
    except (KeyError, TypeError, ValueError):
        raise AuthError("invalid invite", code="bad_invite") from None
    if now >= invite.expires_at:
        raise AuthError("invite expired", code="invite_expired")
    return invite


def issue_invite(
    store: Store,
    key: str,
    project_id: str,
    role: str,
    *,
    created_by: str | None,
    expires_in_s: float = DEFAULT_INVITE_SECONDS,
    max_uses: int | None = 1,
    label: str = "",
) -> tuple[str, str, InviteRecord]:
    """A stored invite: (signed link token, short typed code, record). Single-use by default;
    ``max_uses=None`` allows any number of uses until it expires or is revoked."""
    if max_uses is not None and not 1 <= max_uses <= MAX_INVITE_USES:
        raise RequestError(f"invite uses must be between 1 and {MAX_INVITE_USES}")
    store.get_project(project_id)
    token, inv = create_invite(key, project_id, role, expires_in_s)
    code = new_short_code()
    record = InviteRecord(inv.invite_id, project_id, inv.role, created_by, time.time(),
                          inv.expires_at, max_uses, 0, False, hash_token(normalise_code(code)),
                          label[:100])
    store.add_invite(record)
    store.audit(project_id, created_by, "invite.created", detail={
        "invite_id": record.invite_id, "role": role, "max_uses": max_uses,
        "expires_at": record.expires_at})
    return token, code, record


def invite_of(store: Store, key: str, *, token: str | None = None, code: str | None = None,
              now: float) -> InviteRecord:
    """The stored invite behind a link token or a short code, if it can still be used."""
    if token:
        signed = read_invite(key, token, now)
        try:
            record = store.get_invite(signed.invite_id)
        except NotFoundError:
            raise AuthError("invalid invite", code="bad_invite") from None
    elif code:
        record = store.find_invite_code(code)
    else:
        raise AuthError("missing invite", code="bad_invite")
    refusal = record.refusal(now)
    if refusal is not None:
        raise refusal
    return record


def redeem_invite(
    store: Store,
    record: InviteRecord,
    now: float,
    *,
    name: str | None = None,
    user: User | None = None,
    via: str = "api",
) -> tuple[User, InviteRecord, bool]:
    """Count one use and make the person a member: ``user`` (a signed-in browser: the same
    person, never a second account) or a new user called ``name``. An existing member keeps a
    higher role. Returns (user, invite after the use, whether a user was created)."""
    used = store.use_invite(record.invite_id, now)
    created = user is None
    if user is None:
        user = store.create_user(check_name(name or ""))
    current = store.get_role(record.project_id, user.user_id)
    if current is None or not role_at_least(current, record.role):
        store.set_member(record.project_id, user.user_id, record.role)
    store.audit(record.project_id, user.user_id, "member.joined", target_id=user.user_id,
                detail={"invite_id": record.invite_id, "role": record.role,
                        "previous_role": current, "name": user.name, "via": via})
    return user, used, created


def accept_invite(
    store: Store, key: str, token: str, name: str, now: float
) -> tuple[User, str, InviteRecord]:
    """Redeem an invite link for a new user and its bearer token (API clients). The token
    expires after :data:`INVITE_TOKEN_SECONDS` (issue 8 item 9: invite tokens expire); revoke
    it, or remove the member, to end access sooner."""
    record = invite_of(store, key, token=token, now=now)
    user, used, _ = redeem_invite(store, record, now, name=name, via="api")
    bearer = store.create_token(user.user_id, expires_at=now + INVITE_TOKEN_SECONDS,
                                label=f"invite {record.invite_id}")
    return user, bearer, used


_NAME_FORBIDDEN = {0x200E, 0x200F, 0x061C, *range(0x202A, 0x202F), *range(0x2066, 0x206A)}


def check_name(name: str) -> str:
    """A display name: trimmed, 1-100 characters, no control or bidi-override characters."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise RequestError("a name needs 1 to 100 characters")
    for ch in name:
        cp = ord(ch)
        if cp < 0x20 or 0x7F <= cp < 0xA0 or cp in _NAME_FORBIDDEN or 0xD800 <= cp < 0xE000:
            raise RequestError("names cannot hold control or bidi-override characters")
    return name


# --- accounts, sign-in links and members ------------------------------------------------------


def can_create_projects(store: Store, user: User) -> bool:
    """The account permission of issue 8 item 6: admins and granted accounts only."""
    account = store.get_account(user.user_id)
    return account.admin or account.create_projects


def ensure_owner_account(store: Store, *, name: str = "Owner") -> tuple[User, str] | None:
    """On the first start (no admin yet): the owner account and a one-time sign-in code."""
    if store.has_admin():
        return None
    user = store.create_user(name)
    store.set_account(user.user_id, admin=True, create_projects=True)
    return user, signin_code(store, user.user_id)


def signin_code(store: Store, user_id: str, ttl_s: float = SIGNIN_SECONDS) -> str:
    """A one-time sign-in code for ``user_id`` (the link is ``/signin?code=...``)."""
    store.get_user(user_id)
    code = "si_" + secrets.token_urlsafe(24)
    store.add_signin_code(code, user_id, time.time() + ttl_s)
    return code


def count_owners(store: Store, project_id: str) -> int:
    """How many owners a project has."""
    return sum(1 for _, role in store.list_members(project_id) if role == "owner")


def change_member(store: Store, project_id: str, actor: User, user_id: str,
                  role: str | None) -> str | None:
    """Owner only: set ``user_id``'s role (``role``) or remove it (``None``); the last owner
    cannot be removed or demoted. Audited. Returns the previous role."""
    require_role(store, project_id, actor, "owner")
    previous = store.get_role(project_id, user_id)
    if previous is None:
        raise NotFoundError(f"no member {user_id} in this project")
    if previous == "owner" and role != "owner" and count_owners(store, project_id) <= 1:
        raise RequestError("a project needs an owner: make someone else owner first")
    if role is None:
        store.remove_member(project_id, user_id)
        store.audit(project_id, actor.user_id, "member.removed", target_id=user_id,
                    detail={"previous_role": previous})
    else:
        store.set_member(project_id, user_id, check_role(role))
        store.audit(project_id, actor.user_id, "member.role", target_id=user_id,
                    detail={"previous_role": previous, "role": role})
    return previous


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
    """The token from ``Authorization: Bearer``, ``?token=`` (protocol R2) or the browser's
    session cookie."""
    return credential_from(headers, query)[0]


def credential_from(headers: Mapping[str, str],
                    query: Mapping[str, str]) -> tuple[str | None, bool]:
    """(token, whether it came from the session cookie). An explicit bearer wins."""
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip() or None, False
    if query.get("token"):
        return query.get("token"), False
    session = cookie_value(headers.get("cookie", ""), SESSION_COOKIE)
    return (session, True) if session else (None, False)


def cookie_value(header: str, name: str) -> str | None:
    """One cookie's value from a ``Cookie`` header."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def check_csrf(method: str, headers: Mapping[str, str], allowed: list[str]) -> None:
    """CSRF rule for cookie-authenticated requests that change state: the ``X-CSRF-Token``
    header must equal the ``vrc_csrf`` cookie (double submit: another origin can neither read
    the cookie nor send the header without a CORS preflight we never grant), and an ``Origin``
    header, when the browser sends one, must be this server's. PermissionDenied otherwise."""
    if method.upper() in SAFE_METHODS:
        return
    origin = headers.get("origin")
    if origin not in (None, "null") and not origin_allowed(origin, headers.get("host"), allowed):
        raise PermissionDeniedError("cross-origin request refused", code="csrf")
    expected = cookie_value(headers.get("cookie", ""), CSRF_COOKIE)
    sent = headers.get(CSRF_HEADER)
    if not expected or not sent or not secrets.compare_digest(expected, sent):
        raise PermissionDeniedError("missing or wrong CSRF token", code="csrf")


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
