"""Members, tokens, sessions, CSRF and the project-creation permission (issue 8 items 6 and 9,
issue 10 "Security of the web sessions"), through the real app and store."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest

from tests.api.api_support import Api, bearer
from vrcollab.cli import main
from vrcollab.server.auth import ensure_owner_account, issue_member_token
from vrcollab.server.sessions_api import install_log_scrubber
from vrcollab.store.sqlite import SqliteStore


def _store(api: Api) -> SqliteStore:
    store: SqliteStore = api.client.app.state.services.store  # type: ignore[attr-defined]
    return store


def test_member_roles_and_removal(api: Api) -> None:
    c = api.client
    members = c.get(f"/api/projects/{api.project_id}/members", headers=api.owner).json()
    victor = next(m for m in members if m["name"] == "Victor")
    url = f"/api/projects/{api.project_id}/members/{victor['user_id']}"
    assert c.put(url, json={"role": "reviewer"}, headers=api.viewer).status_code == 403
    res = c.put(url, json={"role": "editor"}, headers=api.owner)
    assert res.status_code == 200
    assert res.json()["previous_role"] == "viewer"
    assert c.get("/api/me", headers=api.viewer).json()["projects"][api.project_id] == "editor"
    assert c.delete(url, headers=api.owner).status_code == 200
    # removed: the project is gone for them (404, no existence leak), token still valid
    assert c.get(f"/api/projects/{api.project_id}/rooms", headers=api.viewer).status_code == 404
    assert c.get("/api/me", headers=api.viewer).status_code == 200
    assert c.delete(url, headers=api.owner).status_code == 404
    log = c.get(f"/api/projects/{api.project_id}/audit", headers=api.owner).json()
    actions = [e["action"] for e in log]
    assert actions[:2] == ["member.removed", "member.role"]


def test_the_last_owner_stays(api: Api) -> None:
    c = api.client
    me = c.get("/api/me", headers=api.owner).json()
    url = f"/api/projects/{api.project_id}/members/{me['user_id']}"
    res = c.delete(url, headers=api.owner)
    assert res.status_code == 400
    assert "owner" in res.json()["error"]["message"]
    assert c.put(url, json={"role": "editor"}, headers=api.owner).status_code == 400


def test_tokens_are_listed_and_revocable(api: Api) -> None:
    c = api.client
    made = c.post("/api/tokens", json={"label": "ci"}, headers=api.owner).json()
    script = bearer(made["token"])
    assert c.get("/api/me", headers=script).status_code == 200
    listed = c.get("/api/tokens", headers=api.owner).json()
    assert made["token_id"] in {t["token_id"] for t in listed}
    assert all("token" not in t for t in listed)
    # someone else cannot revoke it; its owner can
    assert c.delete(f"/api/tokens/{made['token_id']}", headers=api.viewer).status_code == 404
    assert c.delete(f"/api/tokens/{made['token_id']}", headers=api.owner).status_code == 200
    assert c.get("/api/me", headers=script).status_code == 401


def test_project_creation_needs_the_account_permission(api: Api) -> None:
    c = api.client
    # an invited / issued member (Victor) may not; a bootstrapped owner may
    res = c.post("/api/projects", json={"name": "Side"}, headers=api.viewer)
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "no_create_permission"
    assert c.post("/api/projects", json={"name": "Side"}, headers=api.owner).status_code == 201
    # an admin grants it
    store = _store(api)
    admin, _code = ensure_owner_account(store) or (None, "")
    assert admin is not None
    admin_token = store.create_token(admin.user_id)
    victor = c.get("/api/me", headers=api.viewer).json()["user_id"]
    assert c.put(f"/api/accounts/{victor}", json={"create_projects": True},
                 headers=api.owner).status_code == 404  # owners of a project are not admins
    assert c.put(f"/api/accounts/{victor}", json={"create_projects": True},
                 headers=bearer(admin_token)).status_code == 200
    assert c.post("/api/projects", json={"name": "Side"}, headers=api.viewer).status_code == 201
    assert ensure_owner_account(store) is None  # only the first start makes an owner


def test_signin_link_session_cookie_signout_and_csrf(api: Api) -> None:
    c = api.client
    store = _store(api)
    made = ensure_owner_account(store)
    assert made is not None
    user, code = made
    # opening the link (or a preview bot fetching it) only parks the code in an HttpOnly cookie
    r = c.get(f"/signin?code={code}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/signin"
    assert r.headers["referrer-policy"] == "no-referrer"
    held = next(h for h in r.headers.get_list("set-cookie") if h.startswith("vrc_signin="))
    assert "HttpOnly" in held
    assert c.get("/api/session").json() == {"signed_in": False}
    # the page's button spends it, with the CSRF token (without: refused, code kept)
    assert c.post("/api/session/signin").json()["error"]["code"] == "csrf"
    r = c.post("/api/session/signin", headers={"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))})
    assert r.status_code == 200
    cookie = r.headers.get_list("set-cookie")
    session = next(h for h in cookie if h.startswith("vrc_session="))
    assert "HttpOnly" in session
    assert "SameSite=lax" in session
    assert code not in session
    # one-time: the same link again is refused
    c.get(f"/signin?code={code}", follow_redirects=False)
    again = c.post("/api/session/signin",
                   headers={"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "bad_signin"
    me = c.get("/api/session").json()
    assert me["signed_in"]
    assert me["user"]["user_id"] == user.user_id
    assert me["user"]["admin"]
    # cookie-authenticated writes need the CSRF header, and a foreign Origin is refused
    res = c.post("/api/projects", json={"name": "By cookie"})
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "csrf"
    token = str(c.cookies.get("vrc_csrf"))
    res = c.post("/api/projects", json={"name": "Evil"},
                 headers={"X-CSRF-Token": token, "Origin": "https://evil.example"})
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "csrf"
    res = c.post("/api/projects", json={"name": "By cookie"}, headers={"X-CSRF-Token": token})
    assert res.status_code == 201
    assert c.get("/api/projects").status_code == 200  # reads need no CSRF token
    # sign out revokes the session
    assert c.post("/api/session/signout", headers={"X-CSRF-Token": token}).status_code == 200
    assert c.get("/api/session").json() == {"signed_in": False}
    sessions = [t for t in store.list_tokens(user.user_id) if t.kind == "session"]
    assert sessions == []


def test_cli_member_invite_token_and_signin_link(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str) -> dict[str, object] | list[dict[str, object]]:
        code = main([*args, "--data-dir", str(tmp_path)])
        out = capsys.readouterr()
        assert code == 0, out.err
        parsed: dict[str, object] | list[dict[str, object]] = json.loads(out.out)
        return parsed

    boot = cli("project", "create", "--name", "Tower")
    assert isinstance(boot, dict)
    pid = str(boot["project_id"])
    inv = cli("invite", "create", "--project", pid, "--role", "viewer", "--uses", "2")
    assert isinstance(inv, dict)
    assert inv["max_uses"] == 2
    assert "/join?invite=" in str(inv["url"])
    store = SqliteStore(tmp_path / "vrcollab.sqlite3")
    try:
        user, token = issue_member_token(store, pid, "reviewer", "Rita")
    finally:
        store.close()
    members = cli("member", "list", "--project", pid)
    assert {m["name"] for m in members} == {"Owner", "Rita"}  # type: ignore[union-attr, index]
    cli("member", "role", "--project", pid, "--user", user.user_id, "--role", "editor")
    tokens = cli("token", "list", "--user", user.user_id)
    assert isinstance(tokens, list)
    assert len(tokens) == 1
    cli("token", "revoke", str(tokens[0]["token_id"]))
    cli("member", "remove", "--project", pid, "--user", user.user_id)
    cli("invite", "revoke", "--project", pid, str(inv["invite_id"]))
    listed = cli("invite", "list", "--project", pid)
    assert isinstance(listed, list)
    assert listed[0]["status"] == "invite_revoked"
    link = cli("account", "signin-link")
    assert isinstance(link, dict)
    assert "/signin?code=si_" in str(link["url"])
    store = SqliteStore(tmp_path / "vrcollab.sqlite3")
    try:
        assert store.get_role(pid, user.user_id) is None
        with pytest.raises(Exception, match="revoked"):
            store.resolve_token(token, time.time())
        actions = [a.action for a in store.list_audit(pid)]
        assert actions[:3] == ["invite.revoked", "member.removed", "member.role"]
    finally:
        store.close()
    assert main(["member", "remove", "--project", pid, "--user", "u_nobody",
                 "--data-dir", str(tmp_path)]) == 1


def test_a_version_1_database_still_loads(tmp_path: Path) -> None:
    db_path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(db_path)
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        INSERT INTO meta VALUES ('schema_version', '1');
        CREATE TABLE users (user_id TEXT PRIMARY KEY, name TEXT NOT NULL, created REAL NOT NULL);
        CREATE TABLE projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL,
            created REAL NOT NULL);
        CREATE TABLE members (project_id TEXT NOT NULL REFERENCES projects,
            user_id TEXT NOT NULL REFERENCES users, role TEXT NOT NULL,
            PRIMARY KEY (project_id, user_id));
        CREATE TABLE tokens (token_hash TEXT PRIMARY KEY,
            user_id TEXT NOT NULL REFERENCES users, created REAL NOT NULL, expires_at REAL);
        INSERT INTO users VALUES ('u_old', 'Old Owner', 1.0);
        INSERT INTO projects VALUES ('p_old', 'Old', 1.0);
        INSERT INTO members VALUES ('p_old', 'u_old', 'owner');
    """)
    from vrcollab.store.base import hash_token

    db.execute("INSERT INTO tokens VALUES (?, 'u_old', 1.0, NULL)", (hash_token("vrc_old"),))
    db.commit()
    db.close()
    store = SqliteStore(db_path)
    try:
        assert store.resolve_token("vrc_old", time.time()).name == "Old Owner"
        assert store.get_role("p_old", "u_old") == "owner"
        assert [t.kind for t in store.list_tokens("u_old")] == ["bearer"]
        assert [u.name for u, _ in store.list_members("p_old")] == ["Old Owner"]
    finally:
        store.close()
    store = SqliteStore(db_path)  # the migration runs again harmlessly
    store.close()


def test_access_log_lines_lose_their_query(caplog: pytest.LogCaptureFixture) -> None:
    install_log_scrubber()
    log = logging.getLogger("uvicorn.access")
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        log.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1", "GET",
                 "/join?invite=SECRET123", "1.1", 303)
    assert "SECRET123" not in caplog.text
    assert "/join" in caplog.text


def test_session_cookie_is_secure_behind_https(make_api: object) -> None:
    api: Api = make_api(public_url="https://review.example")  # type: ignore[operator]
    made = ensure_owner_account(_store(api))
    assert made is not None
    c = api.client
    parked = c.get(f"/signin?code={made[1]}", follow_redirects=False)
    assert all("Secure" in h for h in parked.headers.get_list("set-cookie"))
    # (the test client speaks http, so it keeps Secure cookies to itself: send them by hand)
    csrf = "t" * 20
    r = c.post("/api/session/signin", headers={
        "X-CSRF-Token": csrf, "Cookie": f"vrc_csrf={csrf}; vrc_signin={made[1]}"})
    assert r.status_code == 200
    cookies = r.headers.get_list("set-cookie")
    assert any(h.startswith("vrc_session=") for h in cookies)
    assert all("Secure" in h for h in cookies if not h.startswith("vrc_signin=\"\""))
    assert any(h.startswith("vrc_csrf=") and "SameSite=strict" in h for h in cookies)
