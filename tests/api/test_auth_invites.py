"""Invites (issue 8 item 9, issue 10): role, expiry, number of uses, revoke, short codes, audit;
rate limits on acceptance."""

from __future__ import annotations

import time

from tests.api.api_support import Api, bearer


def _invite(api: Api, **body: object) -> dict[str, object]:
    res = api.client.post(f"/api/projects/{api.project_id}/invites", headers=api.owner,
                          json=body)
    assert res.status_code == 201, res.text
    out: dict[str, object] = res.json()
    return out


def _accept(api: Api, invite: object, name: str = "Rita") -> tuple[int, dict[str, object]]:
    res = api.client.post("/api/invites/accept", json={"invite": invite, "name": name})
    return res.status_code, res.json()


def test_invites_are_single_use_by_default(api: Api) -> None:
    inv = _invite(api, role="reviewer")
    assert inv["max_uses"] == 1
    assert inv["uses"] == 0
    assert str(inv["url"]).split("?", 1)[0].endswith("/join")
    status, body = _accept(api, inv["invite"])
    assert status == 201
    assert body["role"] == "reviewer"
    tokens = api.client.get("/api/tokens", headers=bearer(str(body["token"]))).json()
    assert tokens[0]["expires_at"] > time.time() + 29 * 24 * 3600  # invite tokens expire
    status, body = _accept(api, inv["invite"], "Rita again")
    assert status == 401
    assert body["error"]["code"] == "invite_used"  # type: ignore[index]
    # exactly one Rita joined: no second user from the same invite
    names = [m["name"] for m in api.client.get(f"/api/projects/{api.project_id}/members",
                                                headers=api.owner).json()]
    assert names.count("Rita") == 1
    assert "Rita again" not in names


def test_invite_uses_expiry_and_revoke(api: Api) -> None:
    three = _invite(api, role="viewer", max_uses=3)
    for i in range(3):
        assert _accept(api, three["invite"], f"V{i}")[0] == 201
    assert _accept(api, three["invite"], "V4")[1]["error"]["code"] == "invite_used"  # type: ignore[index]

    short = _invite(api, role="editor", expires_in_s=0.3)
    time.sleep(0.5)
    status, body = _accept(api, short["invite"])
    assert status == 401
    assert body["error"]["code"] == "invite_expired"

    many = _invite(api, role="reviewer", max_uses=None)
    assert _accept(api, many["invite"], "First")[0] == 201
    res = api.client.delete(f"/api/projects/{api.project_id}/invites/{many['invite_id']}",
                            headers=api.owner)
    assert res.status_code == 200
    assert res.json()["status"] == "invite_revoked"
    status, body = _accept(api, many["invite"], "Second")
    assert status == 401
    assert body["error"]["code"] == "invite_revoked"

    listed = {i["invite_id"]: i for i in api.client.get(
        f"/api/projects/{api.project_id}/invites", headers=api.owner).json()}
    assert listed[three["invite_id"]]["uses"] == 3  # type: ignore[index]
    assert listed[three["invite_id"]]["status"] == "invite_used"  # type: ignore[index]
    assert listed[many["invite_id"]]["revoked"] is True  # type: ignore[index]
    assert "invite" not in listed[many["invite_id"]]
    assert "code" not in listed[many["invite_id"]]


def test_only_owners_manage_invites(api: Api) -> None:
    inv = _invite(api)
    url = f"/api/projects/{api.project_id}/invites"
    assert api.client.post(url, headers=api.viewer, json={}).status_code == 403
    assert api.client.get(url, headers=api.viewer).status_code == 403
    assert api.client.delete(f"{url}/{inv['invite_id']}", headers=api.viewer).status_code == 403
    assert api.client.get(url, headers=api.outsider).status_code == 404
    other = f"/api/projects/{api.other_project_id}/invites/{inv['invite_id']}"
    assert api.client.delete(other, headers=api.outsider).status_code == 404
    assert api.client.post(url, headers=api.owner, json={"max_uses": 0}).status_code == 422


def test_short_code_joins_in_the_browser_flow(api: Api) -> None:
    inv = _invite(api, role="reviewer")
    code = str(inv["code"])
    assert len(code) == 9
    assert code[4] == "-"
    c = api.client
    csrf = c.get("/api/session").cookies.get("vrc_csrf") or c.cookies.get("vrc_csrf")
    res = c.post("/api/session/join", json={"code": code.lower().replace("-", " "),
                                             "name": "Hedy"},
                 headers={"X-CSRF-Token": str(csrf)})
    assert res.status_code == 201, res.text
    assert res.json()["role"] == "reviewer"
    assert c.get("/api/session").json()["user"]["name"] == "Hedy"
    # the code was single-use too
    res = c.post("/api/session/join", json={"code": code},
                 headers={"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))})
    assert res.status_code == 401
    assert res.json()["error"]["code"] == "invite_used"


def test_audit_log_names_the_invite_of_each_join(api: Api) -> None:
    inv = _invite(api, role="reviewer", label="for Rita")
    _, body = _accept(api, inv["invite"], "Rita")
    log = api.client.get(f"/api/projects/{api.project_id}/audit", headers=api.owner).json()
    joined = [e for e in log if e["action"] == "member.joined"]
    assert joined[0]["target_id"] == body["user_id"]
    assert joined[0]["detail"]["invite_id"] == inv["invite_id"]
    assert joined[0]["detail"]["role"] == "reviewer"
    assert any(e["action"] == "invite.created" and e["detail"]["invite_id"] == inv["invite_id"]
               for e in log)
    assert api.client.get(f"/api/projects/{api.project_id}/audit",
                          headers=api.viewer).status_code == 403


def test_failed_acceptances_are_rate_limited(make_api: object) -> None:
    api: Api = make_api(auth_max_failures=3, auth_failure_window_s=60.0)  # type: ignore[operator]
    good = _invite(api)
    for _ in range(3):
        assert _accept(api, "not-an-invite")[0] == 401
    status, body = _accept(api, good["invite"])
    assert status == 429
    assert body["error"]["code"] == "rate_limited"
    # sign-in links share the rule (their own bucket)
    c = api.client
    c.get("/signin?code=si_wrong", follow_redirects=False)
    csrf = {"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))}
    for _ in range(3):
        r = c.post("/api/session/signin", headers=csrf)
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "bad_signin"
    r = c.post("/api/session/signin", headers=csrf)
    assert r.status_code == 429


def test_a_signed_in_browser_accepting_an_invite_stays_one_person(api: Api) -> None:
    c = api.client
    first = _invite(api, role="viewer")
    r = c.get(f"/join?invite={first['invite']}", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/join"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert c.get("/api/session/invite").json()["role"] == "viewer"
    def csrf() -> dict[str, str]:  # rotated at sign-in: read it each time, as the page does
        return {"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))}

    made = c.post("/api/session/join", json={"name": "Rita"}, headers=csrf()).json()
    assert made["new_user"] is True
    second = _invite(api, role="reviewer")
    c.get(f"/join?invite={second['invite']}", follow_redirects=False)
    again = c.post("/api/session/join", json={"name": "ignored"}, headers=csrf()).json()
    assert again["new_user"] is False
    assert again["user"]["user_id"] == made["user"]["user_id"]
    assert again["role"] == "reviewer"  # upgraded, not a second Rita
    members = c.get(f"/api/projects/{api.project_id}/members", headers=api.owner).json()
    assert [m["name"] for m in members].count("Rita") == 1
    # a viewer invite never downgrades a reviewer
    third = _invite(api, role="viewer")
    c.get(f"/join?invite={third['invite']}", follow_redirects=False)
    assert c.post("/api/session/join", json={}, headers=csrf()).json()["role"] == "reviewer"


def test_bearer_of_an_invite_cannot_create_projects(api: Api) -> None:
    inv = _invite(api, role="viewer")
    _, body = _accept(api, inv["invite"], "Vera")
    res = api.client.post("/api/projects", json={"name": "Mine"},
                          headers=bearer(str(body["token"])))
    assert res.status_code == 403
    assert res.json()["error"]["code"] == "no_create_permission"


def test_short_code_link_is_held_like_an_invite_link(api: Api) -> None:
    inv = _invite(api, role="viewer")
    c = api.client
    r = c.get(str(inv["code_url"]).replace("http://testserver", ""), follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/join"
    assert c.get("/api/session/invite").json()["role"] == "viewer"
    res = c.post("/api/session/join", json={"name": "Quest"},
                 headers={"X-CSRF-Token": str(c.cookies.get("vrc_csrf"))})
    assert res.status_code == 201
    wrong = c.get("/join?code=AAAA-AAAA", follow_redirects=False)
    assert wrong.headers["location"] == "/join?error=bad_invite"
