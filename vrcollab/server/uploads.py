"""Streaming ``multipart/form-data`` upload: body chunks -> a temp file, hashed on the way.

The request body is never held in memory: each chunk of the file part is written to a temporary
file in the asset store's temp dir and fed to SHA-256 as it arrives. The size limit is enforced
while streaming (``LimitExceededError`` -> HTTP 413) - a client that lies about or omits
``Content-Length`` is cut off as soon as it crosses the limit. Small text fields (model name) are
collected up to ``max_field_bytes``.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from vrcollab.assets import AssetStore
from vrcollab.errors import LimitExceededError, UploadError

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 16
_CALLBACKS = (
    "on_part_begin", "on_part_data", "on_part_end", "on_header_field", "on_header_value",
    "on_header_end", "on_headers_finished", "on_end",
)


@dataclass
class ReceivedUpload:
    """An uploaded file on disk (in the asset temp dir) with its digest and form fields."""

    path: Path
    filename: str
    sha256: str
    size: int
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """Callback target for python-multipart's push parser."""

    def __init__(self, assets: AssetStore, file_field: str, max_bytes: int) -> None:
        self.assets = assets
        self.file_field = file_field
        self.max_bytes = max_bytes
        self.fields: dict[str, str] = {}
        self.headers: dict[bytes, bytes] = {}
        self._hname = b""
        self._hvalue = b""
        self._name: str | None = None
        self._filename: str | None = None
        self._buf = bytearray()
        self._fh: IO[bytes] | None = None
        self.path: Path | None = None
        self.filename = ""
        self.size = 0
        self.digest = hashlib.sha256()
        self.done_file = False
        self.finished = False

    def on_part_begin(self) -> None:
        self.headers = {}
        self._name = self._filename = None
        self._buf = bytearray()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._hname += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._hvalue += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self._hname.lower()] = self._hvalue
        self._hname = self._hvalue = b""

    def on_headers_finished(self) -> None:
        _, opts = parse_options_header(self.headers.get(b"content-disposition", b""))
        name = opts.get(b"name")
        self._name = name.decode("utf-8", "replace") if name is not None else None
        filename = opts.get(b"filename")
        self._filename = filename.decode("utf-8", "replace") if filename is not None else None
        if self._is_file():
            if self.path is not None:
                raise UploadError(f"more than one {self.file_field!r} part")
            self.path = self.assets.temp_file()
            self._fh = self.path.open("wb")
            self.filename = self._filename or "upload"

    def _is_file(self) -> bool:
        return self._name == self.file_field and self._filename is not None

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._fh is not None and self._is_file():
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise LimitExceededError(
                    f"upload is larger than the limit of {self.max_bytes} bytes"
                )
            self.digest.update(chunk)
            self._fh.write(chunk)
            return
        self._buf += chunk
        if len(self._buf) > MAX_FIELD_BYTES:
            raise LimitExceededError(f"form field {self._name!r} is over {MAX_FIELD_BYTES} bytes")

    def on_part_end(self) -> None:
        if self._fh is not None and self._is_file():
            self._fh.close()
            self._fh = None
            self.done_file = True
        elif self._name is not None and self._filename is None:
            if len(self.fields) >= MAX_FIELDS:
                raise UploadError("too many form fields")
            self.fields[self._name] = self._buf.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.finished = True

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def discard(self) -> None:
        self.close()
        if self.path is not None:
            self.path.unlink(missing_ok=True)


def boundary_of(content_type: str) -> bytes:
    """The multipart boundary from a ``Content-Type`` header (:class:`UploadError` if none)."""
    kind, opts = parse_options_header(content_type)
    boundary = opts.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise UploadError("expected a multipart/form-data body with a 'file' part")
    return boundary


async def receive_upload(
    chunks: AsyncIterator[bytes],
    *,
    content_type: str,
    assets: AssetStore,
    max_bytes: int,
    file_field: str = "file",
) -> ReceivedUpload:
    """Parse a multipart body from ``chunks`` into a temp file; the caller owns the file after."""
    receiver = _Receiver(assets, file_field, max_bytes)
    callbacks = {name: getattr(receiver, name) for name in _CALLBACKS}
    parser = MultipartParser(boundary_of(content_type), callbacks=callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in chunks:
            if chunk:
                parser.write(chunk)
        parser.finalize()
    except MultipartParseError as exc:
        receiver.discard()
        raise UploadError("malformed multipart body") from exc
    except BaseException:
        receiver.discard()
        raise
    receiver.close()
    if receiver.path is None or not receiver.done_file:
        receiver.discard()
        raise UploadError(f"the body has no complete {file_field!r} file part")
    if not receiver.finished:
        receiver.discard()
        raise UploadError("the multipart body is truncated")
    return ReceivedUpload(
        receiver.path, receiver.filename, receiver.digest.hexdigest(), receiver.size,
        receiver.fields,
    )


async def drain(chunks: AsyncIterator[bytes], limit: int) -> None:
    """Read and drop up to ``limit`` more bytes so the client gets to read our error response."""
    seen = 0
    with contextlib.suppress(Exception):
        async for chunk in chunks:
            seen += len(chunk)
            if seen > limit:
                break
