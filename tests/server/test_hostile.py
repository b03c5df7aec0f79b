"""Issue 8: a hostile member cannot hurt a room. One test per attack, through the real server on
127.0.0.1: the attacker gets a reject, an error or a close with a documented code (protocol
R3, R6, R17-R22), the others stay connected and keep every acknowledged op."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.server_process import Bootstrap, ServerProcess
from vrcollab.client import OpRejectedError, RoomClient, ws_url
from vrcollab.review.bcf_exchange import export_bcf, frame_for
from vrcollab.sync.messages import Commit

SURROGATE = "\ud800"  # json.dumps writes it as the escape "\ud800", as an attacker would


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("hostile"),
                      env={"VRCOLLAB_BCF_IMPORT_MAX_OPS": "5000"})
    s.start()
    yield s
    s.stop()


def raw(obj: dict[str, Any]) -> str:
    return json.dumps(obj)  # ensure_ascii: lone surrogates travel as JSON escapes


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def error_for(c: RoomClient, frame: str) -> dict[str, Any]:
    await c.send_raw(frame)
    return await c.wait_for(lambda m: m["type"] in ("error", "reject"), past=False)


async def close_code(ws: Any) -> int:
    """Read a raw websocket until the server closes it; the close code."""
    async def drain() -> None:
        while True:
            await asyncio.wait_for(ws.recv(), 10)

    with pytest.raises(ConnectionClosed) as info:
        await drain()
    assert info.value.rcvd is not None
    return info.value.rcvd.code


async def still_fine(clients: list[RoomClient], acked: dict[str, int]) -> None:
    """Everyone is connected, answers pings, and holds every acknowledged annotation."""
    for c in clients:
        assert c.close_code is None
        await c.ping()
        await c.wait_seq(max(acked.values(), default=0))
        for aid in acked:
            assert aid in c.state.annotations, aid


async def test_lone_surrogate_in_any_field_is_refused_and_room_lives(
        srv: ServerProcess) -> None:  # protocol R17
    b = srv.bootstrap(project_name="surrogates")
    viewer_t = srv.token(b.project_id, "viewer", "Vic")
    rev_t = srv.token(b.project_id, "reviewer", "Rev")
    async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
            RoomClient(srv.base_url, b.room_id, viewer_t) as viewer, \
            RoomClient(srv.base_url, b.room_id, rev_t) as rev:
        ack = await owner.op("annotation.create", annotation={"id": "A", "position": [0, 0, 0]})
        acked = {"A": ack["seq"]}
        # a viewer: pose laser node id, follow session id
        pose = {"type": "pose", "head": {"p": [0, 1, 0], "q": [0, 0, 0, 1]},
                "laser": {"origin": [0, 0, 0], "dir": [0, 0, 1], "hit": None,
                          "node_id": SURROGATE}}
        assert (await error_for(viewer, raw(pose)))["code"] == "bad_string"
        follow = {"type": "cmd", "name": "follow", "session_id": SURROGATE}
        assert (await error_for(viewer, raw(follow)))["code"] == "bad_string"
        # a reviewer: annotation text, comment text, labels, op_id, object keys
        bad_ops = [
            {"kind": "annotation.create", "annotation": {"id": "B", "position": [0, 0, 0],
                                                         "text": f"x{SURROGATE}y"}},
            {"kind": "comment.add", "annotation_id": "A",
             "comment": {"id": "c1", "text": SURROGATE}},
            {"kind": "annotation.create", "annotation": {"id": "C", "position": [0, 0, 0],
                                                         "labels": [SURROGATE]}},
            {"kind": "annotation.create", "annotation": {"id": SURROGATE,
                                                         "position": [0, 0, 0]}},
        ]
        for i, body in enumerate(bad_ops):
            msg = await error_for(rev, raw({"type": "op", "op_id": f"bad{i}", **body}))
            assert msg == {**msg, "type": "reject", "op_id": f"bad{i}", "code": "bad_string"}
        msg = await error_for(rev, raw({"type": "op", "op_id": SURROGATE,
                                        "kind": "annotation.delete", "id": "A"}))
        assert msg["type"] == "error"
        assert msg["code"] == "bad_string"
        # the hello of a newcomer with a surrogate name: that one session closes with 4400
        async with websockets.connect(
                f"{ws_url(srv.base_url, b.room_id)}?token={viewer_t}") as ws:
            await ws.send(raw({"type": "hello", "v": 1, "client_id": "x", "name": SURROGATE}))
            assert await close_code(ws) == 4400
        ack = await rev.op("comment.add", annotation_id="A", comment={"id": "ok", "text": "ok"})
        await still_fine([owner, viewer, rev], acked)
        # nothing was stored: a newcomer joins, BCF export still works
        async with RoomClient(srv.base_url, b.room_id, viewer_t) as late:
            assert set(late.state.annotations) == {"A"}
            assert [c["id"] for c in late.state.annotations["A"]["comments"]] == ["ok"]
        r = httpx.get(f"{srv.base_url}/api/rooms/{b.room_id}/bcf", headers=auth(b.owner_token))
        assert r.status_code == 200


async def test_room_with_stored_lone_surrogates_loads_and_serves(
        tmp_path_factory: pytest.TempPathFactory) -> None:  # protocol R17: repair on load
    srv = ServerProcess(tmp_path_factory.mktemp("bricked"))
    b: Bootstrap = srv.bootstrap(project_name="bricked")
    store = srv.open_store()
    try:  # what an older server let through: a snapshot and later commits holding "\ud800"
        bad = f"bad{SURROGATE}text"
        ann = {"id": "S", "position": [0, 0, 0], "normal": [0, 0, 1], "node_id": None,
               "element_id": None, "viewpoint": None, "title": bad, "text": bad,
               "status": "open", "priority": "normal", "assignee": None, "labels": [bad],
               "author": b.owner_id, "created": 1.0, "updated": 1.0, "comments": []}
        store.append_commits(b.room_id, [Commit(1, "o1", "annotation.create", b.owner_id, 1.0,
                                                {"annotation": {**ann, "comments": None}})])
        store.save_snapshot(b.room_id, 1, {"nodes": {}, "annotations": {"S": ann},
                                           "measurements": {}, "sections": {},
                                           "presenter": None})
        store.append_commits(b.room_id, [
            Commit(2, "o2", "comment.add", b.owner_id, 2.0,
                   {"annotation_id": "S", "comment": {"id": "k", "text": bad}}),
            Commit(3, "o3", "annotation.create", b.owner_id, 3.0,
                   {"annotation": {**ann, "id": "T", "text": SURROGATE}}),
        ])
    finally:
        store.close()
    with srv:
        async with RoomClient(srv.base_url, b.room_id, b.owner_token) as c, \
                RoomClient(srv.base_url, b.room_id, b.owner_token) as d:
            assert c.seq == 3
            s = c.state.annotations["S"]
            assert s["text"] == "bad\ufffdtext"
            assert s["labels"] == ["bad\ufffdtext"]
            assert s["comments"][0]["text"] == "bad\ufffdtext"
            assert c.state.annotations["T"]["text"] == "\ufffd"
            ack = await c.op("comment.add", annotation_id="S", comment={"id": "n", "text": "n"})
            await d.wait_seq(ack["seq"])
            assert d.state == c.state
        r = httpx.get(f"{srv.base_url}/api/rooms/{b.room_id}/bcf", headers=auth(b.owner_token))
        assert r.status_code == 200


async def test_reviewer_cannot_empty_anothers_annotation(srv: ServerProcess) -> None:
    """Protocol R21 (who may change which field) and R19 (bounded coordinates)."""
    b = srv.bootstrap(project_name="fields")
    store = srv.open_store()
    try:  # a room whose model says where the model is
        store.set_room_model(b.room_id, {"version_id": "v", "bounds": {"min": [0, 0, 0],
                                                                     "max": [10, 5, 3]}})
    finally:
        store.close()
    rev_t = srv.token(b.project_id, "reviewer", "Rita")
    ed_t = srv.token(b.project_id, "editor", "Ed")
    async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
            RoomClient(srv.base_url, b.room_id, rev_t) as rev, \
            RoomClient(srv.base_url, b.room_id, ed_t) as ed:
        ack = await owner.op("annotation.create", annotation={
            "id": "A", "position": [1, 1, 1], "title": "Crack", "text": "in the slab",
            "labels": ["structure"]})
        acked = {"A": ack["seq"]}
        for props in ({"title": ""}, {"text": ""}, {"labels": []}, {"position": [2, 2, 2]},
                      {"status": "closed", "title": ""}, {"viewpoint": None},
                      {"anchor_state": "ok"}):
            with pytest.raises(OpRejectedError) as info:
                await rev.op("annotation.update", id="A", props=props)
            assert info.value.code in ("forbidden", "bad_op"), props
        for pos in ([1e300, 1e300, 0], [2e6, 0, 0]):  # beyond any model (R19)
            with pytest.raises(OpRejectedError) as info:
                await owner.op("annotation.update", id="A", props={"position": pos})
            assert info.value.code == "bad_op"
        # the status workflow is open to every reviewer
        ack = await rev.op("annotation.update", id="A",
                           props={"status": "in_progress", "assignee": "u-someone"})
        # an editor may change the text; nobody may leave the model's extent
        await ed.op("annotation.update", id="A", props={"text": "edited"})
        with pytest.raises(OpRejectedError) as info:
            await ed.op("annotation.update", id="A", props={"position": [500, 0, 0]})
        assert info.value.code == "out_of_bounds"
        with pytest.raises(OpRejectedError) as info:
            await rev.op("annotation.create", annotation={"id": "far", "position": [0, 900, 0]})
        assert info.value.code == "out_of_bounds"
        mine = await rev.op("annotation.create", annotation={"id": "R", "position": [9, 4, 2]})
        await rev.op("annotation.update", id="R", props={"title": "mine", "position": [8, 4, 2]})
        acked["R"] = mine["seq"]
        await still_fine([owner, rev, ed], acked)
        a = owner.state.annotations["A"]
        assert (a["title"], a["text"], a["labels"], a["position"]) == (
            "Crack", "edited", ["structure"], [1, 1, 1])
        assert a["status"] == "in_progress"


async def test_presenter_cannot_be_hijacked_and_gathers_are_rate_limited(
        srv: ServerProcess) -> None:  # protocol R22
    b = srv.bootstrap(project_name="presenter")
    t1 = srv.token(b.project_id, "reviewer", "Presenter")
    t2 = srv.token(b.project_id, "reviewer", "Hijacker")
    async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
            RoomClient(srv.base_url, b.room_id, t1) as p, \
            RoomClient(srv.base_url, b.room_id, t2) as h:
        uid_p = p.welcome["user"]["user_id"]  # type: ignore[index]
        uid_h = h.welcome["user"]["user_id"]  # type: ignore[index]
        await p.op("presenter.set", user_id=uid_p)
        for target in (uid_h, None):
            with pytest.raises(OpRejectedError) as info:
                await h.op("presenter.set", user_id=target)
            assert info.value.code == "forbidden"
        assert owner.state.presenter == uid_p
        # 50 gathers in a burst from the presenter move the others' cameras once
        await p.pose(([1.0, 1.6, 2.0], [0.0, 0.0, 0.0, 1.0]))
        await p.ping()
        for _ in range(50):
            await p.command("gather")
        ack = await p.op("annotation.create", annotation={"id": "mark", "position": [0, 0, 0]})
        await owner.wait_seq(ack["seq"])
        await h.wait_seq(ack["seq"])
        for c in (owner, h):
            assert sum(1 for m in c.messages if m["type"] == "gather") == 1
        limited = [m for m in p.messages if m["type"] == "error"]
        assert limited
        assert {m["code"] for m in limited} == {"rate_limited"}
        # the presenter hands over by clearing; then anyone may present; an editor always may
        await p.op("presenter.set", user_id=None)
        await h.op("presenter.set", user_id=uid_h)
        await owner.op("presenter.set", user_id=uid_p)
        await still_fine([owner, p, h], {"mark": ack["seq"]})
        assert h.state.presenter == uid_p


@pytest.mark.parametrize(("pose", "why"), [
    ({"head": {"p": [1e300, 0, 0], "q": [0, 0, 0, 1]}}, "huge position"),
    ({"head": {"p": [0, 0, 0], "q": [0, 0, 0, 0]}}, "zero quaternion"),
    ({"head": {"p": [0, 0, 0], "q": [0, 0, 0, 2]}}, "not a unit quaternion"),
    ({"head": {"p": [0, 0, 0], "q": [0, 0, 0, 1]},
      "laser": {"origin": [0, 0, 0], "dir": [1e9, 0, 0], "hit": None, "node_id": None}},
     "laser direction"),
])
async def test_bad_poses_are_refused(srv: ServerProcess, pose: dict[str, Any],
                                     why: str) -> None:  # protocol R19
    b = srv.bootstrap(project_name="poses")
    viewer_t = srv.token(b.project_id, "viewer", "V")
    async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
            RoomClient(srv.base_url, b.room_id, viewer_t) as v:
        err = await error_for(v, raw({"type": "pose", **pose}))
        assert err["code"] == "bad_message", why
        await v.pose(([0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.02]))  # within tolerance: normalised
        got = await owner.wait_for(lambda m: m["type"] == "poses" and v.session_id in m["poses"])
        q = got["poses"][v.session_id]["head"]["q"]
        assert abs(sum(x * x for x in q) - 1.0) < 1e-9
        await still_fine([owner, v], {})


async def test_names_come_from_membership(srv: ServerProcess) -> None:  # protocol R18
    b = srv.bootstrap(project_name="names", owner_name="Alice Owner")
    viewer_t = srv.token(b.project_id, "viewer", "Val")
    sneaky_t = srv.token(b.project_id, "viewer", "Eve\u202e\x00\x07 lin")  # stored long ago
    async with RoomClient(srv.base_url, b.room_id, b.owner_token, name="x") as owner:
        async with RoomClient(srv.base_url, b.room_id, viewer_t, name="Alice Owner") as v:
            joined = await owner.wait_for(lambda m: m["type"] == "presence")
            assert joined["entry"]["name"] == "Val"
            assert v.welcome["user"]["name"] == "Val"  # type: ignore[index]
        async with RoomClient(srv.base_url, b.room_id, sneaky_t, name="") as s:
            assert s.welcome["user"]["name"] == "Eve lin"  # type: ignore[index]
        for name in ("A\u202eB", "nul\x00", "bell\x07", "line\u2028", "iso\u2066x"):
            c = RoomClient(srv.base_url, b.room_id, viewer_t, name=name)
            with pytest.raises(ConnectionClosed):
                await c.connect()
            assert c.close_code == 4400, name
        await still_fine([owner], {})


async def test_room_limits_refuse_with_room_full(
        tmp_path_factory: pytest.TempPathFactory) -> None:  # protocol R20
    with ServerProcess(tmp_path_factory.mktemp("limits"), env={
            "VRCOLLAB_ROOM_MAX_ANNOTATIONS": "3", "VRCOLLAB_ROOM_MAX_COMMENTS": "2",
            "VRCOLLAB_ROOM_MAX_ANNOTATION_BYTES": "20000"}) as srv:
        b = srv.bootstrap()
        rev_t = srv.token(b.project_id, "reviewer", "R")
        async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
                RoomClient(srv.base_url, b.room_id, rev_t) as rev:
            acked: dict[str, int] = {}
            for i in range(3):
                acked[f"a{i}"] = (await rev.op("annotation.create", annotation={
                    "id": f"a{i}", "position": [0, 0, 0]}))["seq"]
            with pytest.raises(OpRejectedError) as info:
                await rev.op("annotation.create", annotation={"id": "a3", "position": [0, 0, 0]})
            assert info.value.code == "room_full"
            await rev.op("comment.add", annotation_id="a0", comment={"id": "c0", "text": "x"})
            await rev.op("comment.add", annotation_id="a1", comment={"id": "c1", "text": "x"})
            with pytest.raises(OpRejectedError) as info:
                await rev.op("comment.add", annotation_id="a2", comment={"id": "c2", "text": "y"})
            assert info.value.code == "room_full"
            for aid in ("a0", "a1"):  # bytes of text: two long texts fit, the third does not
                await owner.op("annotation.update", id=aid, props={"text": "t" * 9000})
            with pytest.raises(OpRejectedError) as info:
                await owner.op("annotation.update", id="a2", props={"text": "t" * 9000})
            assert info.value.code == "room_full"
            await still_fine([owner, rev], acked)
            # a BCF import over the limit: refused before anything is committed
            seq = owner.seq
            data = export_bcf({f"b{i}": {
                "id": f"0000000{i}-0000-4000-8000-000000000000", "position": [0, 0, 0],
                "normal": [0, 0, 1], "title": f"t{i}", "text": "", "status": "open",
                "priority": "normal", "labels": [], "author": "x", "created": 1.0,
                "updated": 1.0, "comments": [], "node_id": None, "element_id": None,
                "viewpoint": None, "assignee": None} for i in range(3)},
                version="2.1", frame=frame_for(None))
            r = httpx.post(f"{srv.base_url}/api/rooms/{b.room_id}/bcf", content=data,
                           headers={**auth(b.owner_token),
                                    "Content-Type": "application/octet-stream"})
            assert r.status_code == 413, r.text
            assert r.json()["error"]["code"] == "room_limit"
            await owner.ping()
            assert owner.seq == seq
            await still_fine([owner, rev], acked)


def bcf_archive(topics: int, comments: int, text: str = "") -> bytes:
    """A real BCF 2.1 archive of ``topics`` topics with ``comments`` comments each."""
    anns = {}
    for i in range(topics):
        aid = f"{i:08x}-0000-4000-8000-000000000000"
        anns[aid] = {
            "id": aid, "position": [0, 0, 0], "normal": [0, 0, 1], "title": f"topic {i}",
            "text": text, "status": "open", "priority": "normal", "labels": [],
            "author": "someone", "created": 1.0 + i, "updated": 1.0 + i, "node_id": None,
            "element_id": None, "viewpoint": None, "assignee": None,
            "comments": [{"id": f"{i:08x}-{j:04x}-4000-8000-000000000000", "author": "someone",
                          "text": f"{text} comment {j}", "created": 2.0 + i,
                          "updated": 2.0 + i} for j in range(comments)],
        }
    return export_bcf(anns, version="2.1", frame=frame_for(None))


async def test_big_import_keeps_readers_and_pages_welcomes(srv: ServerProcess) -> None:
    """Protocol R20 (server bulk does not count toward 4413) and R6 (paged welcome): an import
    of 1,000 topics with 3,000 comments (4,000 ops) reaches connected readers, and clients
    with a 1 MiB frame limit join the room afterwards."""
    b = srv.bootstrap(project_name="bulk")
    viewer_t = srv.token(b.project_id, "viewer", "Reader")
    async with RoomClient(srv.base_url, b.room_id, b.owner_token, max_size=2**20) as owner, \
            RoomClient(srv.base_url, b.room_id, viewer_t, max_size=2**20) as reader:
        ack = await owner.op("annotation.create", annotation={"id": "mine", "position": [0, 0, 0]})
        resumed = RoomClient(srv.base_url, b.room_id, viewer_t, max_size=2**20)
        await resumed.connect()
        await resumed.wait_seq(ack["seq"])
        await resumed.close()
        reader.keep_messages = owner.keep_messages = False
        data = bcf_archive(1000, 3, text="lorem ipsum " * 20)
        async with httpx.AsyncClient(timeout=120) as http:
            r = await http.post(f"{srv.base_url}/api/rooms/{b.room_id}/bcf", content=data,
                                headers={**auth(b.owner_token),
                                         "Content-Type": "application/octet-stream"})
        assert r.status_code == 200, r.text
        assert len(r.json()["imported"]) == 1000
        assert r.json()["comments"] == 3000
        seq = r.json()["seq"]
        await reader.wait_seq(seq, timeout=120)
        await owner.wait_seq(seq, timeout=120)
        assert reader.close_code is None
        assert owner.close_code is None
        assert len(reader.state.annotations) == 1001
        assert "mine" in reader.state.annotations
        assert ack["seq"] == 1
        # late joiners with a 1 MiB frame limit: snapshot (no last_seq) and replay (last_seq)
        async with RoomClient(srv.base_url, b.room_id, viewer_t, max_size=2**20) as late:
            assert late.welcome is not None
            assert late.welcome.get("parts", 0) > 1
            assert late.seq == seq
            assert late.state == owner.state
            assert sum(len(a["comments"]) for a in late.state.annotations.values()) == 3000
        await resumed.connect()  # left at seq 1: the 4,000 missed commits, paged
        try:
            assert resumed.welcome is not None
            assert resumed.welcome["snapshot"] is None
            assert resumed.welcome.get("parts", 0) > 1
            assert resumed.seq == seq
            assert resumed.state == owner.state
        finally:
            await resumed.close()
        await still_fine([owner, reader], {"mine": ack["seq"]})


async def test_sessions_and_rate_are_limited_per_member(
        tmp_path_factory: pytest.TempPathFactory) -> None:  # protocol R3
    with ServerProcess(tmp_path_factory.mktemp("member"), env={
            "VRCOLLAB_MAX_SESSIONS_PER_MEMBER": "4",
            "VRCOLLAB_MEMBER_RATE_LIMIT_PER_SECOND": "20",
            "VRCOLLAB_MEMBER_RATE_LIMIT_BURST": "20"}) as srv:
        b = srv.bootstrap()
        rev_t = srv.token(b.project_id, "reviewer", "Many")
        calm_t = srv.token(b.project_id, "reviewer", "Calm")
        async with RoomClient(srv.base_url, b.room_id, calm_t) as calm:
            many = [RoomClient(srv.base_url, b.room_id, rev_t) for _ in range(4)]
            for c in many:
                await c.connect()
            extra = RoomClient(srv.base_url, b.room_id, rev_t)
            with contextlib.suppress(ConnectionClosed):
                await extra.connect()
            assert extra.close_code == 4409
            # 4 x 30 messages, each connection under its own limit: together 6x the member's
            # burst, so the member is throttled (not closed) and a calm member is not
            order: list[str] = []
            for c in many:
                c.on_message = lambda m: order.append("many") if (
                    m["type"] == "pong" and m["t"] == 29) else None
            calm.on_message = lambda m: order.append("calm") if m["type"] == "pong" else None
            for c in many:
                for i in range(30):
                    await c.send_raw(json.dumps({"type": "ping", "t": i}))
            await calm.ping()
            await asyncio.gather(*(c.wait_for(
                lambda m: m["type"] == "pong" and m["t"] == 29, timeout=60) for c in many))
            assert all(c.close_code is None for c in many)
            assert order.index("calm") < order.index("many")  # nobody else waited for them
            ack = await calm.op("annotation.create", annotation={"id": "k", "position": [0, 0, 0]})
            await still_fine([calm, *many], {"k": ack["seq"]})
            for c in many:
                await c.close()


def upload_version(srv: ServerProcess, b: Bootstrap) -> str:
    """A real converted version of a two-box OBJ in ``b``'s project (through the REST API)."""
    from tests.api.api_support import obj_text

    with httpx.Client(base_url=srv.base_url, headers=auth(b.owner_token), timeout=60) as http:
        up = http.post(f"/api/projects/{b.project_id}/models",
                       files={"file": ("boxes.obj", obj_text({"a": 1.0, "b": 2.0}),
                                       "application/octet-stream")})
        assert up.status_code == 202, up.text
        job_id = up.json()["job"]["job_id"]
        for _ in range(1200):
            job = http.get(f"/api/jobs/{job_id}").json()
            if job["status"] in ("done", "failed"):
                break
            time.sleep(0.1)
        assert job["status"] == "done", job
        return str(up.json()["version"]["version_id"])


async def test_room_model_is_checked_and_bounds_positions(srv: ServerProcess) -> None:
    """Issue 8 item 10 and protocol R19: a room's model names a version of its own project
    (another project's version, free-form dicts and off-origin manifest URLs are refused), and
    the model's bounds from its manifest bound annotation positions on the wire."""
    a = srv.bootstrap(project_name="model-a")
    other = srv.bootstrap(project_name="model-b")
    version_id = upload_version(srv, a)
    api = f"{srv.base_url}/api"
    r = httpx.post(f"{api}/projects/{other.project_id}/rooms", headers=auth(other.owner_token),
                   json={"name": "steal", "model": {"version_id": version_id}})
    assert r.status_code == 404  # like a version that does not exist
    r = httpx.post(f"{api}/projects/{a.project_id}/rooms", headers=auth(a.owner_token),
                   json={"name": "ok", "model": {"version_id": version_id,
                                                 "manifest_url": "https://evil.example/m"}})
    assert r.status_code == 422
    r = httpx.post(f"{api}/projects/{a.project_id}/rooms", headers=auth(a.owner_token),
                   json={"name": "ok", "model": {"version_id": version_id}})
    assert r.status_code == 201, r.text
    model = r.json()["model"]
    assert model["manifest_url"] == f"/api/versions/{version_id}/files/manifest.json"
    assert set(model["bounds"]) == {"min", "max"}
    room_id = r.json()["room_id"]
    rev_t = srv.token(a.project_id, "reviewer", "R")
    async with RoomClient(srv.base_url, room_id, a.owner_token) as owner, \
            RoomClient(srv.base_url, room_id, rev_t) as rev:
        assert owner.welcome["room"]["model"] == model  # type: ignore[index]
        inside = [(lo + hi) / 2 for lo, hi in zip(model["bounds"]["min"], model["bounds"]["max"],
                                                 strict=True)]
        ack = await rev.op("annotation.create", annotation={"id": "in", "position": inside})
        with pytest.raises(OpRejectedError) as info:
            await rev.op("annotation.create", annotation={"id": "out",
                                                          "position": [5000.0, 0.0, 0.0]})
        assert info.value.code == "out_of_bounds"
        await still_fine([owner, rev], {"in": ack["seq"]})
