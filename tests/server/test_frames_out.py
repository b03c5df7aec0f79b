"""The send fast path (``vrcollab.server.frames_out``) under a real uvicorn on 127.0.0.1: it is
taken only for a socket without extensions, and what it writes is what a websocket client reads
(text frames in order, shared frames intact, non-ASCII text, a frame of 64 KiB and more)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
import uvicorn
import websockets
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from tests.server_process import free_port
from vrcollab.server.frames_out import direct_sink, text_frame

TEXTS = ["a", "é ☃ 𝄞", "x" * 70_000, '{"type":"poses","poses":{}}']


async def _endpoint(ws: WebSocket) -> None:
    await ws.accept()
    sink = direct_sink(ws)
    if sink is None:
        await ws.send_text("asgi")
    else:
        shared = text_frame(TEXTS[3])
        await sink.write([text_frame(t) for t in TEXTS[:3]] + [shared])
        await sink.write([shared])
    await ws.receive_text()  # until the client says it is done
    await ws.close()


@contextlib.asynccontextmanager
async def _server(**config: Any) -> AsyncIterator[str]:
    port = free_port()
    app = Starlette(routes=[WebSocketRoute("/ws", _endpoint)])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           ws="websockets-sansio", log_level="warning",
                                           lifespan="off", **config))
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(20):
            while not server.started:
                await asyncio.sleep(0.02)
        yield f"ws://127.0.0.1:{port}/ws"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 20)


@pytest.mark.timeout(60)
async def test_fast_path_frames_arrive_as_text_messages_in_order() -> None:
    async with _server(ws_per_message_deflate=False) as url, \
            websockets.connect(url, max_size=None) as ws:
        got = [await asyncio.wait_for(ws.recv(), 10) for _ in range(5)]
        await ws.send("done")
    assert got == [*TEXTS, TEXTS[3]]
    assert all(isinstance(m, str) for m in got)


@pytest.mark.timeout(60)
async def test_a_negotiated_extension_keeps_sends_on_asgi() -> None:
    """With per-message deflate negotiated, frames must pass through the protocol's encoder."""
    async with _server(ws_per_message_deflate=True) as url, \
            websockets.connect(url, compression="deflate") as ws:
        assert await asyncio.wait_for(ws.recv(), 10) == "asgi"
        await ws.send("done")
