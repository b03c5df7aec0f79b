"""Voice signalling over real websockets (docs/voice.md, protocol R25-R28): relays reach only the
named member of the same room; role checks; a member who leaves or is removed is gone at once."""

from __future__ import annotations

import json

import httpx

from tests.server_process import ServerProcess
from vrcollab.client import RoomClient

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"


def _is(t: str, **kw: object) -> object:
    return lambda m: m["type"] == t and all(m.get(k) == v for k, v in kw.items())


async def _join(c: RoomClient, muted: bool = False) -> dict[str, object]:
    await c.send_raw(json.dumps({"type": "voice.join", "muted": muted}))
    return await c.wait_for(_is("voice.welcome"))  # type: ignore[arg-type]


async def test_relay_only_to_the_named_peer_and_leavers_are_gone(
        shared_server: ServerProcess) -> None:
    srv = shared_server
    boot = srv.bootstrap()
    rev = srv.token(boot.project_id, "reviewer", "Rita")
    ed = srv.token(boot.project_id, "editor", "Ed")
    other = srv.bootstrap(project_name="Other")
    url = srv.base_url
    async with RoomClient(url, boot.room_id, boot.owner_token) as a, \
            RoomClient(url, boot.room_id, rev) as b, RoomClient(url, boot.room_id, ed) as c, \
            RoomClient(url, other.room_id, other.owner_token) as x:
        w = await _join(a)
        assert w["mode"] == "mesh"
        assert w["can_speak"] is True
        assert w["peers"] == []
        wb = await _join(b)
        assert [p["session_id"] for p in wb["peers"]] == [a.session_id]  # type: ignore[attr-defined]
        await a.wait_for(_is("voice.joined"))
        await _join(c)
        await _join(x)
        await b.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id,
                                     "kind": "offer", "sdp": SDP}))
        got = await a.wait_for(_is("voice.signal"))
        assert got["from"] == b.session_id
        assert got["sdp"] == SDP
        # another room's member cannot reach this room's sessions
        await x.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id,
                                     "kind": "candidate", "candidate": None}))
        err = await x.wait_for(_is("voice.error"))
        assert err["code"] == "no_such_peer"
        await c.send_raw(json.dumps({"type": "ping", "t": 1}))
        await c.wait_for(_is("pong"))
        assert not [m for m in c.messages if m["type"] == "voice.signal"]
        assert len([m for m in a.messages if m["type"] == "voice.signal"]) == 1
        # the host mutes b; everyone sees it
        await a.send_raw(json.dumps({"type": "voice.host_mute", "session_id": b.session_id}))
        muted = await c.wait_for(_is("voice.muted", session_id=b.session_id))
        assert muted["muted"] is True
        assert muted["by"] == a.session_id
        # b drops its socket: the others learn at once that its voice ended
        await b.close()
        left = await a.wait_for(_is("voice.left", session_id=wb["session_id"]))
        assert left["type"] == "voice.left"
        # bad voice input gets an error, the room goes on
        await c.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id, "kind": "offer"}))
        bad = await c.wait_for(_is("error"))
        assert bad["code"] == "bad_message"


async def test_viewer_cannot_publish_and_removed_member_leaves_voice(
        shared_server: ServerProcess) -> None:
    srv = shared_server
    boot = srv.bootstrap()
    viewer = srv.token(boot.project_id, "viewer", "Vic")
    rev = srv.token(boot.project_id, "reviewer", "Rita")
    url = srv.base_url
    async with RoomClient(url, boot.room_id, boot.owner_token) as a, \
            RoomClient(url, boot.room_id, viewer) as v, RoomClient(url, boot.room_id, rev) as r:
        await _join(a)
        await v.send_raw(json.dumps({"type": "voice.join", "muted": False}))
        err = await v.wait_for(_is("voice.error"))
        assert err["code"] == "publish_forbidden"
        w = await v.wait_for(_is("voice.welcome"))
        assert w["can_speak"] is False
        assert w["muted"] is True
        for msg in ({"type": "voice.mute", "muted": False},
                    {"type": "voice.signal", "to": a.session_id, "kind": "offer", "sdp": SDP}):
            await v.send_raw(json.dumps(msg))
            e = await v.wait_for(_is("voice.error"), past=False)
            assert e["code"] == "publish_forbidden"
        recv_only = SDP.replace("a=sendrecv", "a=recvonly")
        await v.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id,
                                     "kind": "offer", "sdp": recv_only}))
        assert (await a.wait_for(_is("voice.signal")))["sdp"] == recv_only
        # the reviewer is removed from the project: its voice ends for everyone at once
        await _join(r)
        uid = r.welcome["user"]["user_id"]  # type: ignore[index]
        async with httpx.AsyncClient(base_url=url) as http:
            res = await http.delete(f"/api/projects/{boot.project_id}/members/{uid}",
                                    headers={"Authorization": f"Bearer {boot.owner_token}"})
            assert res.status_code == 200
        assert await r.wait_closed() == 4401
        await a.wait_for(_is("voice.left", session_id=r.session_id))


async def test_viewers_may_speak_is_a_project_setting(shared_server: ServerProcess) -> None:
    """Owners switch "viewers may speak" per project over REST; a viewer in voice is refused,
    then joined again by the server with the right to speak; another project is unaffected."""
    srv = shared_server
    boot = srv.bootstrap()
    other = srv.bootstrap(project_name="Other")
    viewer = srv.token(boot.project_id, "viewer", "Vic")
    editor = srv.token(boot.project_id, "editor", "Ed")
    other_viewer = srv.token(other.project_id, "viewer", "Olga")
    url = srv.base_url
    path = f"/api/projects/{boot.project_id}/settings"
    owner_h = {"Authorization": f"Bearer {boot.owner_token}"}
    async with httpx.AsyncClient(base_url=url) as http:
        got = (await http.get(path, headers={"Authorization": f"Bearer {viewer}"})).json()
        assert got == {"voice_viewers_may_speak": False, "set": []}
        for token in (viewer, editor):  # only the owner changes it
            res = await http.patch(path, json={"voice_viewers_may_speak": True},
                                   headers={"Authorization": f"Bearer {token}"})
            assert res.status_code == 403
        res = await http.patch(path, json={"voice_viewers_may_speak": "yes"}, headers=owner_h)
        assert res.status_code == 422
        res = await http.patch(path, json={"nope": True}, headers=owner_h)
        assert res.status_code == 422
        async with RoomClient(url, boot.room_id, boot.owner_token) as a, \
                RoomClient(url, boot.room_id, viewer) as v, \
                RoomClient(url, other.room_id, other_viewer) as ov:
            await _join(a)
            await v.send_raw(json.dumps({"type": "voice.join", "muted": False}))
            assert (await v.wait_for(_is("voice.error")))["code"] == "publish_forbidden"
            assert (await v.wait_for(_is("voice.welcome")))["can_speak"] is False
            await ov.send_raw(json.dumps({"type": "voice.join", "muted": False}))
            assert (await ov.wait_for(_is("voice.welcome")))["can_speak"] is False
            res = await http.patch(path, json={"voice_viewers_may_speak": True},
                                   headers=owner_h)
            assert res.status_code == 200
            assert res.json() == {"voice_viewers_may_speak": True,
                                  "set": ["voice_viewers_may_speak"]}
            # the live room applies it at once: the viewer is joined again, may speak
            w = await v.wait_for(_is("voice.welcome", can_speak=True))
            assert w["muted"] is True
            joined = await a.wait_for(lambda m: m["type"] == "voice.joined"
                                      and m["peer"]["session_id"] == v.session_id
                                      and m["peer"]["can_speak"] is True)
            assert joined["peer"]["muted"] is True
            await v.send_raw(json.dumps({"type": "voice.mute", "muted": False}))
            unmuted = await a.wait_for(_is("voice.muted", session_id=v.session_id, muted=False))
            assert unmuted["by"] is None
            await v.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id,
                                         "kind": "offer", "sdp": SDP}))
            assert (await a.wait_for(_is("voice.signal")))["sdp"] == SDP
            # the other project's viewer still may not speak
            await ov.send_raw(json.dumps({"type": "voice.mute", "muted": False}))
            assert (await ov.wait_for(_is("voice.error"), past=False))["code"] == \
                "publish_forbidden"
        # a new room session reads the stored setting; null returns to the server default
        async with RoomClient(url, boot.room_id, viewer) as v2:
            assert (await _join(v2))["can_speak"] is True
        res = await http.patch(path, json={"voice_viewers_may_speak": None}, headers=owner_h)
        assert res.json() == {"voice_viewers_may_speak": False, "set": []}
        async with RoomClient(url, boot.room_id, viewer) as v3:
            await v3.send_raw(json.dumps({"type": "voice.join", "muted": False}))
            assert (await v3.wait_for(_is("voice.welcome")))["can_speak"] is False
        audit = (await http.get(f"/api/projects/{boot.project_id}/audit",
                                headers=owner_h)).json()
        assert [e["detail"] for e in audit if e["action"] == "project.settings"][:2] in (
            [{}, {"voice_viewers_may_speak": True}], [{"voice_viewers_may_speak": True}, {}])
