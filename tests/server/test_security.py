"""Security at the edge: auth at the upgrade, Origin, roles, bad input, limits (protocol R2-R5,
R8, R15)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.server_process import Bootstrap, ServerProcess
from vrcollab.client import OpRejectedError, RoomClient, ws_url


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("sec"),
                      env={"VRCOLLAB_ALLOWED_ORIGINS": '["https://review.example"]'})
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def boot(srv: ServerProcess) -> Bootstrap:
    return srv.bootstrap()


async def refused(url: str, **kw: Any) -> int:
    """Connect and expect the upgrade to be refused; returns the HTTP status."""
    with pytest.raises(InvalidStatus) as info:
        async with websockets.connect(url, open_timeout=10, **kw):
            pass
    return info.value.response.status_code


async def closed_with(ws: Any) -> int:
    """Read until the server closes; returns the close code."""
    async def drain() -> None:
        while True:
            await asyncio.wait_for(ws.recv(), 10)

    with pytest.raises(ConnectionClosed) as info:
        await drain()
    rcvd = info.value.rcvd
    assert rcvd is not None
    return rcvd.code


def hello(**kw: Any) -> str:
    return json.dumps({"type": "hello", "v": 1, "client_id": "t", "last_seq": None, **kw})


async def test_bad_missing_expired_and_foreign_tokens_refused(
        srv: ServerProcess, boot: Bootstrap) -> None:
    url = ws_url(srv.base_url, boot.room_id)
    expired = srv.token(boot.project_id, "owner", "Old", expires_at=time.time() - 1)
    other = srv.bootstrap(project_name="Other")
    assert await refused(url) == 403
    assert await refused(f"{url}?token=vrc_wrong") == 403
    assert await refused(f"{url}?token={expired}") == 403
    assert await refused(f"{url}?token={other.owner_token}") == 403
    assert await refused(url, additional_headers={"Authorization": "Bearer nope"}) == 403
    # the same credentials that work prove the refusals are about the token
    async with websockets.connect(url, additional_headers={
            "Authorization": f"Bearer {boot.owner_token}"}) as ws:
        await ws.send(hello())
        assert json.loads(await ws.recv())["type"] == "welcome"


async def test_origin_allow_list(srv: ServerProcess, boot: Bootstrap) -> None:
    url = f"{ws_url(srv.base_url, boot.room_id)}?token={boot.owner_token}"
    assert await refused(url, origin="https://evil.example") == 403
    assert await refused(url, origin=srv.base_url) == 403  # not in the explicit list
    async with websockets.connect(url, origin="https://review.example") as ws:  # type: ignore[arg-type]
        await ws.send(hello())
        assert json.loads(await ws.recv())["type"] == "welcome"


async def test_missing_room_refused_like_a_foreign_one(srv: ServerProcess,
                                                      boot: Bootstrap) -> None:
    """Protocol R2 (issue 8, item 10): no existence oracle. A missing room and another
    project's room are refused alike (HTTP 403 at the upgrade; this used to be 4404)."""
    other = srv.bootstrap(project_name="Elsewhere")
    missing = f"{ws_url(srv.base_url, 'r_missing')}?token={boot.owner_token}"
    foreign = f"{ws_url(srv.base_url, other.room_id)}?token={boot.owner_token}"
    assert await refused(missing) == 403
    assert await refused(foreign) == 403


@pytest.mark.parametrize(
    ("first", "code"),
    [
        (hello(v=2), 4426),
        (json.dumps({"type": "ping", "t": 1}), 4400),
        ("not json", 4400),
    ],
)
async def test_session_start_errors(srv: ServerProcess, boot: Bootstrap, first: str,
                                    code: int) -> None:
    async with websockets.connect(
            f"{ws_url(srv.base_url, boot.room_id)}?token={boot.owner_token}") as ws:
        await ws.send(first)
        assert await closed_with(ws) == code


ANN = {"annotation": {"id": "ANN", "position": [0, 0, 0]}}
OPS: dict[str, dict[str, Any]] = {
    "node.set": {"node_id": "n1", "props": {"visible": False}},
    "annotation.create": ANN,
    "comment.add": {"annotation_id": "ANN", "comment": {"id": "C", "text": "hi"}},
    "measurement.create": {"measurement": {"id": "M", "a": [0, 0, 0], "b": [1, 0, 0]}},
    "section.set": {"section": {"id": "S", "normal": [0, 1, 0], "offset": 1.0}},
    "presenter.set": {"user_id": None},
}
ALLOWED = {
    "viewer": set(),
    "reviewer": {"annotation.create", "comment.add", "measurement.create", "presenter.set"},
    "editor": set(OPS),
    "owner": set(OPS),
}


@pytest.mark.parametrize("role", ["viewer", "reviewer", "editor", "owner"])
async def test_role_matrix(srv: ServerProcess, role: str) -> None:
    b = srv.bootstrap(project_name=f"roles-{role}")
    token = srv.token(b.project_id, role, role)
    async with RoomClient(srv.base_url, b.room_id, b.owner_token) as owner, \
            RoomClient(srv.base_url, b.room_id, token) as c:
        await owner.op("annotation.create", annotation={"id": "OWN", "position": [0, 0, 0]})
        for kind, fields in OPS.items():
            f = json.loads(json.dumps(fields).replace("ANN", f"ANN-{role}"))
            if kind == "comment.add":  # comment on the owner's annotation
                f["annotation_id"] = "OWN"
            if kind in ALLOWED[role]:
                ack = await c.op(kind, **f)
                assert ack["type"] == "ack", kind
            else:
                with pytest.raises(OpRejectedError) as info:
                    await c.op(kind, **f)
                assert info.value.code == "forbidden", kind
        if role == "reviewer":  # not someone else's records
            with pytest.raises(OpRejectedError):
                await c.op("annotation.delete", id="OWN")
            with pytest.raises(OpRejectedError):
                await c.op("presenter.set", user_id=owner.welcome["user"]["user_id"])  # type: ignore[index]
        await c.ping()
        await owner.wait_seq(c.seq)
        assert owner.state == c.state


async def test_malformed_input_gets_errors_and_keeps_session(
        srv: ServerProcess, boot: Bootstrap) -> None:
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as c, \
            RoomClient(srv.base_url, boot.room_id, boot.owner_token) as other:
        cases = [
            ("{not json", "bad_json"),
            ('{"type":"pose","head":{"p":[NaN,0,0],"q":[0,0,0,1]}}', "bad_json"),
            ('{"type":"warp"}', "unknown_type"),
            ('{"type":"pose","head":{"p":[0,0],"q":[0,0,0,1]}}', "bad_message"),
            (b"\x00\x01binary", "bad_message"),
        ]
        for raw, code in cases:
            await c.send_raw(raw)
            err = await c.wait_for(lambda m: m["type"] == "error", past=False)
            assert err["code"] == code, raw
        await c.send_raw('{"type":"op","op_id":"inf","kind":"node.set","node_id":"n",'
                         '"props":{"transform":[' + ",".join(["1e999"] * 16) + "]}}")
        rej = await c.wait_for(lambda m: m["type"] == "reject" and m["op_id"] == "inf")
        assert rej["code"] == "bad_op"
        big = await c.send_op("comment.add", annotation_id="x",
                              comment={"id": "c", "text": "x" * 20_000})
        assert (await asyncio.wait_for(big, 5))["code"] == "too_large"
        ack = await c.op("annotation.create", annotation={"id": "after", "position": [1, 2, 3]})
        await other.wait_seq(ack["seq"])
        assert "after" in other.state.annotations
        assert other.close_code is None


async def test_repeated_malformed_input_closes_4400(srv: ServerProcess, boot: Bootstrap) -> None:
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as c:
        for _ in range(10):
            await c.send_raw("][")
        assert await c.wait_closed() == 4400


async def test_oversize_message_closes_1009(srv: ServerProcess, boot: Bootstrap) -> None:
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as c, \
            RoomClient(srv.base_url, boot.room_id, boot.owner_token) as other:
        await c.send_raw(json.dumps({"type": "ping", "t": 0, "pad": "x" * 100_000}))
        assert await c.wait_closed() == 1009
        assert await other.ping() < 1.0


async def test_rate_limit_closes_4429_and_spares_others(
        srv: ServerProcess, boot: Bootstrap) -> None:
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as flood, \
            RoomClient(srv.base_url, boot.room_id, boot.owner_token) as calm:
        pose = json.dumps({"type": "pose", "head": {"p": [0, 0, 0], "q": [0, 0, 0, 1]}})
        with contextlib.suppress(ConnectionClosed):
            for _ in range(2000):
                await flood.send_raw(pose)
        assert await flood.wait_closed() == 4429
        assert calm.close_code is None
        assert await calm.ping() < 1.0


def test_rest_auth_and_invites(srv: ServerProcess, boot: Bootstrap) -> None:
    api = srv.base_url + "/api"
    owner = {"Authorization": f"Bearer {boot.owner_token}"}
    assert httpx.get(f"{api}/me").status_code == 401
    r = httpx.get(f"{api}/me", headers={"Authorization": "Bearer vrc_nope"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"
    me = httpx.get(f"{api}/me", headers=owner).json()
    assert me["projects"] == {boot.project_id: "owner"}
    inv = httpx.post(f"{api}/projects/{boot.project_id}/invites", headers=owner,
                     json={"role": "reviewer", "expires_in_s": 60})
    assert inv.status_code == 201
    acc = httpx.post(f"{api}/invites/accept", json={"invite": inv.json()["invite"],
                                                   "name": "Rev"})
    assert acc.status_code == 201
    rev = {"Authorization": f"Bearer {acc.json()['token']}"}
    assert acc.json()["role"] == "reviewer"
    assert httpx.get(f"{api}/rooms/{boot.room_id}", headers=rev).json()["role"] == "reviewer"
    # a reviewer cannot invite or create rooms; tampered and expired invites are refused
    r = httpx.post(f"{api}/projects/{boot.project_id}/invites", headers=rev, json={})
    assert r.status_code == 403
    assert httpx.post(f"{api}/projects/{boot.project_id}/rooms", headers=rev,
                      json={"name": "x"}).status_code == 403
    bad = inv.json()["invite"][:-2] + "xx"
    assert httpx.post(f"{api}/invites/accept", json={"invite": bad, "name": "M"}).status_code == 401
    short = httpx.post(f"{api}/projects/{boot.project_id}/invites", headers=owner,
                       json={"role": "editor", "expires_in_s": 0.5}).json()["invite"]
    time.sleep(0.7)
    r = httpx.post(f"{api}/invites/accept", json={"invite": short, "name": "Late"})
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invite_expired"
    # other projects' rooms are invisible
    other = srv.bootstrap(project_name="Hidden")
    assert httpx.get(f"{api}/rooms/{other.room_id}", headers=owner).status_code == 404
    # issue 8: a room's model is a version of its project, never an arbitrary dict
    room = httpx.post(f"{api}/projects/{boot.project_id}/rooms", headers=owner,
                      json={"name": "New", "model": {"version_id": "v1"}})
    assert room.status_code == 404
    room = httpx.post(f"{api}/projects/{boot.project_id}/rooms", headers=owner,
                      json={"name": "New", "model": {"version_id": "v1",
                                                     "manifest_url": "https://evil.example/m"}})
    assert room.status_code == 422
    room = httpx.post(f"{api}/projects/{boot.project_id}/rooms", headers=owner,
                      json={"name": "New"})
    assert room.status_code == 201
    assert room.json()["model"] is None


def test_invite_signing_key_persists(tmp_path: Path) -> None:
    from vrcollab.server.auth import secret_key
    from vrcollab.settings import Settings

    s = Settings(data_dir=tmp_path)
    key = secret_key(s)
    assert len(key) > 40
    assert secret_key(Settings(data_dir=tmp_path)) == key
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
