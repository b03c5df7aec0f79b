"""Annotation snapshots (issue 14): PUT/GET /api/rooms/{id}/annotations/{aid}/snapshot, and BCF
2.1/3.0 exports carrying them (XSD-valid), kept through an import into another room."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest
from PIL import Image

from tests.bcf.bcf_support import SHARED_BCF, validate_bcf
from tests.server_process import ServerProcess
from vrcollab.client import RoomClient
from vrcollab.server.snapshots_api import MAX_SNAPSHOT_BYTES


def picture() -> bytes:
    """A small, not blank PNG: a gradient with a square."""
    img = Image.new("RGB", (64, 48), (27, 34, 43))
    for x in range(64):
        for y in range(48):
            if 16 <= x < 40 and 10 <= y < 30:
                img.putpixel((x, y), (200, 120 + y, 40 + x))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def not_blank(data: bytes) -> bool:
    img = Image.open(io.BytesIO(data)).convert("RGB")
    colours = img.getcolors(maxcolors=img.width * img.height) or []
    return len(colours) > 10


def pngs(archive: bytes) -> list[bytes]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        return [zf.read(n) for n in zf.namelist() if n.endswith(".png")]


VIEW = {"position": [5.0, 5.0, 5.0], "target": [0.0, 0.0, 0.0], "up": [0.0, 0.0, 1.0], "fov": 60}


async def test_snapshot_is_stored_exported_and_kept_through_import(
    shared_server: ServerProcess,
) -> None:
    if not (SHARED_BCF / "schemas-2.1").is_dir():
        pytest.skip("needs the BCF XSDs in ../shared/bcf")
    boot = shared_server.bootstrap()
    rev = shared_server.token(boot.project_id, "reviewer", "Rita")
    viewer = shared_server.token(boot.project_id, "viewer", "Vic")
    other = shared_server.bootstrap()
    base = f"{shared_server.base_url}/api/rooms/{boot.room_id}/annotations/a1/snapshot"
    auth = {"Authorization": f"Bearer {rev}", "Content-Type": "image/png"}
    png = picture()
    async with RoomClient(shared_server.base_url, boot.room_id, boot.owner_token) as owner:
        await owner.op("annotation.create", annotation={
            "id": "a1", "position": [1.0, 2.0, 3.0], "title": "Gap", "viewpoint": VIEW})
        async with httpx.AsyncClient(timeout=30) as http:
            res = await http.put(base, content=png, headers=auth)
            assert res.status_code == 200, res.text
            ref = res.json()["snapshot"]
            assert ref["media_type"] == "image/png"
            assert ref["bytes"] == len(png)
            # Every session sees the reference as a server commit (R16).
            await owner.wait_seq(res.json()["seq"])
            assert owner.state.annotations["a1"]["snapshot"] == ref
            got = await http.get(base, headers={"Authorization": f"Bearer {viewer}"})
            assert got.status_code == 200
            assert got.content == png
            assert got.headers["content-type"] == "image/png"
            # Refusals: not an image, too large, a viewer, another project, unknown annotation.
            bad = await http.put(base, content=b"GIF89a....", headers=auth)
            assert bad.status_code == 422
            big = await http.put(base, content=png + b"\0" * MAX_SNAPSHOT_BYTES, headers=auth)
            assert big.status_code == 413
            res = await http.put(base, content=png, headers={
                "Authorization": f"Bearer {viewer}"})
            assert res.status_code == 403
            res = await http.put(base, content=png, headers={
                "Authorization": f"Bearer {other.owner_token}"})
            assert res.status_code == 404
            res = await http.put(base.replace("/a1/", "/nope/"), content=png, headers=auth)
            assert res.status_code == 404

            archives = {}
            for version in ("2.1", "3.0"):
                res = await http.get(f"{shared_server.base_url}/api/rooms/{boot.room_id}/bcf",
                                     params={"version": version},
                                     headers={"Authorization": f"Bearer {viewer}"})
                assert res.status_code == 200
                validate_bcf(res.content, version)
                shots = pngs(res.content)
                assert shots == [png]
                assert not_blank(shots[0])
                archives[version] = res.content

            # Import into another room of another project: the snapshot is kept, served and
            # exported again.
            for version, archive in archives.items():
                target = shared_server.bootstrap()
                res = await http.post(
                    f"{shared_server.base_url}/api/rooms/{target.room_id}/bcf", content=archive,
                    headers={"Authorization": f"Bearer {target.owner_token}",
                             "Content-Type": "application/octet-stream"})
                assert res.status_code == 200, res.text
                (aid,) = res.json()["imported"]
                tauth = {"Authorization": f"Bearer {target.owner_token}"}
                url = (f"{shared_server.base_url}/api/rooms/{target.room_id}"
                       f"/annotations/{aid}/snapshot")
                got = await http.get(url, headers=tauth)
                assert got.status_code == 200, (version, got.text)
                assert got.content == png
                again = await http.get(
                    f"{shared_server.base_url}/api/rooms/{target.room_id}/bcf",
                    params={"version": version}, headers=tauth)
                validate_bcf(again.content, version)
                assert pngs(again.content) == [png]
