"""GET /api/rooms/{room_id}/members: names and roles of the room's project, members only."""

from __future__ import annotations

import httpx

from tests.server_process import ServerProcess


def test_members_lists_names_and_roles_for_members_only(shared_server: ServerProcess) -> None:
    boot = shared_server.bootstrap(owner_name="Olga")
    rev = shared_server.token(boot.project_id, "reviewer", "Rita")
    viewer = shared_server.token(boot.project_id, "viewer", "Vic")
    other = shared_server.bootstrap(owner_name="Mallory")
    url = f"{shared_server.base_url}/api/rooms/{boot.room_id}/members"
    with httpx.Client(timeout=30) as http:
        for token in (boot.owner_token, rev, viewer):
            res = http.get(url, headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 200
            body = res.json()
            assert body["room_id"] == boot.room_id
            assert [(m["name"], m["role"]) for m in body["members"]] == [
                ("Olga", "owner"), ("Rita", "reviewer"), ("Vic", "viewer")]
            assert body["members"][0]["user_id"] == boot.owner_id
        # Another project's owner and a missing room look alike: 404; no token: 401.
        res = http.get(url, headers={"Authorization": f"Bearer {other.owner_token}"})
        assert res.status_code == 404
        missing = f"{shared_server.base_url}/api/rooms/r_nope/members"
        res = http.get(missing, headers={"Authorization": f"Bearer {boot.owner_token}"})
        assert res.status_code == 404
        assert http.get(url).status_code == 401
