"""A content-addressed blob store on the local file system.

Blobs live at ``<root>/<aa>/<bb>/<sha256>`` where ``aa``/``bb`` are the first hex pairs of the
digest. Writes go to a temporary file in ``<root>/tmp`` first and are renamed into place, so a
reader never sees a half-written blob and two writers of the same content cannot conflict.
Blobs are immutable: the same digest always names the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from vrcollab.errors import NotFoundError, StoreError

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
CHUNK = 1024 * 1024


def is_sha256(value: str) -> bool:
    """True when ``value`` is a lower-case hex SHA-256 digest."""
    return bool(_SHA256.match(value))


@dataclass(frozen=True)
class AssetInfo:
    """A stored blob: its digest and size in bytes."""

    sha256: str
    size: int


def hash_file(path: Path) -> AssetInfo:
    """SHA-256 and size of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return AssetInfo(digest.hexdigest(), size)


class AssetStore:
    """Immutable blobs addressed by their SHA-256, stored under one root directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.tmp_dir = self.root / "tmp"
        self.tmp_dir.mkdir(parents=True, exist_ok=True)

    def purge_temp(self, older_than_s: float = 3600.0) -> int:
        """Delete temp files left by interrupted uploads or writes; returns how many."""
        cutoff = time.time() - older_than_s
        removed = 0
        for entry in self.tmp_dir.iterdir():
            with contextlib.suppress(OSError):
                if entry.is_file() and entry.stat().st_mtime < cutoff:
                    entry.unlink()
                    removed += 1
        return removed

    def path(self, sha256: str) -> Path:
        """Where the blob with this digest lives (whether or not it exists)."""
        if not is_sha256(sha256):
            raise NotFoundError(f"not an asset id: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def exists(self, sha256: str) -> bool:
        """True if the blob is stored."""
        return is_sha256(sha256) and self.path(sha256).is_file()

    def open_path(self, sha256: str) -> Path:
        """The path of a stored blob; :class:`NotFoundError` when it is missing."""
        path = self.path(sha256)
        if not path.is_file():
            raise NotFoundError(f"asset {sha256} not found")
        return path

    def read_bytes(self, sha256: str) -> bytes:
        """The whole blob (for small blobs such as manifests)."""
        return self.open_path(sha256).read_bytes()

    def temp_file(self, suffix: str = "") -> Path:
        """A fresh empty file in the store's temp dir (same file system as the blobs)."""
        fd, name = tempfile.mkstemp(dir=self.tmp_dir, suffix=suffix)
        os.close(fd)
        return Path(name)

    def put_bytes(self, data: bytes) -> AssetInfo:
        """Store bytes; returns their digest and size."""
        info = AssetInfo(hashlib.sha256(data).hexdigest(), len(data))
        if self.exists(info.sha256):
            return info
        tmp = self.temp_file()
        try:
            tmp.write_bytes(data)
            self._commit(tmp, info.sha256)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def put_chunks(self, chunks: Iterable[bytes]) -> AssetInfo:
        """Store a stream of byte chunks without holding them all in memory."""
        tmp = self.temp_file()
        digest = hashlib.sha256()
        size = 0
        try:
            with tmp.open("wb") as fh:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    fh.write(chunk)
            info = AssetInfo(digest.hexdigest(), size)
            if not self.exists(info.sha256):
                self._commit(tmp, info.sha256)
            return info
        finally:
            tmp.unlink(missing_ok=True)

    def put_file(
        self, src: Path, *, known: AssetInfo | None = None, move: bool = False
    ) -> AssetInfo:
        """Store a file's content. ``known`` skips re-hashing; ``move`` renames instead of copying.

        ``move`` only renames when ``src`` is on the same file system (e.g. from :meth:`temp_file`).
        """
        info = known if known is not None else hash_file(src)
        if self.exists(info.sha256):
            if move:
                src.unlink(missing_ok=True)
            return info
        if move:
            self._commit(src, info.sha256)
            return info
        tmp = self.temp_file()
        try:
            shutil.copyfile(src, tmp)
            self._commit(tmp, info.sha256)
        finally:
            tmp.unlink(missing_ok=True)
        return info

    def delete(self, sha256: str) -> None:
        """Remove a blob if present (garbage collection; callers check references)."""
        self.path(sha256).unlink(missing_ok=True)

    def _commit(self, tmp: Path, sha256: str) -> None:
        dest = self.path(sha256)
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(tmp, 0o644)
            os.replace(tmp, dest)
        except OSError as exc:  # disk full, permissions: one translation point
            raise StoreError(f"cannot store asset {sha256}: {exc}") from exc
