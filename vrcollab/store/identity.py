"""Identity records and the in-memory implementation: accounts, tokens by id, members, invites,
one-time sign-in codes and the membership audit log.

:class:`IdentityStore` is the interface (part of :class:`vrcollab.store.base.Store`);
:class:`MemoryIdentity` here and :class:`vrcollab.store.identity_sqlite.SqliteIdentity` are
mixins of the two store backends and pass one contract suite (``tests/api/test_auth_store.py``).
Secrets (tokens, invite codes, sign-in codes) are stored as SHA-256 hashes only.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from vrcollab.errors import AuthError, NotFoundError
from vrcollab.store.users import User, hash_token

#: Alphabet of short typed invite codes (no 0/O, 1/I/L): 8 characters, about 40 bits.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_short_code() -> str:
    """A short code to type on a headset, e.g. ``K7QM-3XPA``."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_code(code: str) -> str:
    """Upper case without separators or spaces (what the code hash is taken of)."""
    return "".join(c for c in code.upper() if c.isalnum())


def token_id_of(token_hash: str) -> str:
    """The public id of a token: the first 16 hex digits of its hash (never the token)."""
    return token_hash[:16]


@dataclass(frozen=True, slots=True)
class Account:
    """Server-wide permissions of a user (project roles are per project)."""

    user_id: str
    admin: bool = False
    create_projects: bool = False


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A bearer token or browser session, without its secret."""

    token_id: str
    user_id: str
    kind: str  # bearer | session
    label: str
    created: float
    expires_at: float | None


@dataclass(frozen=True, slots=True)
class InviteRecord:
    """A project invite: role, expiry, uses, revocation (secrets stored hashed)."""

    invite_id: str
    project_id: str
    role: str
    created_by: str | None
    created: float
    expires_at: float
    max_uses: int | None  # None: unlimited until expiry
    uses: int = 0
    revoked: bool = False
    code_hash: str = ""
    label: str = ""

    def refusal(self, now: float) -> AuthError | None:
        """Why this invite cannot be used now, or None."""
        if self.revoked:
            return AuthError("invite revoked", code="invite_revoked")
        if now >= self.expires_at:
            return AuthError("invite expired", code="invite_expired")
        if self.max_uses is not None and self.uses >= self.max_uses:
            return AuthError("invite already used", code="invite_used")
        return None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One membership change: who did what to whom, with which invite."""

    seq: int
    project_id: str
    at: float
    actor_id: str | None
    action: str  # member.joined | member.role | member.removed | invite.created | ...
    target_id: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class IdentityStore(Protocol):
    """Accounts, tokens by id, members, invites, sign-in codes and the audit log."""

    def get_account(self, user_id: str) -> Account:
        """The user's account flags (defaults when never set)."""
        ...

    def set_account(self, user_id: str, *, admin: bool, create_projects: bool) -> None:
        """Set a user's account flags."""
        ...

    def has_admin(self) -> bool:
        """True once any admin account exists (the first start made the owner)."""
        ...

    def first_admin(self) -> str | None:
        """The user id of the oldest admin account (the owner), if any."""
        ...

    def list_tokens(self, user_id: str) -> list[TokenInfo]:
        """The user's live tokens and sessions."""
        ...

    def revoke_token_id(self, token_id: str, *, user_id: str | None = None) -> bool:
        """Revoke by public id (optionally only among ``user_id``'s); False if none matched."""
        ...

    def revoke_user_tokens(self, user_id: str) -> int:
        """Revoke every token of a user; returns how many."""
        ...

    def rename_project(self, project_id: str, name: str) -> None:
        """Rename a project."""
        ...

    def get_project_settings(self, project_id: str) -> dict[str, Any]:
        """The project's stored settings (``{}`` when none were set; NotFoundError for an
        unknown project). Keys and defaults: :mod:`vrcollab.server.project_settings`."""
        ...

    def set_project_settings(self, project_id: str, settings: dict[str, Any]) -> None:
        """Replace the project's stored settings (a JSON object)."""
        ...

    def list_members(self, project_id: str) -> list[tuple[User, str]]:
        """(user, role) of every member, oldest user first."""
        ...

    def remove_member(self, project_id: str, user_id: str) -> bool:
        """Remove a membership; False if it did not exist."""
        ...

    def add_invite(self, invite: InviteRecord) -> None:
        """Store a new invite."""
        ...

    def get_invite(self, invite_id: str) -> InviteRecord:
        """An invite by id (NotFoundError)."""
        ...

    def find_invite_code(self, code: str) -> InviteRecord:
        """The invite of a short code (AuthError ``bad_invite`` if none)."""
        ...

    def list_invites(self, project_id: str) -> list[InviteRecord]:
        """The project's invites, newest first."""
        ...

    def use_invite(self, invite_id: str, now: float) -> InviteRecord:
        """Atomically count one use (AuthError if revoked, expired or used up)."""
        ...

    def revoke_invite(self, invite_id: str) -> InviteRecord:
        """Revoke an invite (later uses are refused)."""
        ...

    def add_signin_code(self, code: str, user_id: str, expires_at: float) -> None:
        """Store a one-time sign-in code (hashed)."""
        ...

    def use_signin_code(self, code: str, now: float) -> str:
        """Consume a sign-in code once; its user id (AuthError if unknown, used or expired)."""
        ...

    def audit(self, project_id: str, actor_id: str | None, action: str, *,
              target_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """Append to the project's audit log."""
        ...

    def list_audit(self, project_id: str, *, limit: int = 200) -> list[AuditEntry]:
        """The project's audit log, newest first."""
        ...


class MemoryIdentity:
    """:class:`IdentityStore` in dicts (mixin of :class:`vrcollab.store.memory.MemoryStore`,
    which provides ``_lock``, ``_users``, ``_projects``, ``_members`` and ``_tokens``)."""

    _lock: threading.RLock
    _users: dict[str, User]
    _projects: dict[str, Any]
    _members: dict[tuple[str, str], str]
    _tokens: dict[str, tuple[str, float | None]]

    def _init_identity(self) -> None:
        self._accounts: dict[str, Account] = {}
        self._token_meta: dict[str, tuple[str, str, float]] = {}  # hash -> kind, label, created
        self._invites: dict[str, InviteRecord] = {}
        self._signin: dict[str, tuple[str, float]] = {}
        self._audit: list[AuditEntry] = []
        self._project_settings: dict[str, dict[str, Any]] = {}

    def _note_token(self, token: str, kind: str, label: str) -> None:
        self._token_meta[hash_token(token)] = (kind, label, time.time())

    def get_account(self, user_id: str) -> Account:
        with self._lock:
            return self._accounts.get(user_id, Account(user_id))

    def set_account(self, user_id: str, *, admin: bool, create_projects: bool) -> None:
        with self._lock:
            if user_id not in self._users:
                raise NotFoundError(f"no user {user_id}")
            self._accounts[user_id] = Account(user_id, admin, create_projects)

    def has_admin(self) -> bool:
        with self._lock:
            return any(a.admin for a in self._accounts.values())

    def first_admin(self) -> str | None:
        with self._lock:
            admins = [self._users[a.user_id] for a in self._accounts.values() if a.admin]
            return min(admins, key=lambda u: u.created).user_id if admins else None

    def list_tokens(self, user_id: str) -> list[TokenInfo]:
        with self._lock:
            out = []
            for h, (uid, exp) in self._tokens.items():
                if uid == user_id:
                    kind, label, created = self._token_meta.get(h, ("bearer", "", 0.0))
                    out.append(TokenInfo(token_id_of(h), uid, kind, label, created, exp))
            return sorted(out, key=lambda t: t.created)

    def revoke_token_id(self, token_id: str, *, user_id: str | None = None) -> bool:
        with self._lock:
            hits = [h for h, (uid, _) in self._tokens.items()
                    if token_id_of(h) == token_id and user_id in (None, uid)]
            for h in hits:
                self._tokens.pop(h, None)
            return bool(hits)

    def revoke_user_tokens(self, user_id: str) -> int:
        with self._lock:
            hits = [h for h, (uid, _) in self._tokens.items() if uid == user_id]
            for h in hits:
                del self._tokens[h]
            return len(hits)

    def rename_project(self, project_id: str, name: str) -> None:
        with self._lock:
            if project_id not in self._projects:
                raise NotFoundError(f"no project {project_id}")
            self._projects[project_id] = replace(self._projects[project_id], name=name)

    def get_project_settings(self, project_id: str) -> dict[str, Any]:
        with self._lock:
            if project_id not in self._projects:
                raise NotFoundError(f"no project {project_id}")
            return dict(self._project_settings.get(project_id, {}))

    def set_project_settings(self, project_id: str, settings: dict[str, Any]) -> None:
        with self._lock:
            if project_id not in self._projects:
                raise NotFoundError(f"no project {project_id}")
            self._project_settings[project_id] = dict(settings)

    def list_members(self, project_id: str) -> list[tuple[User, str]]:
        with self._lock:
            rows = [(self._users[u], r) for (p, u), r in self._members.items() if p == project_id]
            return sorted(rows, key=lambda ur: (ur[0].created, ur[0].user_id))

    def remove_member(self, project_id: str, user_id: str) -> bool:
        with self._lock:
            return self._members.pop((project_id, user_id), None) is not None

    def add_invite(self, invite: InviteRecord) -> None:
        with self._lock:
            self._invites[invite.invite_id] = invite

    def get_invite(self, invite_id: str) -> InviteRecord:
        with self._lock:
            try:
                return self._invites[invite_id]
            except KeyError:
                raise NotFoundError(f"no invite {invite_id}") from None

    def find_invite_code(self, code: str) -> InviteRecord:
        digest = hash_token(normalise_code(code))
        with self._lock:
            for inv in self._invites.values():
                if inv.code_hash and inv.code_hash == digest:
                    return inv
        raise AuthError("unknown invite code", code="bad_invite")

    def list_invites(self, project_id: str) -> list[InviteRecord]:
        with self._lock:
            found = [i for i in self._invites.values() if i.project_id == project_id]
            return sorted(found, key=lambda i: -i.created)

    def use_invite(self, invite_id: str, now: float) -> InviteRecord:
        with self._lock:
            inv = self.get_invite(invite_id)
            refusal = inv.refusal(now)
            if refusal is not None:
                raise refusal
            inv = replace(inv, uses=inv.uses + 1)
            self._invites[invite_id] = inv
            return inv

    def revoke_invite(self, invite_id: str) -> InviteRecord:
        with self._lock:
            inv = replace(self.get_invite(invite_id), revoked=True)
            self._invites[invite_id] = inv
            return inv

    def add_signin_code(self, code: str, user_id: str, expires_at: float) -> None:
        with self._lock:
            self._signin[hash_token(code)] = (user_id, expires_at)

    def use_signin_code(self, code: str, now: float) -> str:
        with self._lock:
            row = self._signin.pop(hash_token(code), None)
        if row is None:
            raise AuthError("unknown or used sign-in link", code="bad_signin")
        if now >= row[1]:
            raise AuthError("sign-in link expired", code="signin_expired")
        return row[0]

    def audit(self, project_id: str, actor_id: str | None, action: str, *,
              target_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        with self._lock:
            self._audit.append(AuditEntry(len(self._audit) + 1, project_id, time.time(),
                                          actor_id, action, target_id, dict(detail or {})))

    def list_audit(self, project_id: str, *, limit: int = 200) -> list[AuditEntry]:
        with self._lock:
            found = [a for a in self._audit if a.project_id == project_id]
            return list(reversed(found))[:limit]
