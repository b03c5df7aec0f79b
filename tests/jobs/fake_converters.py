"""Converters for runner tests, imported by name inside the spawned job process."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vrcollab.errors import CorruptFileError


def boxes(
    source: Path, outdir: Path, options: dict[str, Any], progress: Callable[..., None]
) -> None:
    """A real GLB with one node per line of the source: ``name size`` (a box per element)."""
    import trimesh
    scene = trimesh.Scene()
    parts = []
    for i, line in enumerate(source.read_text().split()):
        name, _, size = line.partition("=")
        mesh = trimesh.creation.box(extents=[float(size or 1)] * 3)
        mesh.apply_translation([3.0 * i, 0, 0])
        scene.add_geometry(mesh, node_name=name, geom_name=name)
        parts.append({"node": name, "element_id": f"GID-{name}", "ifc_class": None,
                      "triangles": len(mesh.faces)})
        progress("load", (i + 1) / 10)
    (outdir / "full.glb").write_bytes(scene.export(file_type="glb"))
    manifest = {"format": "vrcollab-model", "version": 1, "offset": [0, 0, 0],
                "levels": [{"name": "full", "file": "full.glb"}], "parts": parts}
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    progress("write", 0.9)


def bad_input(source: Path, outdir: Path, options: dict[str, Any], progress: Any) -> None:
    """Fails the way the ingest pipeline does on a corrupt file."""
    raise CorruptFileError(f"{source.name}: not a mesh (test)")


def hang(source: Path, outdir: Path, options: dict[str, Any], progress: Any) -> None:
    """Never finishes (also spawns a child that would outlive a careless kill)."""
    pid = os.fork()
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    if "pid_file" in options:
        Path(options["pid_file"]).write_text(f"{os.getpid()} {pid}")
    progress("decimate", 0.5)
    time.sleep(600)


def crash(source: Path, outdir: Path, options: dict[str, Any], progress: Any) -> None:
    """Dies without a word, like a segfault or an OOM kill."""
    progress("load", 0.2)
    os._exit(-11 & 0xFF)


def python_error(source: Path, outdir: Path, options: dict[str, Any], progress: Any) -> None:
    """An unexpected exception inside the converter."""
    raise ZeroDivisionError("division by zero")


def obj_parts(
    source: Path, outdir: Path, options: dict[str, Any], progress: Callable[..., None]
) -> None:
    """A real GLB from an OBJ with one ``o <name>`` object per element (element id GID-<name>)."""
    import trimesh
    verts: list[list[float]] = []
    faces: dict[str, list[list[int]]] = {}
    name = "default"
    for line in source.read_text().splitlines():
        head, _, rest = line.partition(" ")
        if head == "o":
            name = rest.strip()
        elif head == "v":
            verts.append([float(x) for x in rest.split()[:3]])
        elif head == "f":
            faces.setdefault(name, []).append([int(x.split("/")[0]) - 1 for x in rest.split()])
    out = trimesh.Scene()
    parts = []
    for name, tris in faces.items():
        geom = trimesh.Trimesh(vertices=verts, faces=tris, process=False)
        geom.remove_unreferenced_vertices()
        out.add_geometry(geom, node_name=name, geom_name=name)
        parts.append({"node": name, "element_id": f"GID-{name}", "ifc_class": "IfcWall",
                      "triangles": len(geom.faces)})
    progress("write", 0.5)
    (outdir / "full.glb").write_bytes(out.export(file_type="glb"))
    manifest = {"format": "vrcollab-model", "version": 1, "offset": [0, 0, 0],
                "source": {"name": source.name},
                "levels": [{"name": "full", "file": "full.glb"},
                           {"name": "phone", "file": "full.glb"}], "parts": parts}
    (outdir / "manifest.json").write_text(json.dumps(manifest))


def slow_obj_parts(
    source: Path, outdir: Path, options: dict[str, Any], progress: Callable[..., None]
) -> None:
    """:func:`obj_parts` after 4 s of "work" (long enough to kill the server meanwhile)."""
    for i in range(8):
        progress("load", i / 8)
        time.sleep(0.5)
    obj_parts(source, outdir, options, progress)
