"""REST edge cases through the real server (issue 8, item 10; docs/api.md "Limits at the edge").

No existence oracle (token first, then ids; missing and foreign ids answer alike), typed 400 for
non-finite JSON numbers, ``Cache-Control: private`` on member files, ``nosniff`` on /api, 431 for
oversize and too many headers, 413 for a declared oversize body before it is sent, and a health
check that says 503 while the store cannot write. Every attack is followed by a request of a
legitimate client that must still be served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.api_support import FAKE_CONVERTERS, obj_text
from tests.server_process import Bootstrap, ServerProcess
from vrcollab.client import RoomClient

MISSING = {"project_id": "p_missing00000", "room_id": "r_missing00000",
           "model_id": "m_missing00000", "version_id": "v_missing00000",
           "job_id": "j_missing00000", "sha256": "0" * 64, "annotation_id": "nope",
           "path": "manifest.json", "user_id": "u_missing00000", "a": "v_missing00000",
           "b": "v_missing00001", "meeting_id": "mt_missing00000", "index": "0"}


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("edge"),
                      env={"VRCOLLAB_JOB_CONVERTER": f"{FAKE_CONVERTERS}:obj_parts",
                           "VRCOLLAB_MAX_UPLOAD_BYTES": "1000000"})
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def boot(srv: ServerProcess) -> Bootstrap:
    return srv.bootstrap()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def healthy(srv: ServerProcess) -> None:
    r = httpx.get(srv.base_url + "/api/health", timeout=30)
    assert r.status_code == 200, r.text
    assert r.json()["ok"] is True


async def _a_meeting(srv: ServerProcess, boot: Bootstrap) -> str:
    """A meeting of the bootstrap room: the owner joins, and the meeting starts with them."""
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as owner:
        await owner.op("annotation.create", annotation={"id": "m1", "position": [0, 0, 0]})
    for _ in range(100):
        listed = httpx.get(f"{srv.base_url}/api/projects/{boot.project_id}/meetings",
                           headers=auth(boot.owner_token)).json()
        if listed:
            return str(listed[0]["meeting_id"])
        await asyncio.sleep(0.1)
    raise AssertionError("no meeting was listed")


@pytest.fixture(scope="module")
def real_ids(srv: ServerProcess, boot: Bootstrap) -> dict[str, str]:
    """Ids of every kind that exist (in the bootstrap project)."""
    up = httpx.post(f"{srv.base_url}/api/projects/{boot.project_id}/models",
                    files={"file": ("tower.obj", obj_text({"wall": 1.0}))},
                    headers=auth(boot.owner_token), timeout=60)
    assert up.status_code == 202, up.text
    out = up.json()
    job_id = out["job"]["job_id"]
    for _ in range(600):
        job = httpx.get(f"{srv.base_url}/api/jobs/{job_id}", headers=auth(boot.owner_token))
        if job.json()["status"] in ("done", "failed"):
            break
        time.sleep(0.1)
    assert job.json()["status"] == "done", job.text
    version = httpx.get(f"{srv.base_url}/api/versions/{out['version']['version_id']}",
                        headers=auth(boot.owner_token)).json()
    meeting_id = asyncio.run(_a_meeting(srv, boot))
    return {"project_id": boot.project_id, "room_id": boot.room_id, "meeting_id": meeting_id,
            "index": "0",
            "model_id": out["model"]["model_id"], "version_id": version["version_id"],
            "job_id": job_id, "sha256": version["files"][0]["sha256"],
            "annotation_id": "nope", "path": "manifest.json", "user_id": boot.owner_id,
            "a": version["version_id"], "b": version["version_id"]}


def _routes(srv: ServerProcess) -> list[tuple[str, str]]:
    spec = httpx.get(srv.base_url + "/openapi.json").json()
    out = []
    for path, ops in spec["paths"].items():
        if "{" not in path or not path.startswith("/api/"):
            continue
        out += [(method.upper(), path) for method in ops if method in ("get", "post", "put")]
    return out


def _call(srv: ServerProcess, method: str, path: str, ids: dict[str, str],
          headers: dict[str, str]) -> httpx.Response:
    url = srv.base_url + path.format(**ids)
    body: dict[str, Any] = {"name": "x", "version_id": ids["version_id"], "anchor_state": "ok",
                            "role": "viewer", "recording": False}
    if method == "GET":
        return httpx.get(url, headers=headers, timeout=30)
    return httpx.request(method, url, json=body, headers=headers, timeout=30)


def test_no_existence_oracle_in_rest(srv: ServerProcess, boot: Bootstrap,
                                     real_ids: dict[str, str]) -> None:
    outsider = srv.bootstrap(project_name="Mallory's").owner_token
    routes = _routes(srv)
    assert len(routes) >= 15
    for method, path in routes:
        if path.endswith("/events"):
            continue  # the same check as GET /api/jobs/{job_id} (a stream when allowed)
        for ids in (MISSING, real_ids):
            # no token, or a bad one: 401 before any id is looked up
            assert _call(srv, method, path, ids, {}).status_code == 401, (method, path, ids)
            bad = _call(srv, method, path, ids, auth("vrc_bad"))
            assert bad.status_code == 401, (method, path)
            # a member of another project: 404, exactly like an id that does not exist
            r = _call(srv, method, path, ids, auth(outsider))
            assert r.status_code == 404, (method, path, ids, r.status_code, r.text)
    # a room switched to another project's version: 404 like a missing version
    other = srv.bootstrap(project_name="Other")
    r = httpx.put(f"{srv.base_url}/api/rooms/{other.room_id}/model",
                  json={"version_id": real_ids["version_id"]}, headers=auth(other.owner_token))
    assert r.status_code == 404, r.text
    healthy(srv)


def test_room_model_is_a_version_of_the_project(srv: ServerProcess, boot: Bootstrap,
                                                real_ids: dict[str, str]) -> None:
    url = f"{srv.base_url}/api/projects/{boot.project_id}/rooms"
    r = httpx.post(url, json={"name": "On v1", "model": {"version_id": real_ids["version_id"]}},
                   headers=auth(boot.owner_token))
    assert r.status_code == 201, r.text
    model = r.json()["model"]
    assert model["manifest_url"] == f"/api/versions/{real_ids['version_id']}/files/manifest.json"
    assert model["model_id"] == real_ids["model_id"]
    # an off-origin manifest or extra fields: 422; another project's version: 404 like a missing
    evil = httpx.post(url, json={"name": "x", "model": {"version_id": real_ids["version_id"],
                                                        "manifest_url": "https://evil.example"}},
                      headers=auth(boot.owner_token))
    assert evil.status_code == 422
    other = srv.bootstrap(project_name="Thief")
    stolen = httpx.post(f"{srv.base_url}/api/projects/{other.project_id}/rooms",
                        json={"name": "x", "model": {"version_id": real_ids["version_id"]}},
                        headers=auth(other.owner_token))
    missing = httpx.post(f"{srv.base_url}/api/projects/{other.project_id}/rooms",
                         json={"name": "x", "model": {"version_id": "v_missing"}},
                         headers=auth(other.owner_token))
    assert (stolen.status_code, missing.status_code) == (404, 404)
    healthy(srv)


def test_non_finite_json_is_a_typed_400(srv: ServerProcess, boot: Bootstrap) -> None:
    url = f"{srv.base_url}/api/projects/{boot.project_id}/rooms"
    for raw in ('{"name": "n", "model": {"x": NaN}}', '{"name": "n", "model": {"x": 1e999}}',
                '{"name": "n", "model": {"x": -Infinity}}'):
        r = httpx.post(url, content=raw, headers={**auth(boot.owner_token),
                                                  "Content-Type": "application/json"})
        assert r.status_code == 400, (raw, r.status_code, r.text)
        assert r.json()["error"]["code"] == "bad_json"
    ok = httpx.post(url, json={"name": "fine"}, headers=auth(boot.owner_token))
    assert ok.status_code == 201, ok.text
    healthy(srv)


def test_member_files_are_private_and_api_is_nosniff(
        srv: ServerProcess, boot: Bootstrap, real_ids: dict[str, str]) -> None:
    r = httpx.get(f"{srv.base_url}/api/versions/{real_ids['version_id']}/files/manifest.json",
                  headers=auth(boot.owner_token))
    assert r.status_code == 200
    assert r.headers["cache-control"] == "private, max-age=31536000, immutable"
    blob = httpx.get(f"{srv.base_url}/api/assets/{real_ids['sha256']}",
                     headers=auth(boot.owner_token))
    assert blob.headers["cache-control"].startswith("private,")
    for path in ("/api/health", "/api/me", f"/api/rooms/{boot.room_id}", "/api/nowhere"):
        got = httpx.get(srv.base_url + path, headers=auth(boot.owner_token))
        assert got.headers["x-content-type-options"] == "nosniff", path


def _raw(srv: ServerProcess, request: bytes) -> bytes:
    """Send ``request`` on a fresh socket and read the answer until the server closes."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as s:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            s.sendall(request)
        out = b""
        try:
            while chunk := s.recv(65536):
                out += chunk
        except ConnectionResetError:
            pass
        return out


def test_oversize_and_too_many_headers_are_refused(srv: ServerProcess) -> None:
    huge = b"GET /api/health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    assert _raw(srv, huge).split(b"\r\n")[0] == b"HTTP/1.1 431 Request Header Fields Too Large"
    many = (b"GET /api/health HTTP/1.1\r\nHost: x\r\n"
            + b"".join(b"x-%d: 1\r\n" % i for i in range(5000)) + b"\r\n")
    answer = _raw(srv, many).split(b"\r\n")[0]
    assert answer == b"HTTP/1.1 431 Request Header Fields Too Large", answer
    # 150 small headers fit in the bytes but not in the count (max_headers = 100)
    counted = httpx.get(srv.base_url + "/api/health",
                        headers={f"x-h{i}": "1" for i in range(150)})
    assert counted.status_code == 431
    assert counted.json()["error"]["code"] == "headers_too_large"
    healthy(srv)


def test_declared_oversize_body_is_413_before_it_is_sent(
        srv: ServerProcess, boot: Bootstrap) -> None:
    head = (f"POST /api/projects/{boot.project_id}/models HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {boot.owner_token}\r\n"
            "Content-Type: multipart/form-data; boundary=XyZ\r\n"
            "Content-Length: 10000000000\r\n\r\n").encode()
    answer = _raw(srv, head)  # and not one byte of the body
    assert answer.split(b"\r\n")[0] == b"HTTP/1.1 413 Request Entity Too Large", answer
    assert b"limit_exceeded" in answer
    json_head = (f"POST /api/projects/{boot.project_id}/rooms HTTP/1.1\r\nHost: x\r\n"
                 f"Authorization: Bearer {boot.owner_token}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 5000000\r\n\r\n").encode()
    answer = _raw(srv, json_head)
    assert b" 413 " in answer.split(b"\r\n")[0]
    assert b"max_json_body_bytes" in answer
    healthy(srv)


def test_health_is_503_while_the_store_cannot_write(srv: ServerProcess) -> None:
    healthy(srv)
    lock = sqlite3.connect(str(srv.db_path), timeout=30, isolation_level=None)
    try:
        lock.execute("BEGIN EXCLUSIVE")  # another writer holds the database
        r = httpx.get(srv.base_url + "/api/health", timeout=30)
        assert r.status_code == 503, r.text
        assert r.json()["ok"] is False
        assert r.json()["error"]["code"] == "store_unwritable"
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    healthy(srv)
