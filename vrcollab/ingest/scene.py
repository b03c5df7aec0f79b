"""The v2 intermediate model: shared representations, elements that place them, materials.

A :class:`Scene` is what the tiler (:mod:`vrcollab.ingest.tiling`) reads: every distinct
representation (an IFC mapped item / type geometry, a repeated STEP part) is tessellated and
prepared (crease normals) **once** in its own local frame; each :class:`Element` points at one
representation and places it with a 4x4 matrix into the world frame (Z-up, recentred, metres,
docs/tiles.md T2). Element identity (GlobalId, class, name, container, property sets) and the
geometry hash ride along for the element table.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from vrcollab.ingest import fingerprint
from vrcollab.ingest.model import Material, Model, Primitive
from vrcollab.ingest.repair import RECENTRE_DIAGONALS, RECENTRE_DISTANCE
from vrcollab.ingest.shading import crease_normals

F64 = npt.NDArray[np.float64]
Y_UP_TO_Z_UP = np.array([[1.0, 0, 0], [0, 0, -1.0], [0, 1.0, 0]])  # world = (x, -z, y)


@dataclass
class RepMesh:
    """One material's triangles of a representation, local frame, normals split at creases."""

    material: int
    vertices: F64
    normals: npt.NDArray[np.float32]
    faces: npt.NDArray[np.uint32]
    uv: npt.NDArray[np.float32] | None = None  # (n, 2) texture coordinates, when textured


@dataclass
class Rep:
    """A representation tessellated once: per-material meshes and local bounds."""

    meshes: list[RepMesh]
    lo: F64
    hi: F64

    @property
    def triangles(self) -> int:
        """Triangle count."""
        return sum(len(m.faces) for m in self.meshes)


@dataclass
class Element:
    """One element of the element table, placing representation ``rep`` with ``matrix``."""

    name: str
    rep: int
    matrix: F64
    global_id: str | None = None
    ifc_class: str | None = None
    container: str = ""
    properties: dict[str, Any] = field(default_factory=dict)
    lo: F64 = field(default_factory=lambda: np.zeros(3))
    hi: F64 = field(default_factory=lambda: np.zeros(3))
    triangles: int = 0
    geometry_hash: str = ""


@dataclass
class Scene:
    """Elements, representations and materials, in the world frame (Z-up, recentred)."""

    elements: list[Element]
    reps: list[Rep]
    materials: list[Material]
    source_format: str
    source_up_axis: str = "Z"
    offset: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def triangles(self) -> int:
        """Triangles drawn at full detail (instanced copies counted)."""
        return sum(e.triangles for e in self.elements)

    def bounds(self) -> tuple[F64, F64]:
        """World bounds over all elements."""
        if not self.elements:
            return np.zeros(3), np.zeros(3)
        return (np.min([e.lo for e in self.elements], axis=0),
                np.max([e.hi for e in self.elements], axis=0))


class MaterialTable:
    """Equal materials share one index."""

    def __init__(self) -> None:
        self.materials: list[Material] = []
        self._index: dict[tuple[Any, ...], int] = {}

    def index(self, material: Material) -> int:
        """The index of ``material`` (added when new)."""
        key = material.key()
        if key not in self._index:
            self._index[key] = len(self.materials)
            self.materials.append(material)
        return self._index[key]


def prepare_rep(parts: list[tuple[Any, ...]]) -> Rep:
    """A :class:`Rep` from (material index, local vertices, faces[, uv]) tuples (crease
    normals; texture coordinates kept when any part of a material has them)."""
    by_mat: dict[int, list[tuple[F64, npt.NDArray[np.int64], Any]]] = {}
    for mat, v, f, *rest in parts:
        if len(f):
            by_mat.setdefault(mat, []).append((v, f, rest[0] if rest else None))
    meshes: list[RepMesh] = []
    for mat, items in by_mat.items():
        base = np.cumsum([0] + [len(v) for v, _, _ in items])
        v = np.concatenate([v for v, _, _ in items])
        f = np.concatenate([f + base[k] for k, (_, f, _) in enumerate(items)])
        uv = None
        if any(t is not None for _, _, t in items):
            uv = np.concatenate([np.zeros((len(v), 2)) if t is None else np.asarray(t)
                                 for v, _, t in items]).astype(np.float64)
        used = np.unique(f)
        remap = np.full(len(v), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        v, f = v[used], remap[f]
        uv = None if uv is None else uv[used]
        v, f, uv, n = crease_normals(v, f, uv)
        meshes.append(RepMesh(mat, v, n.astype(np.float32), f.astype(np.uint32),
                              None if uv is None else np.asarray(uv, dtype=np.float32)))
    if not meshes:
        return Rep([], np.zeros(3), np.zeros(3))
    allv = np.concatenate([m.vertices for m in meshes])
    return Rep(meshes, allv.min(axis=0), allv.max(axis=0))


def transform_points(matrix: F64, points: F64) -> F64:
    """``points`` (n, 3) through a 4x4 matrix."""
    return np.asarray(points @ matrix[:3, :3].T + matrix[:3, 3], dtype=np.float64)


def place(element: Element, rep: Rep) -> None:
    """Fill the element's world bounds and triangle count from its representation."""
    place_many([element], rep)


def place_many(elements: list[Element], rep: Rep) -> None:
    """:func:`place` for elements sharing ``rep``, vectorised: world bounds of the eight
    transformed corners of the local box, and the triangle count."""
    if not rep.meshes:
        for el in elements:
            el.lo = el.hi = el.matrix[:3, 3].copy()
        return
    lo, hi = rep.lo, rep.hi
    corners = np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1])
                        for z in (lo[2], hi[2])])
    mats = np.asarray([el.matrix for el in elements], dtype=np.float64)
    pts = np.matmul(corners[None, :, :], np.transpose(mats[:, :3, :3], (0, 2, 1)))
    pts += mats[:, None, :3, 3]
    los, his = pts.min(axis=1), pts.max(axis=1)
    for k, el in enumerate(elements):
        el.lo, el.hi = los[k], his[k]
        el.triangles = rep.triangles


def element_hash(element: Element, rep: Rep, offset: tuple[float, float, float]) -> str:
    """docs/manifest.md ``geometry_hash`` of the element's world geometry (original coordinates)."""
    prims = [Primitive(transform_points(element.matrix, m.vertices), m.faces.astype(np.int64))
             for m in rep.meshes]
    return fingerprint.geometry_hash(prims, offset)


def recentre_offset(lo: F64, hi: F64) -> F64:
    """What to subtract from a far-from-origin model (docs/ingest.md Recentring), else zeros."""
    centre = (lo + hi) / 2.0
    diag = float(np.linalg.norm(hi - lo))
    dist = float(np.linalg.norm(centre))
    if dist <= RECENTRE_DISTANCE and dist <= RECENTRE_DIAGONALS * max(diag, 1e-9):
        return np.zeros(3)
    return np.asarray(np.round(centre, 3), dtype=np.float64)


def geometry_key(meshes: list[tuple[Any, ...]]) -> str:
    """Content hash of a representation's local geometry and texture coordinates (dedupes
    equal representations)."""
    h = hashlib.blake2b(digest_size=16)
    for mat, v, f, *rest in meshes:
        h.update(np.int64(mat).tobytes())
        h.update(np.ascontiguousarray(np.round(v, 6)).tobytes())
        h.update(np.ascontiguousarray(f, dtype=np.int64).tobytes())
        if rest and rest[0] is not None:
            h.update(b"uv")
            h.update(np.ascontiguousarray(np.round(np.asarray(rest[0], dtype=np.float64),
                                                   6)).tobytes())
    return h.hexdigest()


def from_model(model: Model) -> Scene:
    """A scene from a repaired v1 :class:`Model` (meshes, glTF, STEP): one element per part.

    Parts whose geometry is equal up to a translation share one representation (repeated
    STEP/glTF parts, bolts); Y-up sources are rotated into the Z-up world frame.
    """
    y_up = model.source_format != "ifc"
    rot = Y_UP_TO_Z_UP if y_up else np.eye(3)
    mats = MaterialTable()
    reps: list[Rep] = []
    rep_index: dict[str, int] = {}
    elements: list[Element] = []
    off = np.asarray(model.offset, dtype=np.float64)
    offset = tuple(float(x) for x in (rot @ off))
    for part in model.parts:
        prims = [p for p in part.primitives if len(p.faces)]
        if not prims:
            continue
        world = [rot_vertices(p.vertices, rot) for p in prims]
        lo = np.min([w.min(axis=0) for w in world], axis=0)
        local = [(mats.index(p.material), w - lo, p.faces, p.uv)
                 for p, w in zip(prims, world, strict=True)]
        key = geometry_key(local)
        if key not in rep_index:
            rep_index[key] = len(reps)
            reps.append(prepare_rep(local))
        matrix = np.eye(4)
        matrix[:3, 3] = lo
        el = Element(name=part.name, rep=rep_index[key], matrix=matrix,
                     global_id=part.element_id, ifc_class=part.ifc_class,
                     container=" / ".join(part.path), properties=part.properties)
        place(el, reps[el.rep])
        # hashed in the source frame, as version 1 did, so re-anchoring across the upgrade holds
        el.geometry_hash = fingerprint.part_hash(part, model.offset)
        elements.append(el)
    return Scene(elements, reps, mats.materials, model.source_format,
                 "Y" if y_up else "Z", (offset[0], offset[1], offset[2]))


def rot_vertices(v: F64, rot: F64) -> F64:
    """Vertices rotated by a 3x3 matrix (identity skipped)."""
    if rot is np.eye(3) or np.array_equal(rot, np.eye(3)):
        return np.asarray(v, dtype=np.float64)
    return np.asarray(v @ rot.T, dtype=np.float64)
