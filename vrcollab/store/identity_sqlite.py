"""SQLite implementation of :class:`vrcollab.store.identity.IdentityStore` (a mixin of
:class:`vrcollab.store.sqlite.SqliteStore`, using its connection, lock and helpers).

Its tables are schema version 2 (:mod:`vrcollab.store.migrations`: ``accounts``, ``invites``,
``signin_codes``, ``audit`` and the ``kind``/``label`` columns of ``tokens``); a version-1
database is upgraded in place at open (existing users, tokens, members and rooms load unchanged).
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from vrcollab.errors import AuthError, NotFoundError, StoreError
from vrcollab.store.base import User, hash_token
from vrcollab.store.identity import (
    Account,
    AuditEntry,
    InviteRecord,
    TokenInfo,
    normalise_code,
    token_id_of,
)

_INVITE_COLUMNS = ("invite_id, project_id, role, created_by, created, expires_at, max_uses, "
                   "uses, revoked, code_hash, label")


def _invite(row: tuple[Any, ...]) -> InviteRecord:
    return InviteRecord(row[0], row[1], row[2], row[3], row[4], row[5], row[6], int(row[7]),
                        bool(row[8]), row[9], row[10])


class SqliteIdentity:
    """Identity tables over the store's SQLite connection."""

    def _one(self, sql: str, args: tuple[Any, ...]) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def _all(self, sql: str, args: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _write(self, sql: str, args: tuple[Any, ...], conflict: str) -> None:
        raise NotImplementedError

    def _tx(self) -> Any:
        raise NotImplementedError

    def get_user(self, user_id: str) -> User:
        raise NotImplementedError

    def get_account(self, user_id: str) -> Account:
        row = self._one("SELECT admin, create_projects FROM accounts WHERE user_id=?",
                        (user_id,))
        return Account(user_id) if row is None else Account(user_id, bool(row[0]), bool(row[1]))

    def set_account(self, user_id: str, *, admin: bool, create_projects: bool) -> None:
        self.get_user(user_id)
        self._write("INSERT INTO accounts VALUES (?, ?, ?) ON CONFLICT(user_id) DO UPDATE SET "
                    "admin=excluded.admin, create_projects=excluded.create_projects",
                    (user_id, int(admin), int(create_projects)), "account")

    def has_admin(self) -> bool:
        return self._one("SELECT 1 FROM accounts WHERE admin=1 LIMIT 1", ()) is not None

    def first_admin(self) -> str | None:
        row = self._one("SELECT a.user_id FROM accounts a JOIN users u USING (user_id) "
                        "WHERE a.admin=1 ORDER BY u.created LIMIT 1", ())
        return None if row is None else str(row[0])

    def list_tokens(self, user_id: str) -> list[TokenInfo]:
        rows = self._all("SELECT token_hash, user_id, kind, label, created, expires_at "
                         "FROM tokens WHERE user_id=? ORDER BY created", (user_id,))
        return [TokenInfo(token_id_of(r[0]), r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def revoke_token_id(self, token_id: str, *, user_id: str | None = None) -> bool:
        if len(token_id) != 16 or any(c not in "0123456789abcdef" for c in token_id):
            return False
        hits = [r[0] for r in self._all(
            "SELECT token_hash, user_id FROM tokens WHERE substr(token_hash, 1, 16)=?",
            (token_id,)) if user_id in (None, r[1])]
        for h in hits:
            self._write("DELETE FROM tokens WHERE token_hash=?", (h,), "revoke")
        return bool(hits)

    def revoke_user_tokens(self, user_id: str) -> int:
        n = len(self._all("SELECT 1 FROM tokens WHERE user_id=?", (user_id,)))
        self._write("DELETE FROM tokens WHERE user_id=?", (user_id,), "revoke")
        return n

    def rename_project(self, project_id: str, name: str) -> None:
        if self._one("SELECT 1 FROM projects WHERE project_id=?", (project_id,)) is None:
            raise NotFoundError(f"no project {project_id}")
        self._write("UPDATE projects SET name=? WHERE project_id=?", (name, project_id),
                    "rename")

    def get_project_settings(self, project_id: str) -> dict[str, Any]:
        if self._one("SELECT 1 FROM projects WHERE project_id=?", (project_id,)) is None:
            raise NotFoundError(f"no project {project_id}")
        row = self._one("SELECT body FROM project_settings WHERE project_id=?", (project_id,))
        return {} if row is None else dict(json.loads(row[0]))

    def set_project_settings(self, project_id: str, settings: dict[str, Any]) -> None:
        if self._one("SELECT 1 FROM projects WHERE project_id=?", (project_id,)) is None:
            raise NotFoundError(f"no project {project_id}")
        self._write("INSERT INTO project_settings VALUES (?, ?) ON CONFLICT(project_id) "
                    "DO UPDATE SET body=excluded.body",
                    (project_id, json.dumps(settings, sort_keys=True)), "project settings")

    def list_members(self, project_id: str) -> list[tuple[User, str]]:
        rows = self._all("SELECT u.user_id, u.name, u.created, m.role FROM members m "
                         "JOIN users u USING (user_id) WHERE m.project_id=? "
                         "ORDER BY u.created, u.user_id", (project_id,))
        return [(User(r[0], r[1], r[2]), str(r[3])) for r in rows]

    def remove_member(self, project_id: str, user_id: str) -> bool:
        found = self._one("SELECT 1 FROM members WHERE project_id=? AND user_id=?",
                          (project_id, user_id)) is not None
        self._write("DELETE FROM members WHERE project_id=? AND user_id=?",
                    (project_id, user_id), "remove member")
        return found

    def add_invite(self, invite: InviteRecord) -> None:
        i = invite
        self._write(f"INSERT INTO invites ({_INVITE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (i.invite_id, i.project_id, i.role, i.created_by, i.created, i.expires_at,
                     i.max_uses, i.uses, int(i.revoked), i.code_hash, i.label), "invite exists")

    def get_invite(self, invite_id: str) -> InviteRecord:
        row = self._one(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE invite_id=?", (invite_id,))
        if row is None:
            raise NotFoundError(f"no invite {invite_id}")
        return _invite(row)

    def find_invite_code(self, code: str) -> InviteRecord:
        digest = hash_token(normalise_code(code))
        row = self._one(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE code_hash=? "
                        "AND code_hash != ''", (digest,))
        if row is None:
            raise AuthError("unknown invite code", code="bad_invite")
        return _invite(row)

    def list_invites(self, project_id: str) -> list[InviteRecord]:
        rows = self._all(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE project_id=? "
                         "ORDER BY created DESC", (project_id,))
        return [_invite(r) for r in rows]

    def use_invite(self, invite_id: str, now: float) -> InviteRecord:
        try:
            with self._tx() as db:  # BEGIN IMMEDIATE: two acceptances cannot both take the last use
                row = db.execute(f"SELECT {_INVITE_COLUMNS} FROM invites WHERE invite_id=?",
                                 (invite_id,)).fetchone()
                if row is None:
                    raise AuthError("unknown invite", code="bad_invite")
                refusal = _invite(row).refusal(now)
                if refusal is not None:
                    raise refusal
                db.execute("UPDATE invites SET uses = uses + 1 WHERE invite_id=?", (invite_id,))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use invite: {exc}") from exc
        return self.get_invite(invite_id)

    def revoke_invite(self, invite_id: str) -> InviteRecord:
        self.get_invite(invite_id)
        self._write("UPDATE invites SET revoked=1 WHERE invite_id=?", (invite_id,), "revoke")
        return self.get_invite(invite_id)

    def add_signin_code(self, code: str, user_id: str, expires_at: float) -> None:
        self._write("INSERT INTO signin_codes VALUES (?, ?, ?)",
                    (hash_token(code), user_id, expires_at), "sign-in code exists")

    def use_signin_code(self, code: str, now: float) -> str:
        digest = hash_token(code)
        try:
            with self._tx() as db:
                row = db.execute("SELECT user_id, expires_at FROM signin_codes WHERE code_hash=?",
                                 (digest,)).fetchone()
                db.execute("DELETE FROM signin_codes WHERE code_hash=?", (digest,))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot use sign-in code: {exc}") from exc
        if row is None:
            raise AuthError("unknown or used sign-in link", code="bad_signin")
        if now >= row[1]:
            raise AuthError("sign-in link expired", code="signin_expired")
        return str(row[0])

    def audit(self, project_id: str, actor_id: str | None, action: str, *,
              target_id: str | None = None, detail: dict[str, Any] | None = None) -> None:
        self._write("INSERT INTO audit (project_id, at, actor_id, action, target_id, detail) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (project_id, time.time(), actor_id, action, target_id,
                     json.dumps(detail or {}, sort_keys=True)), "audit")

    def list_audit(self, project_id: str, *, limit: int = 200) -> list[AuditEntry]:
        rows = self._all("SELECT seq, project_id, at, actor_id, action, target_id, detail "
                         "FROM audit WHERE project_id=? ORDER BY seq DESC LIMIT ?",
                         (project_id, limit))
        return [AuditEntry(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6])) for r in rows]
