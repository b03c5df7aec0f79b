"""ASGI middleware at the edge of the app (issue 8): checks that need the parsed request head
but not the routes.

For every HTTP request, before any route (and so before any id is looked up):

- more than ``max_headers`` header fields -> **431** ``headers_too_large``;
- a declared ``Content-Length`` over the largest body any route takes (``max_upload_bytes`` plus
  multipart slack) -> **413** ``limit_exceeded`` without reading the body; a JSON body
  (``application/json``) over ``max_json_body_bytes`` -> **413** as well, declared or counted;
- a JSON body with ``NaN``, ``Infinity`` or a number out of float range (``1e999``) -> **400**
  ``bad_json`` (the body is read, checked and handed on unchanged);
- every response gets ``X-Content-Type-Options: nosniff``.

Errors are the API's ``{"error": {"code", "message"}}`` with ``Connection: close`` when the body
was not read. Websocket scopes pass through untouched (their limits are the sync core's).
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from vrcollab.settings import Settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MULTIPART_SLACK = 64 * 1024  # same slack the upload route allows


class _NonFiniteError(ValueError):
    pass


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NonFiniteError(text[:40])
    return value


def _no_constant(name: str) -> float:
    raise _NonFiniteError(name)


def non_finite_number(body: bytes) -> str | None:
    """The first non-finite number literal of a JSON document (``NaN``, ``Infinity``,
    ``1e999``), or None; None also for text that is not JSON (the route answers that)."""
    try:
        json.loads(body, parse_float=_finite_float, parse_constant=_no_constant)
    except _NonFiniteError as exc:
        return str(exc)
    except ValueError:
        return None
    return None


async def _error(send: Send, status: int, code: str, message: str, *, close: bool) -> None:
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"x-content-type-options", b"nosniff")]
    if close:
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class EdgeMiddleware:
    """The checks of this module around ``app``."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.max_headers = settings.max_headers
        self.max_body = settings.max_upload_bytes + MULTIPART_SLACK
        self.max_json = settings.max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
        if len(headers) > self.max_headers:
            await _error(send, 431, "headers_too_large",
                         f"{len(headers)} header fields; at most {self.max_headers} (max_headers)",
                         close=True)
            return
        declared: int | None = None
        is_json = False
        for name, value in headers:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
            elif name == b"content-type":
                is_json = value.split(b";")[0].strip().lower() == b"application/json"
        limit = self.max_json if is_json else self.max_body
        if declared is not None and declared > limit:
            setting = "max_json_body_bytes" if is_json else "max_upload_bytes"
            await _error(send, 413, "limit_exceeded",
                         f"request body of {declared} bytes is over the limit of {limit} "
                         f"({setting})", close=True)
            return

        async def nosniff(message: Message) -> None:
            if message["type"] == "http.response.start":
                hdrs = list(message.get("headers") or [])
                if not any(k.lower() == b"x-content-type-options" for k, _ in hdrs):
                    hdrs.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = hdrs
            await send(message)

        if not is_json or scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, nosniff)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > self.max_json:
                await _error(send, 413, "limit_exceeded",
                             f"JSON body over the limit of {self.max_json} bytes "
                             "(max_json_body_bytes)", close=True)
                return
            if not message.get("more_body", False):
                break
        bad = non_finite_number(bytes(body))
        if bad is not None:
            await _error(send, 400, "bad_json",
                         f"JSON body has a non-finite number ({bad}); numbers must be finite",
                         close=False)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, nosniff)
