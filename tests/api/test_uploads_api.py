"""Uploads, versions, jobs and converted files through the REST API (fake converter in a real
job subprocess; the real ingest pipeline runs in tests/e2e)."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator

from tests.api.api_support import FAKE_CONVERTERS, Api, AppFactory, obj_text


def upload(api: Api, data: bytes, name: str = "tower.obj", model: str | None = None,
           headers: dict[str, str] | None = None) -> dict:
    params = {"model": model} if model else {}
    r = api.client.post(f"/api/projects/{api.project_id}/models", params=params,
                        files={"file": (name, data, "application/octet-stream")},
                        headers=headers or api.owner)
    return {"status": r.status_code, **r.json()}


def test_upload_converts_and_serves_files_with_caching(api: Api) -> None:
    data = obj_text({"wall": 1.0, "slab": 2.0})
    out = upload(api, data)
    assert out["status"] == 202, out
    assert out["version"]["number"] == 1
    assert out["version"]["source_sha256"] == hashlib.sha256(data).hexdigest()
    assert out["version"]["source_bytes"] == len(data)
    assert out["job"]["status"] in ("queued", "running")
    job = api.wait_job(out["job"]["job_id"])
    assert job["status"] == "done", job
    assert job["percent"] == 100.0
    version = api.client.get(f"/api/versions/{out['version']['version_id']}",
                             headers=api.viewer).json()
    assert version["status"] == "ready"
    assert version["job"]["job_id"] == job["job_id"]
    manifest_url = version["manifest_url"]
    r = api.client.get(manifest_url, headers=api.viewer)
    assert r.status_code == 200
    manifest = r.json()
    assert [p["node"] for p in manifest["parts"]] == ["wall", "slab"]
    etag = r.headers["etag"]
    assert etag == f'"{hashlib.sha256(r.content).hexdigest()}"'
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
    r304 = api.client.get(manifest_url, headers={**api.viewer, "If-None-Match": etag})
    assert r304.status_code == 304
    assert r304.content == b""
    # level files resolve relative to the manifest URL
    glb_url = manifest_url.rsplit("/", 1)[0] + "/" + manifest["levels"][0]["file"]
    full = api.client.get(glb_url, params={"token": api.viewer["Authorization"][7:]})
    assert full.status_code == 200
    assert full.content[:4] == b"glTF"
    assert full.headers["content-type"] == "model/gltf-binary"
    part = api.client.get(glb_url, headers={**api.viewer, "Range": "bytes=0-11"})
    assert part.status_code == 206
    assert part.content == full.content[:12]
    assert part.headers["content-range"] == f"bytes 0-11/{len(full.content)}"
    tail = api.client.get(glb_url, headers={**api.viewer, "Range": "bytes=-4"})
    assert tail.content == full.content[-4:]
    bad = api.client.get(glb_url, headers={**api.viewer, "Range": f"bytes={len(full.content)}-"})
    assert bad.status_code == 416
    head = api.client.head(glb_url, headers=api.viewer)
    assert head.status_code == 200
    assert int(head.headers["content-length"]) == len(full.content)
    # the same bytes by digest
    sha = hashlib.sha256(full.content).hexdigest()
    by_sha = api.client.get(f"/api/assets/{sha}", headers=api.viewer)
    assert by_sha.content == full.content
    assert by_sha.headers["etag"] == f'"{sha}"'


def test_same_model_name_makes_versions(api: Api) -> None:
    first = upload(api, obj_text({"wall": 1.0}), name="a.obj", model="Tower")
    second = upload(api, obj_text({"wall": 2.0}), name="Tower.obj")  # name from the file
    assert first["model"]["model_id"] == second["model"]["model_id"]
    assert [first["version"]["number"], second["version"]["number"]] == [1, 2]
    by_model = api.client.post(
        f"/api/models/{first['model']['model_id']}/versions",
        files={"file": ("c.obj", obj_text({"wall": 3.0}))}, headers=api.owner,
    )
    assert by_model.status_code == 202
    assert by_model.json()["version"]["number"] == 3
    other = upload(api, obj_text({"wall": 1.0}), name="b.obj", model="Annex")
    assert other["model"]["model_id"] != first["model"]["model_id"]
    assert other["version"]["number"] == 1
    models = api.client.get(f"/api/projects/{api.project_id}/models", headers=api.viewer).json()
    assert [m["name"] for m in models] == ["Tower", "Annex"]
    assert [v["number"] for v in models[0]["versions"]] == [1, 2, 3]
    jobs = api.client.get(f"/api/projects/{api.project_id}/jobs", headers=api.viewer).json()
    assert len(jobs) == 4


def _chunks(total: int) -> Iterator[bytes]:
    boundary = b"XyZ"
    yield b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="big.obj"'
    yield b"\r\n\r\n"
    sent = 0
    while sent < total:
        n = min(65536, total - sent)
        yield b"v 0 0 0\n" * (n // 8)
        sent += n // 8 * 8
    yield b"\r\n--" + boundary + b"--\r\n"


def test_upload_over_limit_is_413_and_server_keeps_working(make_api: AppFactory) -> None:
    api = make_api(max_upload_bytes=200_000)
    big = obj_text({"wall": 1.0}) + b"# pad\n" * 60_000
    r = upload(api, big)
    assert r["status"] == 413
    assert r["error"]["code"] == "limit_exceeded"
    # no Content-Length: cut off mid-stream
    chunked = api.client.post(
        f"/api/projects/{api.project_id}/models", content=_chunks(2_000_000),
        headers={**api.owner, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert chunked.status_code == 413
    assert "200000 bytes" in chunked.json()["error"]["message"]
    tmp = api.settings.data_dir / "assets" / "tmp"
    assert list(tmp.iterdir()) == []
    ok = upload(api, obj_text({"wall": 1.0}))
    assert ok["status"] == 202
    assert api.wait_job(ok["job"]["job_id"])["status"] == "done"


def test_wrong_content_is_rejected_synchronously(api: Api) -> None:
    junk = upload(api, os.urandom(5000), name="model.obj")
    assert junk["status"] == 422
    assert junk["error"]["code"] == "unsupported_format"
    empty = upload(api, b"", name="empty.stl")
    assert (empty["status"], empty["error"]["code"]) == (422, "corrupt_file")
    not_multipart = api.client.post(f"/api/projects/{api.project_id}/models", content=b"v 0 0 0",
                                    headers={**api.owner, "Content-Type": "text/plain"})
    assert not_multipart.status_code == 400
    assert not_multipart.json()["error"]["code"] == "bad_upload"
    no_file = api.client.post(f"/api/projects/{api.project_id}/models",
                              data={"model": "x"}, files={"other": ("a.obj", b"v 0 0 0")},
                              headers=api.owner)
    assert no_file.status_code == 400
    truncated = api.client.post(
        f"/api/projects/{api.project_id}/models", content=b"--XyZ\r\nContent-Disposition: "
        b'form-data; name="file"; filename="a.obj"\r\n\r\nv 0 0 0\n',
        headers={**api.owner, "Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert truncated.status_code == 400
    assert api.client.get(f"/api/projects/{api.project_id}/models",
                          headers=api.owner).json() == []


def test_ingest_error_is_shown_on_the_job(make_api: AppFactory) -> None:
    api = make_api(job_converter=f"{FAKE_CONVERTERS}:bad_input")
    out = upload(api, obj_text({"wall": 1.0}), name="broken.obj")
    job = api.wait_job(out["job"]["job_id"])
    assert job["status"] == "failed"
    assert job["error_code"] == "corrupt_file"
    assert job["error"].endswith("not a mesh (test)")
    version = api.client.get(f"/api/versions/{out['version']['version_id']}",
                             headers=api.owner).json()
    assert version["status"] == "failed"
    assert version["manifest_url"] is None


def test_hung_conversion_times_out_and_the_server_stays_up(make_api: AppFactory) -> None:
    api = make_api(job_converter=f"{FAKE_CONVERTERS}:hang", job_timeout_s=3.0)
    out = upload(api, obj_text({"wall": 1.0}))
    job = api.wait_job(out["job"]["job_id"])
    assert (job["status"], job["error_code"]) == ("failed", "timeout")
    assert "longer than 3 s" in job["error"]
    assert api.client.get("/api/health").json()["ok"] is True


def test_job_events_stream_until_done(api: Api) -> None:
    out = upload(api, obj_text({"wall": 1.0}))
    url = out["job"]["events_url"]
    events = []
    with api.client.stream("GET", url, params={"token": api.viewer["Authorization"][7:]}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:]))
    assert events[-1]["status"] == "done"
    assert events[-1]["percent"] == 100.0
    assert len(events) >= 2


def test_access_control(api: Api) -> None:
    out = upload(api, obj_text({"wall": 1.0}))
    job_id, version_id = out["job"]["job_id"], out["version"]["version_id"]
    assert api.wait_job(job_id)["status"] == "done"
    files = api.client.get(f"/api/versions/{version_id}", headers=api.owner).json()["files"]
    glb = next(f for f in files if f["path"] == "full.glb")
    for url in (f"/api/jobs/{job_id}", f"/api/versions/{version_id}", glb["url"],
                f"/api/assets/{glb['sha256']}", f"/api/jobs/{job_id}/events",
                f"/api/models/{out['model']['model_id']}",
                f"/api/projects/{api.project_id}/models", f"/api/projects/{api.project_id}/jobs"):
        assert api.client.get(url, headers=api.outsider).status_code == 404, url
        assert api.client.get(url).status_code == 401, url
        assert api.client.get(url, headers={"Authorization": "Bearer vrc_nope"}).status_code == 401
    assert api.client.get(f"/api/assets/{'0' * 64}", headers=api.owner).status_code == 404
    traversal = api.client.get("/api/assets/..%2F..%2Fsecret_key", headers=api.owner)
    assert traversal.status_code == 404
    viewer_upload = upload(api, obj_text({"wall": 1.0}), headers=api.viewer)
    assert viewer_upload["status"] == 403
    outsider_upload = upload(api, obj_text({"wall": 1.0}), headers=api.outsider)
    assert outsider_upload["status"] == 404
