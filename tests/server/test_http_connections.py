"""Unauthenticated and idle connections through the real server (issue 8, item 5; docs/api.md
"Limits at the edge").

Attackers connect from other loopback addresses (127.0.0.2 and up; Linux routes all of 127/8 to
lo) so the per-address cap applies to them and not to the legitimate client on 127.0.0.1:

- idle sockets and slowloris sockets (a request head trickled a few bytes at a time) are closed
  after ``header_timeout_s`` without an answer;
- past ``max_connections_per_address`` a new socket gets ``429`` at once, past
  ``max_connections`` ``503``;
- meanwhile a websocket member keeps its session and a REST client is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.server_process import ServerProcess
from vrcollab.client import RoomClient

REQUEST = b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def _loopback_aliases() -> bool:
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.2", 0))
    except OSError:
        return False
    return True


pytestmark = pytest.mark.skipif(not _loopback_aliases(),
                                reason="needs 127.0.0.2+ on loopback (Linux routes 127/8 to lo)")


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("capped"),
                      env={"VRCOLLAB_HEADER_TIMEOUT_S": "120",
                           "VRCOLLAB_MAX_CONNECTIONS_PER_ADDRESS": "20",
                           "VRCOLLAB_MAX_CONNECTIONS": "45"})
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def timed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("timed"),
                      env={"VRCOLLAB_HEADER_TIMEOUT_S": "1",
                           "VRCOLLAB_REQUEST_IDLE_TIMEOUT_S": "1",
                           "VRCOLLAB_MAX_CONNECTIONS_PER_ADDRESS": "500"})
    s.start()
    yield s
    s.stop()


def connect_from(srv: ServerProcess, source: str) -> socket.socket:
    s = socket.socket()
    s.settimeout(60)
    s.bind((source, 0))
    s.connect(("127.0.0.1", srv.port))
    return s


def read_all(s: socket.socket) -> bytes:
    """Everything the server sends until it closes (a reset after its answer is a close too)."""
    out = b""
    with contextlib.suppress(ConnectionResetError, BrokenPipeError):
        while chunk := s.recv(65536):
            out += chunk
    return out


def status_line(answer: bytes) -> bytes:
    return answer.split(b"\r\n", 1)[0]


def served(srv: ServerProcess) -> None:
    r = httpx.get(srv.base_url + "/api/health", timeout=60)
    assert r.status_code == 200, r.text


async def test_caps_per_address_and_in_total(capped: ServerProcess) -> None:
    boot = capped.bootstrap()
    async with RoomClient(capped.base_url, boot.room_id, boot.owner_token) as member:
        socks = [connect_from(capped, "127.0.0.2") for _ in range(30)]
        try:
            served(capped)  # from 127.0.0.1, while 127.0.0.2 holds its cap
            answers = []
            for s in socks:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    s.sendall(REQUEST)
                answers.append(status_line(read_all(s)))
        finally:
            for s in socks:
                s.close()
        assert answers.count(b"HTTP/1.1 200 OK") == 20, answers
        assert answers.count(b"HTTP/1.1 429 Too Many Requests") == 10, answers

        # in total: 3 addresses x 20 > max_connections (45, the member's websocket included)
        socks = [connect_from(capped, f"127.0.0.{a}") for a in (3, 4, 5) for _ in range(20)]
        await asyncio.sleep(1.0)  # let the server accept all 60 before any answer frees a slot
        try:
            answers = []
            for s in socks:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    s.sendall(REQUEST)
                answers.append(status_line(read_all(s)))
        finally:
            for s in socks:
                s.close()
        refused = answers.count(b"HTTP/1.1 503 Service Unavailable")
        assert refused >= 60 - 45, answers
        assert answers.count(b"HTTP/1.1 200 OK") == 60 - refused
        # the member was never cut off and still commits
        ack = await member.op("annotation.create", annotation={"id": "a1", "position": [0, 0, 0]})
        assert ack["seq"] == 1
        assert member.connected
    served(capped)


async def test_idle_and_slowloris_sockets_are_closed(timed: ServerProcess) -> None:
    boot = timed.bootstrap()
    async with RoomClient(timed.base_url, boot.room_id, boot.owner_token) as member:
        idle = [connect_from(timed, "127.0.0.2") for _ in range(100)]
        slow = [connect_from(timed, "127.0.0.3") for _ in range(20)]
        try:
            served(timed)
            # slowloris: one header line after another, never the blank line that ends the head
            open_slow = list(slow)
            sent = 0
            deadline = time.monotonic() + 120  # a guard against hanging, not a timing assertion
            while open_slow and time.monotonic() < deadline:
                still = []
                for s in open_slow:
                    try:
                        s.sendall(b"GET /api/health HTTP/1.1\r\n" if sent == 0
                                  else b"X-Slow-%d: 1\r\n" % sent)
                        still.append(s)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                open_slow, sent = still, sent + 1
                time.sleep(0.2)
            assert open_slow == [], f"{len(open_slow)} slowloris sockets still open"
            # idle sockets got no answer, just a close
            assert [read_all(s) for s in idle] == [b""] * len(idle)
        finally:
            for s in idle + slow:
                s.close()
        served(timed)
        ack = await member.op("annotation.create", annotation={"id": "a1", "position": [0, 0, 0]})
        assert ack["seq"] == 1
        assert member.connected


async def test_stalled_request_bodies_are_closed(timed: ServerProcess) -> None:
    boot = timed.bootstrap()
    heads = [
        (f"POST /api/projects/{boot.project_id}/models HTTP/1.1\r\nHost: x\r\n"
         f"Authorization: Bearer {boot.owner_token}\r\n"
         "Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: 100000\r\n\r\n"
         "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.obj\"\r\n\r\nv 0"),
        (f"POST /api/projects/{boot.project_id}/rooms HTTP/1.1\r\nHost: x\r\n"
         f"Authorization: Bearer {boot.owner_token}\r\n"
         "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"name\": "),
    ]
    async with RoomClient(timed.base_url, boot.room_id, boot.owner_token) as member:
        socks = [connect_from(timed, "127.0.0.4") for _ in heads for _ in range(10)]
        try:
            for i, s in enumerate(socks):
                s.sendall(heads[i // 10].encode())  # ... and then nothing more of the body
            served(timed)
            for s in socks:
                read_all(s)  # returns once the server closes (the socket timeout is 60 s)
        finally:
            for s in socks:
                s.close()
        served(timed)
        ack = await member.op("annotation.create", annotation={"id": "s1", "position": [0, 0, 0]})
        assert ack["seq"] == 1
    assert "Traceback" not in timed.log()


def test_low_open_file_limit_caps_connections_below_it(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """With a hard limit of 300 descriptors the server warns and caps connections at
    300 - 128: a flood gets 503 instead of exhausting descriptors, and service resumes."""
    start = ("import resource, runpy; resource.setrlimit(resource.RLIMIT_NOFILE, (300, 300)); "
             "runpy.run_module('vrcollab.server.serve', run_name='__main__')")
    srv = ServerProcess(tmp_path_factory.mktemp("nofile"), command=[sys.executable, "-c", start])
    with srv:
        assert "open-file limit 300 allows only 172" in srv.log()
        socks = [connect_from(srv, f"127.0.0.{2 + i % 3}") for i in range(250)]
        try:
            r = httpx.get(srv.base_url + "/api/health", timeout=60)
            assert r.status_code == 503  # at the cap: a clear answer, not a hang
            assert r.json()["error"]["code"] == "too_many_connections"
        finally:
            for s in socks:
                s.close()
        for _ in range(600):  # the server sees the closes soon; a guard against hanging
            if httpx.get(srv.base_url + "/api/health", timeout=60).status_code == 200:
                break
            time.sleep(0.1)
        served(srv)
        assert "Too many open files" not in srv.log()
