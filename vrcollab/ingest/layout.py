"""Which files make up a converted version (v1 GLB ladder or v2 tiles), without heavy imports.

The job runner stores exactly these files; the server serves them relative to the manifest.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any

from vrcollab.model_manifest import manifest_version

TILE_DIRS = ("tiles", "props")


def version_of(manifest: dict[str, Any]) -> int:
    """The manifest's layout version (1 when absent; :mod:`vrcollab.model_manifest`)."""
    return manifest_version(manifest)


def safe_relative(name: str, manifest: dict[str, Any]) -> bool:
    """Whether ``name`` is a plain relative path allowed by the manifest's layout: a top-level
    file (v1), or also ``tiles/<file>`` / ``props/<file>`` (v2)."""
    if not name or "\\" in name or name.startswith("/"):
        return False
    parts = PurePosixPath(name).parts
    if any(p in ("", ".", "..") or p.startswith(".") for p in parts):
        return False
    if len(parts) == 1:
        return True
    return version_of(manifest) >= 2 and len(parts) == 2 and parts[0] in TILE_DIRS


def output_files(outdir: Path, manifest: dict[str, Any]) -> list[str]:
    """Every file of a converted version, relative to ``outdir``, sorted."""
    if version_of(manifest) < 2:
        return sorted({"manifest.json"} | {str(lv["file"]) for lv in manifest.get("levels", [])})
    ent = manifest.get("elements") or {}
    names = {"manifest.json", str(manifest.get("tileset", "tileset.json")),
             str(ent.get("file", "elements.json"))}
    if ent.get("bounds") or "encoding" not in ent:  # table version 1: float32 bounds file
        names.add(str(ent.get("bounds", "elements.bin")))
    if ent.get("hashes"):
        names.add(str(ent["hashes"]))
    for sub in TILE_DIRS:
        if (outdir / sub).is_dir():
            names |= {f"{sub}/{p.name}" for p in (outdir / sub).iterdir() if p.is_file()}
    return sorted(names)
