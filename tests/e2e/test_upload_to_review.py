"""From upload to review, end to end through a real server on 127.0.0.1: upload a real IFC
model, follow its conversion, fetch its files, review it with two clients, upload a changed
version, switch the room, exchange BCF."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bcf.bcf_support import validate_bcf
from tests.e2e.e2e_support import DOOR, FOOTING, HOUSE, auth, changed_house, follow_job, upload
from vrcollab.bcf.exchange import import_annotations
from vrcollab.client import RoomClient

pytestmark = pytest.mark.timeout(600)


def _annotation(ann_id: str, element_id: str, title: str) -> dict[str, Any]:
    return {"id": ann_id, "position": [1.0, 0.5, 2.0], "normal": [0.0, 1.0, 0.0],
            "element_id": element_id, "title": title, "text": f"{title}: please check",
            "status": "open", "priority": "high", "assignee": "eve@example.com",
            "labels": ["structure"],
            "viewpoint": {"position": [8.0, 6.0, 10.0], "target": [1.0, 0.5, 2.0],
                          "up": [0.0, 1.0, 0.0], "fov": 50.0}}


async def _review(base: str, room_id: str, tokens: tuple[str, str], v2_id: str,
                  owner: str, wall: str) -> dict[str, Any]:
    alice = RoomClient(base, room_id, tokens[0], name="Alice")
    bob = RoomClient(base, room_id, tokens[1], name="Bob")
    welcome = await alice.connect()
    assert welcome["room"]["model"]["version"] == 1
    await bob.connect()
    for ann_id, element, title in (("a-footing", FOOTING, "Footing depth"),
                                   ("a-door", DOOR, "Door swing"),
                                   ("a-wall", wall, "Wall finish")):
        await alice.op("annotation.create", annotation=_annotation(ann_id, element, title))
    ack = await bob.op("comment.add", annotation_id="a-door",
                       comment={"id": "c1", "text": "Door opens into the corridor"})
    await alice.wait_seq(ack["seq"])
    assert bob.state.annotations["a-footing"]["title"] == "Footing depth"
    # the editor moves the room to version 2 over REST while both are connected
    r = await asyncio.to_thread(
        httpx.put, f"{base}/api/rooms/{room_id}/model", json={"version_id": v2_id},
        headers=auth(owner), timeout=60)
    assert r.status_code == 200, r.text
    switched: dict[str, Any] = r.json()
    for client in (alice, bob):
        await client.wait_for(lambda m: m.get("type") == "commit"
                              and m.get("kind") == "room.model", timeout=20)
        await client.wait_for(lambda m: m.get("type") == "commit"
                              and m.get("kind") == "annotation.update"
                              and m["id"] == "a-wall", timeout=20)
        anns = client.state.annotations
        assert anns["a-footing"]["anchor_state"] == "changed"
        assert anns["a-door"]["anchor_state"] == "missing"
        assert anns["a-wall"]["anchor_state"] == "ok"
    late = RoomClient(base, room_id, tokens[1], name="Late")
    w = await late.connect()
    assert w["room"]["model"]["version_id"] == v2_id
    assert w["snapshot"]["annotations"]["a-door"]["anchor_state"] == "missing"
    for client in (alice, bob, late):
        await client.close()
    return switched


def test_upload_convert_review_version_and_bcf(server_factory: Any, tmp_path: Path) -> None:
    srv = server_factory(env={"VRCOLLAB_SQLITE_SYNCHRONOUS": "NORMAL"})
    boot = srv.bootstrap("House project")
    base, owner = srv.base_url, boot.owner_token
    reviewers = (srv.token(boot.project_id, "reviewer", "Alice"),
                 srv.token(boot.project_id, "reviewer", "Bob"))

    # upload a real IFC and follow its conversion by server-sent events
    t0 = time.monotonic()
    out = upload(base, owner, boot.project_id, HOUSE, "House")
    assert out["version"]["source_sha256"] == hashlib.sha256(HOUSE.read_bytes()).hexdigest()
    events = follow_job(base, reviewers[0], out["job"])
    convert_s = time.monotonic() - t0
    assert events[-1]["status"] == "done", events[-1]
    stages = {e["stage"] for e in events}  # tiled layout stages (issue 9); quick stages may
    assert "load" in stages  # be coalesced away by the event stream
    assert stages <= {"queued", "starting", "load", "properties", "tiles", "elements", "report",
                      "index",
                      "done"}
    assert [e["percent"] for e in events if e["stage"] == "load"] == sorted(
        e["percent"] for e in events if e["stage"] == "load")
    v1 = httpx.get(f"{base}/api/versions/{out['version']['version_id']}",
                   headers=auth(reviewers[0])).json()

    # manifest and GLB: content-addressed, cached, ranges
    r = httpx.get(base + v1["manifest_url"], headers=auth(reviewers[0]))
    manifest = r.json()
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
    assert httpx.get(base + v1["manifest_url"], headers={
        **auth(reviewers[0]), "If-None-Match": r.headers["etag"]}).status_code == 304
    # tiled layout (docs/tiles.md): the root tile of tileset.json, the element table
    folder = base + v1["manifest_url"].rsplit("/", 1)[0]
    tileset = httpx.get(f"{folder}/{manifest['tileset']}", params={"token": reviewers[1]}).json()
    table_file = httpx.get(f"{folder}/{manifest['elements']['file']}",
                           params={"token": reviewers[1]}).content
    assert manifest["elements"]["encoding"] == "gzip"  # served as stored; the client inflates
    table = json.loads(gzip.decompress(table_file))
    glb_url = f"{folder}/{tileset['root']['content']['uri']}"
    glb = httpx.get(glb_url, params={"token": reviewers[1]})
    assert glb.content[:4] == b"glTF"
    assert glb.headers["etag"] == f'"{hashlib.sha256(glb.content).hexdigest()}"'
    part = httpx.get(glb_url, headers={**auth(reviewers[1]), "Range": "bytes=12-19"})
    assert (part.status_code, part.content) == (206, glb.content[12:20])
    cols = table["columns"]
    wall = next(g for g, c in zip(cols["globalId"], cols["class"], strict=True)
                if table["classes"][c].startswith("IfcWall") and g)

    # a room on version 1; then version 2 (footing moved, door removed)
    room = httpx.post(f"{base}/api/versions/{v1['version_id']}/rooms",
                      json={"name": "Design review"}, headers=auth(owner)).json()
    out2 = upload(base, owner, boot.project_id, changed_house(tmp_path / "house_v2.ifc"),
                  "House")
    assert out2["model"]["model_id"] == out["model"]["model_id"]
    assert out2["version"]["number"] == 2
    assert follow_job(base, owner, out2["job"])[-1]["status"] == "done"
    switched = asyncio.run(_review(base, room["room_id"], reviewers,
                                   out2["version"]["version_id"], owner, wall))
    assert switched["counts"] == {"ok": 1, "changed": 1, "missing": 1}

    # BCF: export both versions, validate against the XSDs, import into another room
    other = httpx.post(f"{base}/api/versions/{out2['version']['version_id']}/rooms",
                       json={"name": "Site meeting"}, headers=auth(owner)).json()
    for version in ("2.1", "3.0"):
        data = httpx.get(f"{base}/api/rooms/{room['room_id']}/bcf",
                         params={"version": version}, headers=auth(reviewers[0])).content
        counts = validate_bcf(data, version)
        assert counts["markup"] == 3
        topics = {a["id"]: a for a in import_annotations(data).annotations}
        assert topics["a-door"]["comments"][0]["text"] == "Door opens into the corridor"
        assert topics["a-door"]["comments"][0]["author"] == "Bob"
        assert topics["a-footing"]["element_id"] == FOOTING
    imported = httpx.post(f"{base}/api/rooms/{other['room_id']}/bcf", content=data,
                          headers=auth(reviewers[0])).json()
    assert sorted(imported["imported"]) == ["a-door", "a-footing", "a-wall"]

    async def check_import() -> None:
        client = RoomClient(base, other["room_id"], reviewers[1])
        w = await client.connect()
        anns = w["snapshot"]["annotations"]
        assert anns["a-footing"]["title"] == "Footing depth"
        assert anns["a-footing"]["labels"] == ["structure"]
        assert anns["a-door"]["comments"][0]["text"] == "Door opens into the corridor"
        # issue 8: the importer is the author of record, the BCF author kept beside it
        importer = httpx.get(f"{base}/api/me", headers=auth(reviewers[0])).json()["user_id"]
        assert anns["a-door"]["author"] == importer
        assert anns["a-door"]["imported_from"] == {"source": "bcf", "author": "Alice"}
        assert anns["a-door"]["comments"][0]["imported_from"]["author"] == "Bob"
        await client.close()

    asyncio.run(check_import())
    print(f"\nIfcOpenHouse upload->done {convert_s:.1f} s, GLB {len(glb.content)} bytes, "
          f"{table['count']} elements")
