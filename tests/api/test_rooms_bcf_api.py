"""Rooms on versions, re-anchoring on a version switch, and BCF export/import over REST."""

from __future__ import annotations

import io
import zipfile
from typing import Any

from tests.api.api_support import Api, obj_text
from tests.bcf.bcf_support import validate_bcf
from vrcollab.bcf.exchange import export_annotations


def _ready_version(api: Api, sizes: dict[str, float]) -> dict[str, Any]:
    r = api.client.post(f"/api/projects/{api.project_id}/models", params={"model": "Tower"},
                        files={"file": ("tower.obj", obj_text(sizes))}, headers=api.owner)
    assert r.status_code == 202, r.text
    out = r.json()
    assert api.wait_job(out["job"]["job_id"])["status"] == "done"
    version: dict[str, Any] = api.client.get(f"/api/versions/{out['version']['version_id']}",
                                             headers=api.owner).json()
    return version


def _room(api: Api, version_id: str, name: str = "Review") -> dict[str, Any]:
    r = api.client.post(f"/api/versions/{version_id}/rooms", json={"name": name},
                        headers=api.owner)
    assert r.status_code == 201, r.text
    room: dict[str, Any] = r.json()
    return room


def _annotation(ann_id: str, element: str | None, **extra: Any) -> dict[str, Any]:
    return {"id": ann_id, "position": [0.5, 0.5, 1.0], "normal": [0.0, 0.0, 1.0],
            "node_id": None, "element_id": element,
            "viewpoint": {"position": [4.0, 3.0, 5.0], "target": [0.5, 0.5, 0.5],
                          "up": [0.0, 1.0, 0.0], "fov": 55.0},
            "title": f"Issue {ann_id}", "text": "Check this", "status": "in_progress",
            "priority": "high", "assignee": "eve@example.com", "labels": ["structure"],
            "author": "olivia@example.com", "created": 1_700_000_000.0,
            "updated": 1_700_000_100.0,
            "comments": [{"id": f"c-{ann_id}", "author": "victor@example.com",
                          "text": "Agreed", "created": 1_700_000_050.0,
                          "updated": 1_700_000_050.0}], **extra}


def test_room_on_version_import_switch_and_export(api: Api) -> None:
    v1 = _ready_version(api, {"wall": 1.0, "slab": 2.0, "door": 1.0})
    room = _room(api, v1["version_id"])
    assert room["model"]["version_id"] == v1["version_id"]
    assert room["model"]["manifest_url"] == v1["manifest_url"]
    assert room["link"] == f"/r/{room['room_id']}"
    annotations = [_annotation("a-wall", "GID-wall"), _annotation("a-slab", "GID-slab"),
                   _annotation("a-door", "GID-door"), _annotation("a-free", None)]
    archive = export_annotations(annotations, version="3.0")
    r = api.client.post(f"/api/rooms/{room['room_id']}/bcf", content=archive,
                        headers={**api.owner, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(body["imported"]) == ["a-door", "a-free", "a-slab", "a-wall"]
    assert body["comments"] == 4
    assert body["skipped"] == []
    again = api.client.post(f"/api/rooms/{room['room_id']}/bcf", files={"file": ("x.bcfzip",
                            archive)}, headers=api.owner).json()
    assert again["imported"] == []
    assert len(again["skipped"]) == 4

    # a new version: door removed, slab resized, wall unchanged (and moved bounds)
    v2 = _ready_version(api, {"wall": 1.0, "slab": 2.5})
    assert v2["number"] == 2
    switched = api.client.put(f"/api/rooms/{room['room_id']}/model",
                              json={"version_id": v2["version_id"]}, headers=api.owner)
    assert switched.status_code == 200, switched.text
    out = switched.json()
    assert out["anchors"] == {"a-wall": "ok", "a-slab": "changed", "a-door": "missing"}
    assert out["counts"] == {"ok": 1, "changed": 1, "missing": 1}
    assert out["room"]["model"]["version"] == 2
    room_now = api.client.get(f"/api/rooms/{room['room_id']}", headers=api.viewer).json()
    assert room_now["model"]["version_id"] == v2["version_id"]
    # back to v1: the door is there again, but stays flagged for review
    back = api.client.put(f"/api/rooms/{room['room_id']}/model",
                          json={"version_id": v1["version_id"]}, headers=api.owner).json()
    assert back["anchors"] == {"a-door": "changed"}
    # a reviewer who has looked at the door acknowledges it
    ack = api.client.put(f"/api/rooms/{room['room_id']}/annotations/a-door/anchor",
                         json={"anchor_state": "ok"}, headers=api.owner)
    assert ack.status_code == 200, ack.text
    assert ack.json()["anchor_state"] == "ok"
    assert api.client.put(f"/api/rooms/{room['room_id']}/annotations/a-door/anchor",
                          json={"anchor_state": "ok"}, headers=api.viewer).status_code == 403
    assert api.client.put(f"/api/rooms/{room['room_id']}/annotations/nope/anchor",
                          json={"anchor_state": "ok"}, headers=api.owner).status_code == 404
    assert api.client.put(f"/api/rooms/{room['room_id']}/annotations/a-door/anchor",
                          json={"anchor_state": "gone"}, headers=api.owner).status_code == 422

    for version in ("2.1", "3.0"):
        exported = api.client.get(f"/api/rooms/{room['room_id']}/bcf",
                                  params={"version": version}, headers=api.viewer)
        assert exported.status_code == 200
        assert exported.headers["content-disposition"].endswith('.bcfzip"')
        counts = validate_bcf(exported.content, version)
        assert counts["markup"] == 4
        assert counts["visinfo"] >= 3
        # import into a fresh room of the same version: every field survives
        other = _room(api, v1["version_id"], name=f"Copy {version}")
        copy = api.client.post(f"/api/rooms/{other['room_id']}/bcf", content=exported.content,
                               headers=api.owner).json()
        assert sorted(copy["imported"]) == ["a-door", "a-free", "a-slab", "a-wall"]
        first = _room_annotations(api, room["room_id"])
        second = _room_annotations(api, other["room_id"])
        for ann_id, ann in first.items():
            theirs = second[ann_id]
            for key in ("title", "text", "status", "priority", "assignee", "labels",
                        "element_id", "position", "normal"):
                assert theirs[key] == ann[key], (version, ann_id, key)
            assert [c["text"] for c in theirs["comments"]] == ["Agreed"]
            assert theirs["comments"][0]["author"] == "victor@example.com"


def _room_annotations(api: Api, room_id: str) -> dict[str, Any]:
    """The room's annotations, read back through a BCF 3.0 export (no websocket needed)."""
    from vrcollab.bcf.exchange import import_annotations

    data = api.client.get(f"/api/rooms/{room_id}/bcf", headers=api.owner).content
    return {a["id"]: a for a in import_annotations(data).annotations}


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_hostile_bcf_is_400_and_changes_nothing(api: Api) -> None:
    v1 = _ready_version(api, {"wall": 1.0})
    room = _room(api, v1["version_id"])
    version = b'<?xml version="1.0"?><Version VersionId="3.0" />'
    hostile = {
        "traversal": _zip({"bcf.version": version, "../../evil/markup.bcf": b"<Markup/>"}),
        "zip bomb": _zip({"bcf.version": version,
                          "0a0f8f2e-0000-4000-8000-000000000000/markup.bcf":
                          b"<Markup>" + b" " * 40_000_000 + b"</Markup>"}),
        "not a zip": b"this is not a BCF archive at all",
        "absolute": _zip({"bcf.version": version, "/etc/markup.bcf": b"<Markup/>"}),
    }
    for what, data in hostile.items():
        r = api.client.post(f"/api/rooms/{room['room_id']}/bcf", content=data,
                            headers=api.owner)
        assert r.status_code == 400, (what, r.text)
        assert r.json()["error"]["message"], what
    assert _room_annotations(api, room["room_id"]) == {}
    assert api.client.get("/api/health").json()["ok"] is True


def test_bcf_access_control(api: Api) -> None:
    v1 = _ready_version(api, {"wall": 1.0})
    room = _room(api, v1["version_id"])
    archive = export_annotations([_annotation("a1", "GID-wall")], version="2.1")
    url = f"/api/rooms/{room['room_id']}/bcf"
    assert api.client.get(url, headers=api.outsider).status_code == 404
    assert api.client.post(url, content=archive, headers=api.outsider).status_code == 404
    assert api.client.post(url, content=archive, headers=api.viewer).status_code == 403
    assert api.client.get(url, headers=api.viewer).status_code == 200
    assert api.client.post(f"/api/versions/{v1['version_id']}/rooms", json={"name": "x"},
                           headers=api.viewer).status_code == 403
    assert api.client.post(f"/api/versions/{v1['version_id']}/rooms", json={"name": "x"},
                           headers=api.outsider).status_code == 404
    other_version = api.client.put(f"/api/rooms/{room['room_id']}/model",
                                   json={"version_id": "v-nope"}, headers=api.owner)
    assert other_version.status_code == 404


def test_saved_views_import_and_export_over_rest(api: Api) -> None:
    from vrcollab.bcf import read_bcf_archive
    from vrcollab.bcf.frame import ModelFrame
    from vrcollab.review.bcf_exchange import export_bcf

    v1 = _ready_version(api, {"wall": 1.0, "slab": 2.0})
    room = _room(api, v1["version_id"], "Views")
    view = {"id": "v-east", "name": "East", "author": "x", "created": 1_700_000_000.0,
            "camera": {"position": [4.0, 3.0, 5.0], "target": [0.5, 0.5, 0.5],
                       "up": [0.0, 1.0, 0.0], "fov": 55.0},
            "section": None, "box": {"min": [0.0, 0.0, 0.0], "max": [1.0, 1.0, 1.0]},
            "hidden": ["wall"], "isolated": None, "colors": {"slab": "#00ff00"}}
    archive = export_bcf({}, version="3.0", frame=ModelFrame(), views={"v-east": view})
    r = api.client.post(f"/api/rooms/{room['room_id']}/bcf", content=archive,
                        headers={**api.owner, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert (r.json()["imported"], r.json()["views"]) == ([], ["v-east"])
    again = api.client.post(f"/api/rooms/{room['room_id']}/bcf", content=archive,
                            headers={**api.owner, "Content-Type": "application/octet-stream"})
    assert again.json()["views"] == []
    for version in ("2.1", "3.0"):
        out = api.client.get(f"/api/rooms/{room['room_id']}/bcf", params={"version": version},
                             headers=api.viewer)
        assert out.status_code == 200, out.text
        validate_bcf(out.content, version)
        (topic,) = read_bcf_archive(out.content).topics
        assert topic.title == "East"
        (vp,) = topic.viewpoints
        assert len(vp.clipping_planes) == 6
        assert [c.authoring_tool_id for c in vp.components.visibility.exceptions] == ["wall"]
        assert vp.components.coloring[0].color == "00FF00"
