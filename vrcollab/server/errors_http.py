"""Errors as HTTP answers: every error body is ``{"error": {"code", "message"}}``.

- :class:`vrcollab.errors.VrcollabError` -> the status of :func:`status_for`; its message is
  written for the caller, except on a 5xx, whose text is logged and replaced by a fixed one
  (and the database's own text, which never leaves: :func:`public_message`).
- Request validation (FastAPI's 422) -> code ``invalid_request`` with ``details``
  (``loc``, ``msg``, ``type`` per problem; never the input echoed back).
- Starlette's HTTP errors (unknown route 404, 405 ...) -> ``not_found``,
  ``method_not_allowed`` or ``http_<status>``.
- Anything else -> 500 ``internal`` with a fixed message (the traceback goes to the log).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from vrcollab.errors import (
    AuthError,
    BcfError,
    ConfigError,
    IngestError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    ProtocolError,
    RequestError,
    StoreError,
    VrcollabError,
)

log = logging.getLogger("vrcollab.server")

INTERNAL_MESSAGE = "internal server error (the server log has the details)"
_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}


def status_for(exc: VrcollabError) -> int:
    """HTTP status of a vrcollab error (an ``http_status`` attribute wins, e.g. quotas)."""
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, PermissionDeniedError):
        return 403
    if isinstance(exc, AuthError):
        return 401
    if isinstance(exc, NotFoundError):
        return 404
    if isinstance(exc, LimitExceededError):
        return 413
    if isinstance(exc, IngestError | BcfError):
        return 422
    if isinstance(exc, ConfigError | ProtocolError | RequestError):
        return 400
    if isinstance(exc, StoreError):
        return 409 if exc.code == "conflict" else 500
    return 500


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The documented error envelope."""
    return {"error": {"code": code, "message": message, **extra}}


def public_message(exc: VrcollabError, status: int) -> str:
    """What the caller may read: the message, or a fixed text for a server-side failure. A store
    error translated from a database exception (a conflict, 409) keeps only its own clause, the
    text before the database's (``"room r1 already exists: UNIQUE constraint ..."``)."""
    if status >= 500:
        return INTERNAL_MESSAGE
    text = str(exc)
    cause = exc.__cause__
    if isinstance(exc, StoreError) and cause is not None and not isinstance(cause, VrcollabError):
        return text.split(": ", 1)[0]
    return text


async def vrcollab_error(request: Request, exc: Exception) -> JSONResponse:
    """A :class:`VrcollabError` raised by a route."""
    assert isinstance(exc, VrcollabError)
    status = status_for(exc)
    if status >= 500:
        log.error("%s %s failed: %s: %s", request.method, request.url.path,
                  type(exc).__name__, exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(exc.code, public_message(exc, status)), status_code=status,
                        headers=headers)


def _detail(err: Any) -> dict[str, Any]:
    if not isinstance(err, dict):
        return {"loc": [], "msg": str(err), "type": "invalid"}
    return {"loc": [str(x) for x in err.get("loc", ())], "msg": str(err.get("msg", "")),
            "type": str(err.get("type", "invalid"))}


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's request validation (body, query, path) -> 422 ``invalid_request``."""
    assert isinstance(exc, RequestValidationError)
    details = [_detail(e) for e in exc.errors()][:50]
    first = details[0] if details else {"loc": [], "msg": "invalid request"}
    where = ".".join(first["loc"])
    message = f"{where}: {first['msg']}" if where else str(first["msg"])
    return JSONResponse(error_body("invalid_request", message[:500], details=details),
                        status_code=422)


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own HTTP errors: unknown routes (404), wrong methods (405) and the like."""
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "error"
    message = exc.detail if isinstance(exc.detail, str) and status < 500 else phrase
    code = _HTTP_CODES.get(status, f"http_{status}")
    return JSONResponse(error_body(code, message), status_code=status,
                        headers=getattr(exc, "headers", None))


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """An exception no one translated: logged with its traceback; the caller gets 500."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse(error_body("internal", INTERNAL_MESSAGE), status_code=500)


async def client_gone(request: Request, exc: Exception) -> JSONResponse:
    """The client hung up mid-request (a stalled upload closed by the edge): nothing to answer."""
    assert isinstance(exc, ClientDisconnect)
    log.info("%s %s: client disconnected before the body was read", request.method,
             request.url.path)
    return JSONResponse(error_body("client_disconnected", "the client went away"),
                        status_code=400)


def install_error_handlers(app: FastAPI) -> None:
    """Register every handler above on ``app``."""
    app.add_exception_handler(VrcollabError, vrcollab_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(ClientDisconnect, client_gone)
    app.add_exception_handler(Exception, unexpected_error)
