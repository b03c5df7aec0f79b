"""One contract for both identity stores (vrcollab.store.identity, identity_sqlite): accounts,
tokens by id, members, invites (uses, expiry, revoke, codes), sign-in codes, audit."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from vrcollab.errors import AuthError, NotFoundError
from vrcollab.store import MemoryStore, SqliteStore, Store
from vrcollab.store.base import hash_token
from vrcollab.store.identity import InviteRecord, new_short_code, normalise_code
from vrcollab.store.postgres import PostgresStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store
    if request.param == "postgres":
        s = PostgresStore(request.getfixturevalue("pg_url"))
    else:
        s = MemoryStore() if request.param == "memory" else SqliteStore(tmp_path / "db")
    yield s
    s.close()


def _invite(store: Store, project_id: str, *, max_uses: int | None = 1,
            expires_in: float = 60.0, code: str = "") -> InviteRecord:
    inv = InviteRecord(f"i_{time.monotonic_ns()}", project_id, "reviewer", None, time.time(),
                       time.time() + expires_in, max_uses,
                       code_hash=hash_token(normalise_code(code)) if code else "")
    store.add_invite(inv)
    return inv


def test_accounts_and_first_admin(store: Store) -> None:
    a, b = store.create_user("A"), store.create_user("B")
    assert not store.has_admin()
    assert store.first_admin() is None
    assert store.get_account(a.user_id).create_projects is False
    store.set_account(b.user_id, admin=True, create_projects=True)
    store.set_account(a.user_id, admin=False, create_projects=True)
    assert store.has_admin()
    assert store.first_admin() == b.user_id
    assert store.get_account(a.user_id).create_projects
    with pytest.raises(NotFoundError):
        store.set_account("u_nobody", admin=True, create_projects=True)


def test_tokens_by_id(store: Store) -> None:
    u, v = store.create_user("U"), store.create_user("V")
    t1 = store.create_token(u.user_id, label="ci")
    store.create_token(u.user_id, kind="session", expires_at=time.time() + 60)
    tv = store.create_token(v.user_id)
    listed = store.list_tokens(u.user_id)
    assert sorted(t.kind for t in listed) == ["bearer", "session"]
    assert all(len(t.token_id) == 16 for t in listed)
    ci = next(t for t in listed if t.label == "ci")
    assert not store.revoke_token_id(ci.token_id, user_id=v.user_id)  # not V's token
    assert store.revoke_token_id(ci.token_id, user_id=u.user_id)
    with pytest.raises(AuthError):
        store.resolve_token(t1, time.time())
    assert not store.revoke_token_id("nothex!")
    assert store.revoke_user_tokens(u.user_id) == 1
    assert store.list_tokens(u.user_id) == []
    assert store.resolve_token(tv, time.time()).name == "V"


def test_members_rename_and_remove(store: Store) -> None:
    p = store.create_project("P")
    u, v = store.create_user("U"), store.create_user("V")
    store.set_member(p.project_id, u.user_id, "owner")
    store.set_member(p.project_id, v.user_id, "viewer")
    assert [(x.name, r) for x, r in store.list_members(p.project_id)] == [
        ("U", "owner"), ("V", "viewer")]
    assert store.remove_member(p.project_id, v.user_id)
    assert not store.remove_member(p.project_id, v.user_id)
    assert store.get_role(p.project_id, v.user_id) is None
    store.rename_project(p.project_id, "Q")
    assert store.get_project(p.project_id).name == "Q"
    with pytest.raises(NotFoundError):
        store.rename_project("p_nobody", "x")


def test_invite_uses_expiry_revoke_and_codes(store: Store) -> None:
    p = store.create_project("P")
    now = time.time()
    two = _invite(store, p.project_id, max_uses=2)
    assert store.use_invite(two.invite_id, now).uses == 1
    assert store.use_invite(two.invite_id, now).uses == 2
    with pytest.raises(AuthError) as used:
        store.use_invite(two.invite_id, now)
    assert used.value.code == "invite_used"
    late = _invite(store, p.project_id, expires_in=1.0)
    with pytest.raises(AuthError) as expired:
        store.use_invite(late.invite_id, now + 2)
    assert expired.value.code == "invite_expired"
    free = _invite(store, p.project_id, max_uses=None)
    for _ in range(5):
        store.use_invite(free.invite_id, now)
    assert store.revoke_invite(free.invite_id).revoked
    with pytest.raises(AuthError) as revoked:
        store.use_invite(free.invite_id, now)
    assert revoked.value.code == "invite_revoked"
    code = new_short_code()
    coded = _invite(store, p.project_id, code=code)
    assert store.find_invite_code(code.lower().replace("-", " ")).invite_id == coded.invite_id
    with pytest.raises(AuthError):
        store.find_invite_code("ZZZZ-ZZZZ")
    assert store.list_invites(p.project_id)[0].invite_id == coded.invite_id  # newest first


def test_the_last_use_goes_to_one_taker(store: Store) -> None:
    p = store.create_project("P")
    inv = _invite(store, p.project_id, max_uses=1)
    wins: list[int] = []

    def take() -> None:
        try:
            store.use_invite(inv.invite_id, time.time())
            wins.append(1)
        except AuthError:
            pass

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1
    assert store.get_invite(inv.invite_id).uses == 1


def test_signin_codes_are_one_time(store: Store) -> None:
    u = store.create_user("U")
    store.add_signin_code("si_a", u.user_id, time.time() + 60)
    store.add_signin_code("si_b", u.user_id, time.time() - 1)
    assert store.use_signin_code("si_a", time.time()) == u.user_id
    with pytest.raises(AuthError) as again:
        store.use_signin_code("si_a", time.time())
    assert again.value.code == "bad_signin"
    with pytest.raises(AuthError) as old:
        store.use_signin_code("si_b", time.time())
    assert old.value.code == "signin_expired"


def test_audit_log_newest_first(store: Store) -> None:
    p = store.create_project("P")
    store.audit(p.project_id, "u_a", "invite.created", detail={"invite_id": "i_1"})
    store.audit(p.project_id, "u_b", "member.joined", target_id="u_b",
                detail={"invite_id": "i_1"})
    store.audit("p_other", None, "member.removed")
    log = store.list_audit(p.project_id)
    assert [a.action for a in log] == ["member.joined", "invite.created"]
    assert log[0].detail == {"invite_id": "i_1"}
    assert log[0].seq > log[1].seq
    assert len(store.list_audit(p.project_id, limit=1)) == 1
