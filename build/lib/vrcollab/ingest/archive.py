"""Safe extraction of model archives (.zip): size, ratio, member-count and path checks.

A zip bomb is refused before a single byte is inflated when the declared sizes are over the
limits, and again while inflating when the declared sizes lie.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path, PurePosixPath

from vrcollab.errors import CorruptFileError, LimitExceededError

MAX_MEMBERS = 10_000
_CHUNK = 1 << 20


def _safe_name(name: str) -> PurePosixPath | None:
    """The member's relative path, or ``None`` for directories and unsafe names."""
    if name.endswith("/") or "\\" in name:
        return None
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    if path.parts[0] == "__MACOSX":
        return None
    return path


def extract_zip(
    archive: Path, dest: Path, *, max_bytes: int, max_ratio: float
) -> list[Path]:
    """Extract ``archive`` into ``dest`` and return the extracted files.

    Raises :class:`LimitExceededError` when the total uncompressed size exceeds ``max_bytes``
    or the expansion ratio exceeds ``max_ratio``, and :class:`CorruptFileError` for a broken
    archive.
    """
    compressed = max(archive.stat().st_size, 1)
    budget = min(max_bytes, int(compressed * max_ratio) + _CHUNK)
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise CorruptFileError(f"{archive.name}: not a readable zip archive ({exc})") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_MEMBERS:
            raise LimitExceededError(
                f"{archive.name}: archive has {len(infos)} members (limit {MAX_MEMBERS})"
            )
        declared = sum(i.file_size for i in infos)
        if declared > budget:
            raise LimitExceededError(
                f"{archive.name}: archive expands to {declared} bytes "
                f"(limit {budget}: ratio {max_ratio:g}, at most {max_bytes} bytes)"
            )
        out: list[Path] = []
        written = 0
        for info in infos:
            rel = _safe_name(info.filename)
            if rel is None:
                continue
            target = dest.joinpath(*rel.parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(_CHUNK):
                        written += len(chunk)
                        if written > budget:
                            raise LimitExceededError(
                                f"{archive.name}: archive expands beyond {budget} bytes "
                                "(declared sizes are wrong)"
                            )
                        dst.write(chunk)
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError) as exc:
                raise CorruptFileError(f"{archive.name}: damaged member {rel} ({exc})") from exc
            except NotImplementedError as exc:
                raise CorruptFileError(f"{archive.name}: unsupported compression ({exc})") from exc
            out.append(target)
        return out
