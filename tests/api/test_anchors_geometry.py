"""Re-anchoring with the real ingest pipeline: manifest ``geometry_hash`` catches changes that keep
an element's triangle count and bounding box (which the box fingerprint alone would miss)."""

from __future__ import annotations

import gzip
import json
from typing import Any

import numpy as np
import trimesh

from tests.api.api_support import Api, AppFactory
from tests.api.test_rooms_bcf_api import _annotation, _room
from vrcollab.bcf.exchange import export_annotations

REAL_CONVERTER = "vrcollab.jobs.convert:convert_for_job"


def _ramp(mirrored: bool) -> trimesh.Trimesh:
    """A wedge in the unit box, sloping down along +x (or -x when mirrored): same box, same
    triangle count, different shape."""
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 1, 1]], float)
    f = [[0, 2, 1], [1, 2, 3], [0, 1, 4], [2, 5, 3], [0, 4, 5], [0, 5, 2], [1, 3, 5], [1, 5, 4]]
    if mirrored:
        v[:, 0] = 1.0 - v[:, 0]
        f = [face[::-1] for face in f]
    return trimesh.Trimesh(vertices=v, faces=f, process=False)


def _panel(bump: float) -> trimesh.Trimesh:
    """A 4x4-cell height field over 2 m x 2 m; ``bump`` lifts one interior vertex (box kept)."""
    xs, ys = np.meshgrid(np.linspace(0, 2, 5), np.linspace(0, 2, 5))
    zs = 0.1 * (xs + ys)
    zs[2, 1] += bump
    v = np.stack([xs.ravel(), ys.ravel(), zs.ravel()], axis=1)
    f = []
    for r in range(4):
        for c in range(4):
            a = r * 5 + c
            f += [[a, a + 1, a + 6], [a, a + 6, a + 5]]
    return trimesh.Trimesh(vertices=v, faces=f, process=False)


def _glb(changed: bool) -> bytes:
    scene = trimesh.Scene()
    scene.add_geometry(trimesh.creation.box(extents=[1, 1, 1]), node_name="wall",
                       geom_name="wall")
    scene.add_geometry(_ramp(changed), node_name="ramp", geom_name="ramp",
                       transform=trimesh.transformations.translation_matrix([3, 0, 0]))
    scene.add_geometry(_panel(0.05 if changed else 0.0), node_name="panel", geom_name="panel",
                       transform=trimesh.transformations.translation_matrix([6, 0, 0]))
    return bytes(scene.export(file_type="glb"))


def _version(api: Api, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """Upload, convert and return (version, manifest); v2 manifests get ``parts`` rebuilt from
    the element table (``elements.json.gz`` next to the manifest, docs/tiles.md T6)."""
    version, manifest = _upload(api, data)
    if manifest.get("version", 1) >= 2:
        base = version["manifest_url"].rsplit("/", 1)[0]
        table = json.loads(gzip.decompress(api.client.get(
            f"{base}/{manifest['elements']['file']}", headers=api.owner).content))
        cols = table["columns"]
        raw = api.client.get(f"{base}/{manifest['elements']['hashes']}",
                             headers=api.owner).content
        hashes = [raw[32 * i:32 * i + 32].hex() for i in range(table["count"])]
        manifest["parts"] = [{"node": n, "triangles": t, "geometry_hash": h}
                             for n, t, h in zip(cols["name"], cols["triangles"], hashes,
                                                strict=True)]
    return version, manifest


def _upload(api: Api, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    r = api.client.post(f"/api/projects/{api.project_id}/models", params={"model": "Site"},
                        files={"file": ("site.glb", data)}, headers=api.owner)
    assert r.status_code == 202, r.text
    out = r.json()
    job = api.wait_job(out["job"]["job_id"])
    assert job["status"] == "done", job
    version: dict[str, Any] = api.client.get(f"/api/versions/{out['version']['version_id']}",
                                             headers=api.owner).json()
    manifest: dict[str, Any] = api.client.get(version["manifest_url"], headers=api.owner).json()
    return version, manifest


def _by_node(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["node"]: p for p in manifest["parts"]}


def test_change_keeping_triangles_and_box_is_marked_changed(make_api: AppFactory) -> None:
    api = make_api(job_converter=REAL_CONVERTER)
    v1, m1 = _version(api, _glb(changed=False))
    v2, m2 = _version(api, _glb(changed=True))
    p1, p2 = _by_node(m1), _by_node(m2)
    assert set(p1) == set(p2) == {"wall", "ramp", "panel"}
    for node in p1:  # same triangle counts and overall bounds: only the hash tells them apart
        assert p1[node]["triangles"] == p2[node]["triangles"]
        assert len(p1[node]["geometry_hash"]) == 64
    assert m1["bounds"] == m2["bounds"]
    assert p1["wall"]["geometry_hash"] == p2["wall"]["geometry_hash"]
    assert p1["ramp"]["geometry_hash"] != p2["ramp"]["geometry_hash"]
    assert p1["panel"]["geometry_hash"] != p2["panel"]["geometry_hash"]

    room = _room(api, v1["version_id"])
    anns = [_annotation(f"a-{n}", None, node_id=n) for n in ("wall", "ramp", "panel")]
    r = api.client.post(f"/api/rooms/{room['room_id']}/bcf",
                        content=export_annotations(anns, version="3.0"),
                        headers={**api.owner, "Content-Type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    switched = api.client.put(f"/api/rooms/{room['room_id']}/model",
                              json={"version_id": v2["version_id"]}, headers=api.owner)
    assert switched.status_code == 200, switched.text
    assert switched.json()["anchors"] == {"a-wall": "ok", "a-ramp": "changed",
                                          "a-panel": "changed"}
