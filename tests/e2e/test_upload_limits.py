"""Over-limit uploads against a real server: 413 before or while streaming, with a body the
server stops reading, and the server and other projects carry on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.e2e_support import auth

pytestmark = pytest.mark.timeout(300)
LIMIT = 1_000_000


def _chunked(size: int) -> Iterator[bytes]:
    yield b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.obj"\r\n\r\n'
    for _ in range(size // 65536):
        yield b"v 0 0 0\n" * 8192
    yield b"\r\n--B--\r\n"


def test_over_limit_uploads_get_413_and_nothing_else_is_affected(server_factory: Any) -> None:
    srv = server_factory(env={"VRCOLLAB_MAX_UPLOAD_BYTES": str(LIMIT)})
    boot = srv.bootstrap()
    other = srv.bootstrap("Other project")
    url = f"{srv.base_url}/api/projects/{boot.project_id}/models"
    for size in (3 * LIMIT, 25 * LIMIT):
        sized = httpx.post(url, files={"file": ("a.obj", b"v 0 0 0\n" * (size // 8))},
                           headers=auth(boot.owner_token), timeout=120)
        assert sized.status_code == 413
        assert sized.json()["error"]["code"] == "limit_exceeded"
        chunked = httpx.post(url, content=_chunked(size), timeout=120, headers={
            **auth(boot.owner_token), "Content-Type": "multipart/form-data; boundary=B"})
        assert chunked.status_code == 413
    ok = httpx.post(f"{srv.base_url}/api/projects/{other.project_id}/models",
                    files={"file": ("wall.obj", b"o wall\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")},
                    headers=auth(other.owner_token), timeout=60)
    assert ok.status_code == 202
    assert httpx.get(f"{srv.base_url}/api/projects/{boot.project_id}/models",
                     headers=auth(boot.owner_token)).json() == []
    assert httpx.get(srv.base_url + "/api/health").json()["ok"] is True


def test_large_upload_is_streamed_not_buffered(server_factory: Any) -> None:
    """A 128 MiB upload raises the server's memory by far less than its size."""
    import threading
    import time

    import psutil

    srv = server_factory(env={"VRCOLLAB_JOB_CONVERTER": "tests.jobs.fake_converters:bad_input"})
    boot = srv.bootstrap()
    proc = psutil.Process(srv.pid)
    base = proc.memory_info().rss
    peak = [base]
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], proc.memory_info().rss)
            time.sleep(0.02)

    size = 128 * 1024 * 1024

    def body() -> Iterator[bytes]:
        yield (b'--B\r\nContent-Disposition: form-data; name="file"; filename="big.obj"\r\n\r\n'
               b"v 0 0 0\n")
        chunk = b"# an OBJ comment line, as padding\n" * 2000
        for _ in range(size // len(chunk)):
            yield chunk
        yield b"\r\n--B--\r\n"

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        r = httpx.post(f"{srv.base_url}/api/projects/{boot.project_id}/models", content=body(),
                       headers={**auth(boot.owner_token),
                                "Content-Type": "multipart/form-data; boundary=B"}, timeout=300)
    finally:
        done.set()
        watcher.join()
    assert r.status_code == 202, r.text
    assert r.json()["version"]["source_bytes"] > size - 70_000
    grew = (peak[0] - base) / 2**20
    assert grew < 40, f"server memory grew by {grew:.0f} MiB during a 128 MiB upload"
