"""One tile's content as GLB bytes (docs/tiles.md T4): batches, instances, feature ids.

Input is already split into what the tile draws: :class:`Batch` (merged triangles of one
material, world frame, a tile-local feature id per vertex) and :class:`InstanceGroup` (one
representation mesh written once, placed by per-instance matrices). This module converts to
the +Y-up glTF frame, quantises each mesh on its own grid (16-bit, node transform dequantises;
float32 only for a single element larger than :data:`MAX_QUANT_EXTENT`), writes
EXT_mesh_features / EXT_structural_metadata / EXT_mesh_gpu_instancing / EXT_instance_features
and compresses every vertex, index and instance stream with EXT_meshopt_compression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from vrcollab.ingest.compress import (
    EXTENSION,
    QUANTIZATION,
    encode_attributes,
    encode_triangles,
    write_glb,
)
from vrcollab.ingest.gltf import _octahedral_normals, _quantize_normals
from vrcollab.ingest.model import Material

F64 = npt.NDArray[np.float64]
#: Largest mesh extent per axis quantised to 16 bits: steps of at most 1 mm.
MAX_QUANT_EXTENT = 65.535
STEPS = 65535.0
#: world (Z-up) -> glTF (+Y up): (x, y, z) -> (x, z, -y)
Z_UP_TO_GLTF = np.array([[1.0, 0, 0], [0, 0, 1.0], [0, -1.0, 0]])
ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
FLOAT, BYTE, USHORT, UINT = 5126, 5120, 5123, 5125
INSTANCING, INSTANCE_FEATURES = "EXT_mesh_gpu_instancing", "EXT_instance_features"
MESH_FEATURES, METADATA = "EXT_mesh_features", "EXT_structural_metadata"


@dataclass
class Batch:
    """Triangles of one material in world coordinates with a tile-local feature id per vertex."""

    material: int
    vertices: F64
    normals: npt.NDArray[np.float32]
    faces: npt.NDArray[np.uint32]
    features: npt.NDArray[np.uint32]
    uv: npt.NDArray[np.float32] | None = None  # (n, 2) texture coordinates, when textured


@dataclass
class InstanceGroup:
    """One representation (per-material meshes, local frame) drawn once per matrix."""

    #: (material, vertices, normals, faces, texture coordinates or None) per material
    meshes: list[tuple[int, F64, npt.NDArray[np.float32], npt.NDArray[np.uint32],
                       npt.NDArray[np.float32] | None]]
    matrices: list[F64]
    features: list[int]

    @property
    def triangles(self) -> int:
        """Triangles of one copy."""
        return sum(len(m[3]) for m in self.meshes)


@dataclass
class TileStats:
    """What the tile holds (for the tileset, the manifest and the device report)."""

    triangles: int = 0  # drawn (instances counted)
    stored_triangles: int = 0
    draw_calls: int = 0
    instances: int = 0
    instanced_meshes: int = 0
    json_bytes: int = 0
    bytes: int = 0


class _Streams:
    """Shared bufferViews: one byte stream per kind, accessors point into them."""

    # kind -> (stride, meshopt mode, filter, target)
    KINDS: ClassVar[dict[str, tuple[int, str, str | None, int | None]]] = {
        "pos16": (8, "ATTRIBUTES", None, ARRAY_BUFFER),
        "pos32": (12, "ATTRIBUTES", None, ARRAY_BUFFER),
        "normal": (4, "ATTRIBUTES", "OCTAHEDRAL", ARRAY_BUFFER),
        "uv32": (8, "ATTRIBUTES", None, ARRAY_BUFFER),
        "fid16": (4, "ATTRIBUTES", None, ARRAY_BUFFER),
        "fid32": (4, "ATTRIBUTES", None, ARRAY_BUFFER),
        "idx16": (2, "TRIANGLES", None, ELEMENT_ARRAY_BUFFER),
        "idx32": (4, "TRIANGLES", None, ELEMENT_ARRAY_BUFFER),
        "inst": (44, "ATTRIBUTES", None, None),
        "inst_t": (16, "ATTRIBUTES", None, None),  # translation + feature id only
    }

    def __init__(self) -> None:
        self.data: dict[str, list[bytes]] = {}
        self.filtered: dict[str, list[bytes]] = {}
        self.size: dict[str, int] = {}
        self.accessors: list[dict[str, Any]] = []
        self.pending: list[tuple[int, str]] = []  # accessor index -> stream kind

    def add(self, kind: str, data: bytes, ctype: int, count: int, atype: str,
            filtered: bytes | None = None, offset_in_element: int = 0, **extra: Any) -> int:
        """Append ``data`` (count elements) to the stream; returns an accessor index."""
        off = self.size.get(kind, 0)
        if data:
            self.data.setdefault(kind, []).append(data)
            if filtered is not None:
                self.filtered.setdefault(kind, []).append(filtered)
            self.size[kind] = off + len(data)
        return self.accessor(kind, off + offset_in_element, ctype, count, atype, **extra)

    def accessor(self, kind: str, offset: int, ctype: int, count: int, atype: str,
                 **extra: Any) -> int:
        """An accessor into stream ``kind`` at byte ``offset``."""
        acc: dict[str, Any] = {"componentType": ctype, "count": count, "type": atype, **extra}
        if offset:
            acc["byteOffset"] = offset
        self.accessors.append(acc)
        self.pending.append((len(self.accessors) - 1, kind))
        return len(self.accessors) - 1


def _quantise(v: F64, limit: float = MAX_QUANT_EXTENT) -> tuple[F64, F64, bool]:
    """(translation, per-axis scale, 16-bit?) of a mesh's dequantisation transform."""
    lo, hi = v.min(axis=0), v.max(axis=0)
    ext = hi - lo
    if float(ext.max()) > limit:
        return np.zeros(3), np.ones(3), False
    return lo, np.where(ext > 0, ext / STEPS, 1.0), True


def _reorder(faces: npt.NDArray[np.uint32], n: int) -> tuple[npt.NDArray[np.uint32],
                                                              npt.NDArray[np.int64]]:
    """Vertex-cache order and the vertex order of first use (better compression)."""
    import meshoptimizer as mo

    flat = np.ascontiguousarray(faces.reshape(-1), dtype=np.uint32)
    dest = np.zeros_like(flat)
    mo.optimize_vertex_cache(dest, flat, len(flat), n)
    idx = dest.astype(np.int64)
    first = np.full(n, len(idx), dtype=np.int64)
    first[idx[::-1]] = np.arange(len(idx) - 1, -1, -1)
    order = idx[first[idx] == np.arange(len(idx))]
    remap = np.full(n, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[idx].reshape(-1, 3).astype(np.uint32), order


def _primitive(st: _Streams, v: F64, n: npt.NDArray[np.float32], f: npt.NDArray[np.uint32],
               features: npt.NDArray[np.uint32] | None, feature_count: int,
               t: F64, s: F64, quant: bool,
               uv: npt.NDArray[np.float32] | None = None) -> dict[str, Any]:
    """Accessors of one primitive on the dequantisation grid (t, s); ``uv`` (when given)
    becomes TEXCOORD_0 (float32)."""
    f, order = _reorder(f, len(v))
    v, n = v[order], n[order]
    nv = len(v)
    attrs: dict[str, int] = {}
    if quant:
        q = np.zeros((nv, 4), dtype=np.uint16)
        q[:, :3] = np.clip(np.rint((v - t) / s), 0, STEPS)
        attrs["POSITION"] = st.add("pos16", q.tobytes(), USHORT, nv, "VEC3",
                                   min=[int(x) for x in q[:, :3].min(axis=0)],
                                   max=[int(x) for x in q[:, :3].max(axis=0)])
    else:
        p = v.astype(np.float32)
        attrs["POSITION"] = st.add("pos32", p.tobytes(), FLOAT, nv, "VEC3",
                                   min=[float(x) for x in p.min(axis=0)],
                                   max=[float(x) for x in p.max(axis=0)])
    nn = n.astype(np.float64)
    attrs["NORMAL"] = st.add("normal", _quantize_normals(nn), BYTE, nv, "VEC3",
                             filtered=_octahedral_normals(nn), normalized=True)
    if uv is not None:
        tex = np.ascontiguousarray(uv[order], dtype=np.float32)
        attrs["TEXCOORD_0"] = st.add("uv32", tex.tobytes(), FLOAT, nv, "VEC2")
    prim: dict[str, Any] = {"attributes": attrs}
    if features is not None:
        fid = features[order]
        if feature_count <= 65535:
            buf = np.zeros((nv, 2), dtype=np.uint16)
            buf[:, 0] = fid
            attrs["_FEATURE_ID_0"] = st.add("fid16", buf.tobytes(), USHORT, nv, "SCALAR")
        else:
            attrs["_FEATURE_ID_0"] = st.add("fid32", fid.astype(np.float32).tobytes(), FLOAT,
                                            nv, "SCALAR")
        prim["extensions"] = {MESH_FEATURES: {"featureIds": [
            {"featureCount": feature_count, "attribute": 0, "propertyTable": 0}]}}
    small = nv <= 65535
    idx = f.reshape(-1)
    if small:
        prim["indices"] = st.add("idx16", idx.astype(np.uint16).tobytes(), USHORT, idx.size,
                                 "SCALAR")
    else:
        prim["indices"] = st.add("idx32", idx.astype(np.uint32).tobytes(), UINT, idx.size,
                                 "SCALAR")
    return prim


class _VertexSet:
    """Vertices of several instanced representations on one 16-bit grid, written as one
    POSITION / NORMAL (/ TEXCOORD_0) accessor set their primitives share (each primitive's
    indices address its own range): 3 accessors fewer per representation in the JSON."""

    def __init__(self, textured: bool) -> None:
        self.textured = textured
        self.pos: list[npt.NDArray[np.uint16]] = []
        self.normals: list[F64] = []
        self.uv: list[npt.NDArray[np.float32]] = []
        self.count = 0
        self.prims: list[tuple[dict[str, Any], npt.NDArray[np.int64]]] = []
        self.attrs: dict[str, int] = {}

    def add(self, q: npt.NDArray[np.uint16], n: F64, uv: npt.NDArray[np.float32] | None,
            faces: npt.NDArray[np.uint32]) -> dict[str, Any]:
        """Append one primitive's (reordered) vertices; returns its primitive (attributes and
        indices are filled in by :meth:`flush`)."""
        prim: dict[str, Any] = {"attributes": self.attrs}
        self.prims.append((prim, faces.reshape(-1).astype(np.int64) + self.count))
        self.pos.append(q)
        self.normals.append(n)
        if uv is not None:
            self.uv.append(uv)
        self.count += len(q)
        return prim

    def flush(self, st: _Streams) -> None:
        """Write the set's streams and its primitives' indices."""
        if not self.count:
            return
        q = np.concatenate(self.pos)
        self.attrs["POSITION"] = st.add(
            "pos16", q.tobytes(), USHORT, len(q), "VEC3",
            min=[int(x) for x in q[:, :3].min(axis=0)], max=[int(x) for x in q[:, :3].max(axis=0)])
        nn = np.concatenate(self.normals)
        self.attrs["NORMAL"] = st.add("normal", _quantize_normals(nn), BYTE, len(nn), "VEC3",
                                      filtered=_octahedral_normals(nn), normalized=True)
        if self.textured:
            tex = np.ascontiguousarray(np.concatenate(self.uv), dtype=np.float32)
            self.attrs["TEXCOORD_0"] = st.add("uv32", tex.tobytes(), FLOAT, len(tex), "VEC2")
        small = self.count <= 65536
        for prim, idx in self.prims:
            if small:
                prim["indices"] = st.add("idx16", idx.astype(np.uint16).tobytes(), USHORT,
                                         idx.size, "SCALAR")
            else:
                prim["indices"] = st.add("idx32", idx.astype(np.uint32).tobytes(), UINT,
                                         idx.size, "SCALAR")


def _grid_step(ext: F64) -> F64:
    """One 16-bit grid step per axis for meshes up to ``ext`` wide, rounded up to 3
    significant digits (short JSON; at most 1% coarser, still within the 1 mm rule)."""
    out = []
    for x in np.where(ext > 0, ext / STEPS, 1.0):
        e = int(np.floor(np.log10(x))) - 2
        out.append(float(f"{int(np.ceil(x / 10.0 ** e - 1e-9))}e{e}"))
    return np.asarray(out, dtype=np.float64)


def decompose(matrix: F64) -> tuple[F64, F64, F64] | None:
    """(translation, rotation 3x3, scale) of an affine matrix, or None when it has shear."""
    t, r, sc, ok = decompose_many(matrix[None])
    if not ok[0]:
        return None
    return t[0], r[0], sc[0]


def decompose_many(matrices: F64) -> tuple[F64, F64, F64, npt.NDArray[np.bool_]]:
    """:func:`decompose` of (n, 4, 4) matrices at once: translations (n, 3), rotations
    (n, 3, 3), scales (n, 3) and which have no shear (a mirror is a negative x scale)."""
    m = np.asarray(matrices, dtype=np.float64)
    a = m[:, :3, :3]
    s = np.linalg.norm(a, axis=1)  # column norms
    ok = np.all(s > 1e-12, axis=1)
    s = np.where(ok[:, None], s, 1.0)
    r = a / s[:, None, :]
    flip = np.linalg.det(r) < 0
    s[flip, 0] = -s[flip, 0]
    r[flip, :, 0] = -r[flip, :, 0]
    gram = np.matmul(np.transpose(r, (0, 2, 1)), r)
    ok &= np.all(np.abs(gram - np.eye(3)) <= 1e-6 + 1e-5 * np.eye(3), axis=(1, 2))  # np.allclose
    return m[:, :3, 3].copy(), r, s, ok


def quats(r: F64) -> F64:
    """Unit quaternions (x, y, z, w) of (n, 3, 3) proper rotation matrices."""
    r = np.asarray(r, dtype=np.float64)
    q = np.zeros((len(r), 4))
    d0, d1, d2 = r[:, 0, 0], r[:, 1, 1], r[:, 2, 2]
    tr = d0 + d1 + d2
    c0 = tr > 0
    c1 = ~c0 & (d0 > d1) & (d0 > d2)
    c2 = ~c0 & ~c1 & (d1 > d2)
    c3 = ~c0 & ~c1 & ~c2
    x = r
    if c0.any():
        s = 2.0 * np.sqrt(tr[c0] + 1.0)
        m = x[c0]
        q[c0] = np.stack([(m[:, 2, 1] - m[:, 1, 2]) / s, (m[:, 0, 2] - m[:, 2, 0]) / s,
                          (m[:, 1, 0] - m[:, 0, 1]) / s, s / 4], axis=1)
    if c1.any():
        m = x[c1]
        s = 2.0 * np.sqrt(1.0 + m[:, 0, 0] - m[:, 1, 1] - m[:, 2, 2])
        q[c1] = np.stack([s / 4, (m[:, 0, 1] + m[:, 1, 0]) / s, (m[:, 0, 2] + m[:, 2, 0]) / s,
                          (m[:, 2, 1] - m[:, 1, 2]) / s], axis=1)
    if c2.any():
        m = x[c2]
        s = 2.0 * np.sqrt(1.0 + m[:, 1, 1] - m[:, 0, 0] - m[:, 2, 2])
        q[c2] = np.stack([(m[:, 0, 1] + m[:, 1, 0]) / s, s / 4, (m[:, 1, 2] + m[:, 2, 1]) / s,
                          (m[:, 0, 2] - m[:, 2, 0]) / s], axis=1)
    if c3.any():
        m = x[c3]
        s = 2.0 * np.sqrt(1.0 + m[:, 2, 2] - m[:, 0, 0] - m[:, 1, 1])
        q[c3] = np.stack([(m[:, 0, 2] + m[:, 2, 0]) / s, (m[:, 1, 2] + m[:, 2, 1]) / s, s / 4,
                          (m[:, 1, 0] - m[:, 0, 1]) / s], axis=1)
    return np.asarray(q / np.linalg.norm(q, axis=1, keepdims=True), dtype=np.float64)


def _shared_linear(q: F64, s: F64) -> bool:
    """Whether all instances share one rotation and scale (float32-exact enough)."""
    return bool(np.abs(q - q[0]).max() <= 1e-7 and np.abs(s - s[0]).max() <= 1e-7 * np.abs(
        s[0]).max())


def _quat_matrix(q: F64) -> F64:
    """3x3 rotation of a unit quaternion (x, y, z, w)."""
    x, y, z, w = (float(c) for c in q)
    return np.array([[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                     [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                     [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]])


def build_tile(batches: list[Batch], groups: list[InstanceGroup], elements: list[int],
               materials: list[Material], *, compress: bool = True,
               quant_limit: float = MAX_QUANT_EXTENT) -> tuple[bytes, TileStats]:
    """GLB bytes of one tile; ``elements[i]`` is the global element index of feature id i.
    ``quant_limit``: largest batch extent quantised to 16 bits (coarse tiles allow more)."""
    st = _Streams()
    stats = TileStats()
    nodes: list[dict[str, Any]] = []
    meshes: list[dict[str, Any]] = []
    mat_map: dict[int, int] = {}
    nfeat = len(elements)

    def material(i: int) -> int:
        if i not in mat_map:
            mat_map[i] = len(mat_map)
        return mat_map[i]

    for b in batches:
        v = b.vertices @ Z_UP_TO_GLTF.T
        n = (b.normals.astype(np.float64) @ Z_UP_TO_GLTF.T).astype(np.float32)
        t, s, quant = _quantise(v, quant_limit)
        textured = materials[b.material].image is not None
        prim = _primitive(st, v, n, b.faces, b.features, nfeat, t, s, quant,
                          b.uv if textured else None)
        prim["material"] = material(b.material)
        meshes.append({"primitives": [prim]})
        node: dict[str, Any] = {"mesh": len(meshes) - 1}
        if quant:
            node["translation"] = [_short(x) for x in t]
            node["scale"] = [_short(x, 8) for x in s]
        nodes.append(node)
        stats.triangles += len(b.faces)
        stats.stored_triangles += len(b.faces)
        stats.draw_calls += 1
    cw = np.eye(4)
    cw[:3, :3] = Z_UP_TO_GLTF
    # the representations are stored in the glTF frame too (v' = C v), so an axis-aligned
    # placement has no rotation: the instance matrix becomes C M C^T
    gmeshes = [[(mat, v @ Z_UP_TO_GLTF.T,
                 (n.astype(np.float64) @ Z_UP_TO_GLTF.T).astype(np.float32), f, uv)
                for mat, v, n, f, uv in g.meshes] for g in groups]
    boxes = [(np.min([m[1].min(axis=0) for m in gm], axis=0),
              np.max([m[1].max(axis=0) for m in gm], axis=0)) for gm in gmeshes]
    quantised = [float((hi - lo).max()) <= MAX_QUANT_EXTENT for lo, hi in boxes]
    # one grid for every 16-bit representation of the tile (the widest sets the step)
    step = _grid_step(np.max([hi - lo for (lo, hi), qz in zip(boxes, quantised, strict=True)
                              if qz], axis=0)) if any(quantised) else np.ones(3)
    sets: dict[bool, _VertexSet] = {}
    shared: list[int] = []  # nodes drawn under the node carrying the grid step
    for g, gm, (lo, _hi), quant in zip(groups, gmeshes, boxes, quantised, strict=True):
        t, s = (lo, step) if quant else (np.zeros(3), np.ones(3))
        prims = []
        for mat, v, n, f, uv in gm:
            textured = materials[mat].image is not None
            if not quant:
                prim = _primitive(st, v, n, f, None, nfeat, t, s, False,
                                  uv if textured else None)
            else:
                vs = sets.get(textured)
                if vs is None or vs.count + len(v) > 65536:
                    if vs is not None:
                        vs.flush(st)
                    vs = sets[textured] = _VertexSet(textured)
                faces, order = _reorder(f, len(v))
                qv = np.zeros((len(v), 4), dtype=np.uint16)
                qv[:, :3] = np.clip(np.rint((v[order] - t) / s), 0, STEPS)
                prim = vs.add(qv, n[order].astype(np.float64),
                              uv[order] if textured and uv is not None else None, faces)
            prim["material"] = material(mat)
            prims.append(prim)
        meshes.append({"primitives": prims})
        dq = np.eye(4)
        dq[:3, :3] = np.diag(s)
        dq[:3, 3] = t
        ni = len(g.matrices)
        tr, rot, sc, ok = decompose_many(cw @ np.asarray(g.matrices) @ cw.T @ dq)
        if not ok.all():  # pragma: no cover - the tiler bakes sheared placements
            raise ValueError("instance matrix has shear")
        q = quats(rot)
        node = {"mesh": len(meshes) - 1}
        fids = np.asarray(g.features, dtype=np.float32)
        if _shared_linear(q, sc):
            # one rotation and scale for all: on the node, instances carry translations only
            # (world = node R S (instance t + v)), so t = (R S)^-1 of the placed translation
            unrotated = np.abs(q[0] - (0.0, 0.0, 0.0, 1.0)).max() <= 1e-7
            on_grid = quant and unrotated and np.abs(sc[0] - step).max() <= 1e-7 * step.max()
            lin = np.diag(step) if on_grid else _quat_matrix(q[0]) * sc[0]
            inst = np.zeros((ni, 4), dtype=np.float32)
            inst[:, 0:3] = np.linalg.solve(lin, tr.T).T
            inst[:, 3] = fids
            a_t = st.add("inst_t", inst.tobytes(), FLOAT, ni, "VEC3")
            base = st.accessors[a_t].get("byteOffset", 0)
            attrs = {"TRANSLATION": a_t,
                     "_FEATURE_ID_0": st.accessor("inst_t", base + 12, FLOAT, ni, "SCALAR")}
            if not on_grid:
                if not unrotated:
                    node["rotation"] = [_short(x, 8) for x in q[0]]
                node["scale"] = [_short(x, 8) for x in sc[0]]
        else:
            on_grid = False
            inst = np.zeros((ni, 11), dtype=np.float32)
            inst[:, 0:3], inst[:, 3:7], inst[:, 7:10] = tr, q, sc
            inst[:, 10] = fids
            a_t = st.add("inst", inst.tobytes(), FLOAT, ni, "VEC3")
            base = st.accessors[a_t].get("byteOffset", 0)
            attrs = {"TRANSLATION": a_t,
                     "ROTATION": st.accessor("inst", base + 12, FLOAT, ni, "VEC4"),
                     "SCALE": st.accessor("inst", base + 28, FLOAT, ni, "VEC3"),
                     "_FEATURE_ID_0": st.accessor("inst", base + 40, FLOAT, ni, "SCALAR")}
        node["extensions"] = {
            INSTANCING: {"attributes": attrs},
            INSTANCE_FEATURES: {"featureIds": [
                {"featureCount": nfeat, "attribute": 0, "propertyTable": 0}]}}
        if on_grid:
            shared.append(len(nodes))
        nodes.append(node)
        stats.triangles += g.triangles * ni
        stats.stored_triangles += g.triangles
        stats.draw_calls += len(prims)
        stats.instances += ni
        stats.instanced_meshes += 1
    for vs in sets.values():
        vs.flush(st)
    roots = [k for k in range(len(nodes)) if k not in set(shared)]
    if shared:  # the shared grid step (the dequantisation scale) once, on a parent node
        roots.append(len(nodes))
        nodes.append({"scale": [_short(x, 8) for x in step], "children": shared})
    gl_materials: list[dict[str, Any]] = [{}] * len(mat_map)
    images: list[tuple[bytes, str]] = []
    for src, dst in mat_map.items():
        gl_materials[dst] = _material(materials[src])
        src_mat = materials[src]
        if src_mat.image is not None:
            gl_materials[dst].setdefault("pbrMetallicRoughness", {})["baseColorTexture"] = {
                "index": len(images)}
            images.append((src_mat.image, src_mat.image_mime or "image/png"))
    used = [QUANTIZATION, MESH_FEATURES, METADATA]
    required = [QUANTIZATION]
    if groups:
        used += [INSTANCING, INSTANCE_FEATURES]
        required.append(INSTANCING)
    out: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "vrcollab"},
        "scene": 0, "scenes": [{"nodes": roots}],
        "nodes": nodes, "meshes": meshes, "materials": gl_materials,
        "accessors": st.accessors,
    }
    if compress:
        used.append(EXTENSION)
        required.append(EXTENSION)
    out["extensionsUsed"] = used
    out["extensionsRequired"] = required
    table = np.asarray(elements, dtype="<u4").tobytes()
    data = _assemble(out, st, table, compress, images)
    stats.bytes = len(data)
    stats.json_bytes = json_chunk_bytes(data)
    return data, stats


def _short(x: float, digits: int = 0) -> float:
    """A float for the JSON: micrometres (translations), or ``digits`` significant digits
    (the dequantisation scale; float32 keeps about 7, so 8 loses nothing)."""
    if digits:
        return float(f"{float(x):.{digits}g}")
    return round(float(x), 6)


def _factor(x: float) -> float | int:
    """A material factor for the JSON: 3 decimals, integral values without ``.0``."""
    r = round(float(x), 3)
    return int(r) if r.is_integer() else r


def _material(m: Material) -> dict[str, Any]:
    pbr: dict[str, Any] = {}
    if any(abs(c - 1.0) > 5e-4 for c in m.color):  # glTF default: white, opaque
        pbr["baseColorFactor"] = [_factor(c) for c in m.color]
    if abs(m.metallic - 1.0) > 1e-3:  # glTF defaults: metallic 1, roughness 1
        pbr["metallicFactor"] = _factor(m.metallic)
    if abs(m.roughness - 1.0) > 1e-3:
        pbr["roughnessFactor"] = _factor(m.roughness)
    out: dict[str, Any] = {"pbrMetallicRoughness": pbr} if pbr else {}
    if m.double_sided:
        out["doubleSided"] = True
    if m.color[3] < 0.999:
        out["alphaMode"] = "BLEND"
    return out


def _assemble(doc: dict[str, Any], st: _Streams, table: bytes, compress: bool,
              images: list[tuple[bytes, str]] | None = None) -> bytes:
    blob = bytearray()
    fallback = 0
    views: list[dict[str, Any]] = []

    def put(data: bytes, align: int = 8) -> int:
        blob.extend(b"\x00" * (-len(blob) % align))
        off = len(blob)
        blob.extend(data)
        return off

    # the property table first (EXT_structural_metadata wants 8-byte aligned, plain views)
    views.append({"buffer": 0, "byteLength": len(table)})
    put(table)
    doc["extensions"] = {METADATA: {
        "schema": {"id": "vrcollab", "classes": {"element": {"properties": {
            "element": {"type": "SCALAR", "componentType": "UINT32"}}}}},
        "propertyTables": [{"class": "element", "count": len(table) // 4,
                            "properties": {"element": {"values": 0}}}]}}
    if images:  # base colour textures: encoded PNG/JPEG in plain bufferViews
        doc["images"], doc["textures"] = [], []
        doc["samplers"] = [{"magFilter": 9729, "minFilter": 9987}]
        for k, (data, mime) in enumerate(images):
            views.append({"buffer": 0, "byteOffset": put(data), "byteLength": len(data)})
            doc["images"].append({"bufferView": len(views) - 1, "mimeType": mime})
            doc["textures"].append({"sampler": 0, "source": k})
    index: dict[str, int] = {}
    for kind, chunks in st.data.items():
        stride, mode, filt, target = _Streams.KINDS[kind]
        raw = b"".join(chunks)
        count = len(raw) // stride
        gv: dict[str, Any]
        if compress:
            if mode == "ATTRIBUTES":
                src = b"".join(st.filtered[kind]) if filt else raw
                enc = encode_attributes(src, stride, count)
            else:
                idx = np.frombuffer(raw, dtype=np.uint16 if stride == 2 else np.uint32)
                enc = encode_triangles(idx, int(idx.max()) + 1 if idx.size else 0)
            off = put(enc, 4)
            fallback += -fallback % 8
            ext: dict[str, Any] = {"buffer": 0, "byteOffset": off, "byteLength": len(enc),
                                   "byteStride": stride, "mode": mode, "count": count}
            if filt:
                ext["filter"] = filt
            gv = {"buffer": 1, "byteOffset": fallback, "byteLength": len(raw),
                  "extensions": {EXTENSION: ext}}
            fallback += len(raw)
        else:
            gv = {"buffer": 0, "byteOffset": put(raw), "byteLength": len(raw)}
        if mode == "ATTRIBUTES":
            gv["byteStride"] = stride
        if target is not None:
            gv["target"] = target
        index[kind] = len(views)
        views.append(gv)
    for acc, kind in st.pending:
        st.accessors[acc]["bufferView"] = index[kind]
    blob.extend(b"\x00" * (-len(blob) % 8))
    doc["bufferViews"] = views
    doc["buffers"] = [{"byteLength": len(blob)}]
    if compress:
        doc["buffers"].append({"byteLength": fallback + (-fallback % 8),
                               "extensions": {EXTENSION: {"fallback": True}}})
    return write_glb(doc, bytes(blob))


def json_chunk_bytes(data: bytes) -> int:
    """Length of a GLB's JSON chunk."""
    return int.from_bytes(data[12:16], "little")


def tile_json(data: bytes) -> dict[str, Any]:
    """A tile's glTF JSON (for tests and tools)."""
    n = json_chunk_bytes(data)
    return dict(json.loads(data[20:20 + n]))
