"""Shared helpers for the ingest tests: paths, the glTF validator, GLB readers."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import trimesh

from vrcollab.ingest.compress import decode_glb, read_glb

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR_SCRIPT = Path(__file__).with_name("validate_glb.mjs")
VALIDATOR_PACKAGE = ROOT / "clients" / "web" / "node_modules" / "gltf-validator"


def validator_available() -> bool:
    """node and the gltf-validator npm package are installed."""
    return shutil.which("node") is not None and VALIDATOR_PACKAGE.is_dir()


def validate(paths: list[Path]) -> list[dict[str, Any]]:
    """Khronos glTF-Validator reports for ``paths`` (one node process for all)."""
    out = subprocess.run(
        ["node", str(VALIDATOR_SCRIPT), *map(str, paths)],
        capture_output=True, text=True, timeout=300, check=True,
    )
    return [json.loads(line) for line in out.stdout.splitlines() if line.strip()]


def errors(report: dict[str, Any]) -> list[str]:
    """The error messages of a validator report."""
    return [f"{m['code']} {m.get('pointer', '')}: {m['message']}"
            for m in report["issues"]["messages"] if m["severity"] == 0]


def infos(report: dict[str, Any]) -> list[str]:
    """Info-level codes of a validator report."""
    return [m["code"] for m in report["issues"]["messages"] if m["severity"] >= 2]


def dequantized_glb(data: bytes) -> bytes:
    """A GLB without EXT_meshopt_compression (decoded with meshoptimizer)."""
    return decode_glb(data)


def read_parts(data: bytes) -> dict[str, tuple[np.ndarray, np.ndarray, dict[str, Any]]]:
    """Part node name -> (world vertices, faces, extras), loaded back with trimesh.

    trimesh splits a multi-primitive mesh into child nodes; those are merged into their part.
    """
    plain = decode_glb(data)
    doc, _ = read_glb(plain)
    extras = {n.get("name"): n.get("extras", {}) for n in doc["nodes"] if "mesh" in n}
    scene = trimesh.load(trimesh.util.wrap_as_stream(plain), file_type="glb", force="scene",
                         process=False)
    parents = scene.graph.transforms.parents
    verts: dict[str, list[np.ndarray]] = {}
    faces: dict[str, list[np.ndarray]] = {}
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry[geom_name]
        owner = str(node)
        while owner not in extras and owner in parents:
            owner = str(parents[owner])
        v = trimesh.transformations.transform_points(
            np.asarray(geom.vertices, dtype=np.float64), transform)
        base = sum(len(x) for x in verts.get(owner, []))
        verts.setdefault(owner, []).append(v)
        faces.setdefault(owner, []).append(np.asarray(geom.faces) + base)
    return {name: (np.concatenate(verts[name]), np.concatenate(faces[name]),
                   extras.get(name, {})) for name in verts}


def flatten_parts(
    parts: dict[str, tuple[np.ndarray, np.ndarray, dict[str, Any]]],
) -> tuple[np.ndarray, np.ndarray]:
    """All parts as one (vertices, faces) pair."""
    vs, fs, base = [], [], 0
    for v, f, _ in parts.values():
        vs.append(v)
        fs.append(f + base)
        base += len(v)
    return np.concatenate(vs), np.concatenate(fs)
