"""What sessions on different processes share (issue 12): the member rate limit (R3), voice
signalling (R25-R28), meetings (the meeting tables on Postgres), and a lost ack on an edge.

Real ``redis-server`` and real server processes on 127.0.0.1 (``cluster_support``). Waits are
bounded by generous timeouts, never asserted on.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.cluster.cluster_support import Cluster, database_url, redis_url  # noqa: F401
from tests.cluster.test_cluster import FAST, until
from tests.server.test_lost_ack import lose_an_ack
from vrcollab.client import RoomClient

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n"


def _is(kind: str, /, **kw: object) -> Any:
    return lambda m: m["type"] == kind and all(m.get(k) == v for k, v in kw.items())


def _pongs(c: RoomClient) -> list[Any]:
    return [m["t"] for m in c.messages if m["type"] == "pong"]


async def test_member_rate_limit_is_one_budget_over_all_processes(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """A member with a session on each of two processes spends one bucket (R3): once the
    session on p0 used the burst, the session on p1 waits for the refill (throttled, never
    closed) while another member on p1 is answered at once."""
    env = {**FAST, "VRCOLLAB_MEMBER_RATE_LIMIT_PER_SECOND": "0.1",
           "VRCOLLAB_MEMBER_RATE_LIMIT_BURST": "10"}
    with Cluster(tmp_path, database_url, redis_url, 2, env=env) as cl:
        room = cl.room()
        p0, p1 = cl.servers
        many = cl.token(room.project_id, "reviewer", "Many")
        calm = RoomClient(p1.base_url, room.room_id, room.owner_token, name="Calm")
        await calm.connect()
        c0 = RoomClient(p0.base_url, room.room_id, many, name="M0")
        c1 = RoomClient(p1.base_url, room.room_id, many, name="M1")
        await c0.connect()
        await c1.connect()
        for i in range(10):  # the whole burst, through p0
            await c0.send_raw(json.dumps({"type": "ping", "t": i}))
        await c0.wait_for(_is("pong", t=9), timeout=30)
        await c1.send_raw(json.dumps({"type": "ping", "t": 100}))  # p1: the bucket is empty
        for _ in range(3):  # another member on p1 is not held up
            await calm.ping(timeout=30)
        assert _pongs(c1) == []  # a per-process bucket would have answered before calm's pings
        await c1.wait_for(_is("pong", t=100), timeout=60)  # after the refill (10 s at 0.1/s)
        assert c0.close_code is None
        assert c1.close_code is None
        assert c0.connected
        assert c1.connected
        for c in (c0, c1, calm):
            await c.close()


async def _join_voice(c: RoomClient, muted: bool = False) -> dict[str, Any]:
    await c.send_raw(json.dumps({"type": "voice.join", "muted": muted}))
    return await c.wait_for(_is("voice.welcome"), timeout=20)


async def test_voice_signalling_between_sessions_on_different_processes(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """Three processes: A on the owner p0, B on p1, C on p2. Offers, answers and candidates
    reach the named peer only, between the owner and an edge and between two edges; mute,
    host mute and leave reach everyone; a viewer on an edge is still refused to publish."""
    with Cluster(tmp_path, database_url, redis_url, 3, env=FAST) as cl:
        room = cl.room()
        p0, p1, p2 = cl.servers
        a = RoomClient(p0.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()  # first in: p0 owns the room
        b = RoomClient(p1.base_url, room.room_id, cl.token(room.project_id, "reviewer", "B"),
                       name="B")
        c = RoomClient(p2.base_url, room.room_id, cl.token(room.project_id, "editor", "C"),
                       name="C")
        v = RoomClient(p1.base_url, room.room_id, cl.token(room.project_id, "viewer", "V"),
                       name="V")
        for x in (b, c, v):
            await x.connect()
        await until(lambda: len(a.presence) == 3)

        assert (await _join_voice(a))["peers"] == []
        wb = await _join_voice(b)  # an edge's join reaches the owner's room voice
        assert wb["mode"] == "mesh"
        assert wb["can_speak"] is True
        assert [p["session_id"] for p in wb["peers"]] == [a.session_id]
        await a.wait_for(_is("voice.joined"))
        wc = await _join_voice(c)
        assert {p["session_id"] for p in wc["peers"]} == {a.session_id, b.session_id}
        await b.wait_for(_is("voice.joined"))

        # owner process <-> edge
        await b.send_raw(json.dumps({"type": "voice.signal", "to": a.session_id,
                                     "kind": "offer", "sdp": SDP}))
        got = await a.wait_for(_is("voice.signal", kind="offer"), timeout=20)
        assert got["from"] == b.session_id
        assert got["sdp"] == SDP
        answer = SDP.replace("o=- 1 2", "o=- 3 4")
        await a.send_raw(json.dumps({"type": "voice.signal", "to": b.session_id,
                                     "kind": "answer", "sdp": answer}))
        got = await b.wait_for(_is("voice.signal", kind="answer"), timeout=20)
        assert got["from"] == a.session_id
        assert got["sdp"] == answer

        # edge <-> edge (p1 -> owner -> p2 and back), candidates in send order
        cands = [{"candidate": f"candidate:{i} 1 udp 2122260223 127.0.0.1 {5000 + i} typ host",
                  "sdpMid": "0", "sdpMLineIndex": 0, "usernameFragment": None}
                 for i in range(5)]
        await c.send_raw(json.dumps({"type": "voice.signal", "to": b.session_id,
                                     "kind": "offer", "sdp": SDP}))
        for cand in cands:
            await c.send_raw(json.dumps({"type": "voice.signal", "to": b.session_id,
                                         "kind": "candidate", "candidate": cand}))
        await c.send_raw(json.dumps({"type": "voice.signal", "to": b.session_id,
                                     "kind": "candidate", "candidate": None}))
        await b.wait_for(_is("voice.signal", kind="candidate", candidate=None), timeout=20)
        from_c = [m for m in b.messages if m["type"] == "voice.signal"
                  and m["from"] == c.session_id]
        assert [m["kind"] for m in from_c] == ["offer"] + ["candidate"] * 6
        assert [m["candidate"] for m in from_c[1:6]] == cands
        await b.send_raw(json.dumps({"type": "voice.signal", "to": c.session_id,
                                     "kind": "answer", "sdp": answer}))
        got = await c.wait_for(_is("voice.signal", kind="answer"), timeout=20)
        assert got["from"] == b.session_id
        # relays reach the named peer only
        await a.ping(timeout=20)
        assert [m["from"] for m in a.messages if m["type"] == "voice.signal"] == [b.session_id]
        assert [m["from"] for m in c.messages if m["type"] == "voice.signal"] == [b.session_id]

        # mute and host mute from an edge reach the other processes
        await c.send_raw(json.dumps({"type": "voice.host_mute", "session_id": b.session_id}))
        muted = await a.wait_for(_is("voice.muted", session_id=b.session_id), timeout=20)
        assert muted["muted"] is True
        assert muted["by"] == c.session_id
        await b.wait_for(_is("voice.muted", session_id=b.session_id), timeout=20)

        # the rules still hold for an edge's session: a viewer may not publish, errors return
        await v.send_raw(json.dumps({"type": "voice.join", "muted": False}))
        err = await v.wait_for(_is("voice.error"), timeout=20)
        assert err["code"] == "publish_forbidden"
        await v.wait_for(_is("voice.welcome"), timeout=20)
        await v.send_raw(json.dumps({"type": "voice.signal", "to": "nobody",
                                     "kind": "candidate", "candidate": None}))
        err = await v.wait_for(_is("voice.error", code="no_such_peer"), timeout=20)

        # an edge's session leaves: its voice ends for everyone
        await b.close()
        await a.wait_for(_is("voice.left", session_id=b.session_id), timeout=20)
        await c.wait_for(_is("voice.left", session_id=b.session_id), timeout=20)
        assert not [m for m in a.messages + c.messages + v.messages
                    if m["type"] == "error" and m.get("code") == "voice_unavailable"]
        for x in (a, c, v):
            await x.close()


async def test_meetings_live_in_the_shared_database_and_survive_an_owner_kill(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """The meeting tables are on Postgres: a meeting the owner p0 runs is listed through p1;
    after ``kill -9`` of p0 the process that takes the room over closes the dead owner's
    meeting (it never ends otherwise) and runs a new one; nothing is in a per-process file."""
    with Cluster(tmp_path, database_url, redis_url, 2, env=FAST) as cl:
        room = cl.room()
        p0, p1 = cl.servers
        a = RoomClient(p0.base_url, room.room_id, room.owner_token, name="A")
        await a.connect()  # p0 owns the room; the first join starts a meeting there
        b = RoomClient(p1.base_url, room.room_id, cl.token(room.project_id, "reviewer", "B"),
                       name="B")
        await b.connect()
        first = (await b.wait_for(_is("meeting"), timeout=20))["meeting_id"]
        auth = {"Authorization": f"Bearer {room.owner_token}"}

        async def listed() -> list[dict[str, Any]]:
            async with httpx.AsyncClient(base_url=p1.base_url, headers=auth) as http:
                r = await http.get(f"/api/projects/{room.project_id}/meetings")
                assert r.status_code == 200, r.text
                return list(r.json())

        got: list[dict[str, Any]] = []

        async def poll(pred: Any) -> None:
            async with asyncio.timeout(30):
                while True:
                    got[:] = await listed()
                    if pred(got):
                        return
                    await asyncio.sleep(0.1)

        await poll(lambda ms: [m["meeting_id"] for m in ms] == [first])
        assert got[0]["running"] is True  # through p1, which does not run the room
        p0.kill()
        assert await b.wait_closed(30) == 1012
        b.messages.clear()
        await b.connect()  # p1 takes the room over
        second = (await b.wait_for(_is("meeting"), timeout=20))["meeting_id"]
        assert second != first
        await poll(lambda ms: {m["meeting_id"]: m["running"] for m in ms}
                   == {first: False, second: True})
        old = next(m for m in got if m["meeting_id"] == first)
        assert old["ended"] is not None
        assert old["ended"] >= old["started"]
        assert not list(tmp_path.rglob("meetings.db"))
        await b.close()


async def test_a_lost_ack_on_an_edge_is_answered_by_the_stored_commit(
        tmp_path: Path, database_url: str, redis_url: str) -> None:  # noqa: F811
    """The sender sits on an edge (its ack travels owner -> stream -> edge -> socket) and its
    connection dies with the ack unread; the resend through the edge gets the stored seq."""
    with Cluster(tmp_path, database_url, redis_url, 2, env=FAST) as cl:
        room = cl.room()
        p0, p1 = cl.servers
        observer = RoomClient(p0.base_url, room.room_id, room.owner_token, name="O")
        await observer.connect()  # p0 owns the room
        sender = RoomClient(p1.base_url, room.room_id,
                            cl.token(room.project_id, "reviewer", "S"), name="S")
        await sender.connect()
        try:
            await lose_an_ack(sender, observer)
        finally:
            await sender.close()
            await observer.close()
