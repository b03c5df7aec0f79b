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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from vrcollab.ingest.compress import EXTENSION, QUANTIZATION, encode_attributes, \
    encode_triangles, write_glb
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


@dataclass
class InstanceGroup:
    """One representation mesh (local frame) drawn once per matrix (local -> world)."""

    material: int
    vertices: F64
    normals: npt.NDArray[np.float32]
    faces: npt.NDArray[np.uint32]
    matrices: list[F64]
    features: list[int]


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


@dataclass
class _View:
    data: bytes
    kind: str  # "attr" | "index" | "plain"
    stride: int = 0
    count: int = 0
    target: int | None = None
    filtered: bytes | None = None


@dataclass
class _Doc:
    views: list[_View] = field(default_factory=list)
    accessors: list[dict[str, Any]] = field(default_factory=list)

    def view(self, v: _View) -> int:
        self.views.append(v)
        return len(self.views) - 1

    def accessor(self, view: int, ctype: int, count: int, atype: str, **extra: Any) -> int:
        self.accessors.append({"bufferView": view, "componentType": ctype, "count": count,
                               "type": atype, **extra})
        return len(self.accessors) - 1


def _quantise(v: F64) -> tuple[bytes, list[float], list[float], list[int], list[int], bool]:
    """Positions as uint16 (stride 8) with translation/scale, or float32 when too large."""
    lo, hi = v.min(axis=0), v.max(axis=0)
    ext = hi - lo
    if float(ext.max()) > MAX_QUANT_EXTENT:
        f = v.astype(np.float32)
        return (f.tobytes(), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0],
                [float(x) for x in f.min(axis=0)], [float(x) for x in f.max(axis=0)], False)
    scale = np.where(ext > 0, ext / STEPS, 1.0)
    q = np.zeros((len(v), 4), dtype=np.uint16)
    q[:, :3] = np.clip(np.rint((v - lo) / scale), 0, STEPS)
    qmin = [int(x) for x in q[:, :3].min(axis=0)]
    qmax = [int(x) for x in q[:, :3].max(axis=0)]
    return (q.tobytes(), [float(x) for x in lo], [float(x) for x in scale], qmin, qmax, True)


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


def _primitive(doc: _Doc, v: F64, n: npt.NDArray[np.float32], f: npt.NDArray[np.uint32],
               features: npt.NDArray[np.uint32] | None, feature_count: int
               ) -> tuple[dict[str, Any], list[float], list[float]]:
    """Accessors for one primitive; returns (primitive, node translation, node scale)."""
    f, order = _reorder(f, len(v))
    v, n = v[order], n[order]
    nv = len(v)
    data, t, s, qmin, qmax, quant = _quantise(v)
    pos = doc.view(_View(data, "attr", 8 if quant else 12, nv, ARRAY_BUFFER))
    attrs: dict[str, int] = {"POSITION": doc.accessor(pos, USHORT if quant else FLOAT, nv, "VEC3",
                                                      min=qmin, max=qmax)}
    nn = n.astype(np.float64)
    nview = doc.view(_View(_quantize_normals(nn), "attr", 4, nv, ARRAY_BUFFER,
                           filtered=_octahedral_normals(nn)))
    attrs["NORMAL"] = doc.accessor(nview, BYTE, nv, "VEC3", normalized=True)
    prim: dict[str, Any] = {"attributes": attrs, "mode": 4}
    if features is not None:
        fid = features[order]
        if feature_count <= 65535:
            buf = np.zeros((nv, 2), dtype=np.uint16)
            buf[:, 0] = fid
            fview = doc.view(_View(buf.tobytes(), "attr", 4, nv, ARRAY_BUFFER))
            acc = doc.accessor(fview, USHORT, nv, "SCALAR")
        else:
            fview = doc.view(_View(fid.astype(np.float32).tobytes(), "attr", 4, nv, ARRAY_BUFFER))
            acc = doc.accessor(fview, FLOAT, nv, "SCALAR")
        attrs["_FEATURE_ID_0"] = acc
        prim["extensions"] = {MESH_FEATURES: {"featureIds": [
            {"featureCount": feature_count, "attribute": 0, "propertyTable": 0}]}}
    small = nv <= 65535
    idx = f.astype(np.uint16 if small else np.uint32)
    iview = doc.view(_View(idx.tobytes(), "index", 2 if small else 4, idx.size,
                           ELEMENT_ARRAY_BUFFER))
    prim["indices"] = doc.accessor(iview, USHORT if small else UINT, idx.size, "SCALAR")
    return prim, t, s


def _quat(r: F64) -> list[float]:
    """Unit quaternion (x, y, z, w) of a proper rotation matrix."""
    m = r
    tr = m[0, 0] + m[1, 1] + m[2, 2]
    if tr > 0:
        s = 2.0 * np.sqrt(tr + 1.0)
        q = [(m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s, s / 4]
    elif m[0, 0] > m[1, 1] and m[0, 0] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[0, 0] - m[1, 1] - m[2, 2])
        q = [s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s, (m[2, 1] - m[1, 2]) / s]
    elif m[1, 1] > m[2, 2]:
        s = 2.0 * np.sqrt(1.0 + m[1, 1] - m[0, 0] - m[2, 2])
        q = [(m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s, (m[0, 2] - m[2, 0]) / s]
    else:
        s = 2.0 * np.sqrt(1.0 + m[2, 2] - m[0, 0] - m[1, 1])
        q = [(m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4, (m[1, 0] - m[0, 1]) / s]
    arr = np.asarray(q, dtype=np.float64)
    arr /= np.linalg.norm(arr)
    return [float(x) for x in arr]


def decompose(matrix: F64) -> tuple[F64, F64, F64] | None:
    """(translation, rotation 3x3, scale) of an affine matrix, or None when it has shear."""
    a = matrix[:3, :3]
    s = np.linalg.norm(a, axis=0)
    if np.any(s <= 1e-12):
        return None
    r = a / s
    if np.linalg.det(r) < 0:
        s = s.copy()
        s[0] = -s[0]
        r = r.copy()
        r[:, 0] = -r[:, 0]
    if not np.allclose(r.T @ r, np.eye(3), atol=1e-6):
        return None
    return matrix[:3, 3].copy(), r, s


def build_tile(batches: list[Batch], groups: list[InstanceGroup], elements: list[int],
               materials: list[Material], *, compress: bool = True) -> tuple[bytes, TileStats]:
    """GLB bytes of one tile; ``elements[i]`` is the global element index of feature id i."""
    doc = _Doc()
    stats = TileStats()
    nodes: list[dict[str, Any]] = []
    meshes: list[dict[str, Any]] = []
    mat_map: dict[int, int] = {}
    nfeat = len(elements)

    def material(i: int) -> int:
        if i not in mat_map:
            mat_map[i] = len(mat_map)
        return mat_map[i]

    table = doc.view(_View(np.asarray(elements, dtype="<u4").tobytes(), "plain"))
    for b in batches:
        v = b.vertices @ Z_UP_TO_GLTF.T
        n = (b.normals.astype(np.float64) @ Z_UP_TO_GLTF.T)
        prim, t, s = _primitive(doc, v, n.astype(np.float32), b.faces, b.features, nfeat)
        prim["material"] = material(b.material)
        meshes.append({"primitives": [prim]})
        node: dict[str, Any] = {"mesh": len(meshes) - 1}
        if s != [1.0, 1.0, 1.0] or t != [0.0, 0.0, 0.0]:
            node["translation"], node["scale"] = t, s
        nodes.append(node)
        stats.triangles += len(b.faces)
        stats.stored_triangles += len(b.faces)
        stats.draw_calls += 1
    for g in groups:
        prim, t, s = _primitive(doc, g.vertices, g.normals, g.faces, None, nfeat)
        prim["material"] = material(g.material)
        meshes.append({"primitives": [prim]})
        dq = np.eye(4)
        dq[:3, :3] = np.diag(s)
        dq[:3, 3] = t
        cw = np.eye(4)
        cw[:3, :3] = Z_UP_TO_GLTF
        trs = np.zeros((len(g.matrices), 3), dtype=np.float32)
        rot = np.zeros((len(g.matrices), 4), dtype=np.float32)
        scl = np.zeros((len(g.matrices), 3), dtype=np.float32)
        for k, m in enumerate(g.matrices):
            d = decompose(cw @ m @ dq)
            if d is None:  # pragma: no cover - the tiler bakes sheared placements
                raise ValueError("instance matrix has shear")
            trs[k], rot[k], scl[k] = d[0], _quat(d[1]), d[2]
        ni = len(g.matrices)
        inst = {
            "TRANSLATION": doc.accessor(doc.view(_View(trs.tobytes(), "attr", 12, ni)), FLOAT,
                                        ni, "VEC3"),
            "ROTATION": doc.accessor(doc.view(_View(rot.tobytes(), "attr", 16, ni)), FLOAT, ni,
                                     "VEC4"),
            "SCALE": doc.accessor(doc.view(_View(scl.tobytes(), "attr", 12, ni)), FLOAT, ni,
                                  "VEC3"),
            "_FEATURE_ID_0": doc.accessor(doc.view(_View(
                np.asarray(g.features, dtype=np.float32).tobytes(), "attr", 4, ni)), FLOAT, ni,
                "SCALAR"),
        }
        nodes.append({"mesh": len(meshes) - 1, "extensions": {
            INSTANCING: {"attributes": inst},
            INSTANCE_FEATURES: {"featureIds": [
                {"featureCount": nfeat, "attribute": 0, "propertyTable": 0}]}}})
        stats.triangles += len(g.faces) * ni
        stats.stored_triangles += len(g.faces)
        stats.draw_calls += 1
        stats.instances += ni
        stats.instanced_meshes += 1
    gl_materials = [None] * len(mat_map)
    for src, dst in mat_map.items():
        gl_materials[dst] = _material(materials[src])
    used = [QUANTIZATION, MESH_FEATURES, METADATA]
    required = [QUANTIZATION]
    if groups:
        used += [INSTANCING, INSTANCE_FEATURES]
        required.append(INSTANCING)
    out: dict[str, Any] = {
        "asset": {"version": "2.0", "generator": "vrcollab"},
        "scene": 0, "scenes": [{"nodes": list(range(len(nodes)))}],
        "nodes": nodes, "meshes": meshes, "materials": gl_materials,
        "accessors": doc.accessors,
        "extensions": {METADATA: {
            "schema": {"id": "vrcollab", "classes": {"element": {"properties": {
                "element": {"type": "SCALAR", "componentType": "UINT32"}}}}},
            "propertyTables": [{"class": "element", "count": nfeat,
                                "properties": {"element": {"values": table}}}]}},
    }
    if compress:
        used.append(EXTENSION)
        required.append(EXTENSION)
    out["extensionsUsed"] = used
    out["extensionsRequired"] = required
    data = _assemble(out, doc.views, compress)
    stats.bytes = len(data)
    stats.json_bytes = int.from_bytes(data[12:16], "little")
    return data, stats


def _material(m: Material) -> dict[str, Any]:
    out: dict[str, Any] = {"pbrMetallicRoughness": {
        "baseColorFactor": [round(float(c), 4) for c in m.color],
        "metallicFactor": round(float(m.metallic), 3),
        "roughnessFactor": round(float(m.roughness), 3)}}
    if m.name:
        out["name"] = m.name[:64]
    if m.double_sided:
        out["doubleSided"] = True
    if m.color[3] < 0.999:
        out["alphaMode"] = "BLEND"
    return out


def _assemble(doc: dict[str, Any], views: list[_View], compress: bool) -> bytes:
    blob = bytearray()
    fallback = 0
    gviews: list[dict[str, Any]] = []

    def put(data: bytes, align: int = 4) -> int:
        blob.extend(b"\x00" * (-len(blob) % align))
        off = len(blob)
        blob.extend(data)
        return off

    for v in views:
        stride = v.stride if v.kind == "attr" and v.target == ARRAY_BUFFER else None
        if compress and v.kind != "plain":
            extra: dict[str, str] = {}
            if v.kind == "attr":
                src = v.data if v.filtered is None else v.filtered
                enc, mode = encode_attributes(src, v.stride, v.count), "ATTRIBUTES"
                if v.filtered is not None:
                    extra = {"filter": "OCTAHEDRAL"}
            else:
                dtype = np.uint16 if v.stride == 2 else np.uint32
                idx = np.frombuffer(v.data, dtype=dtype)
                enc = encode_triangles(idx, int(idx.max()) + 1 if idx.size else 0)
                mode = "TRIANGLES"
            off = put(enc)
            fallback += -fallback % 4
            gv: dict[str, Any] = {"buffer": 1, "byteOffset": fallback, "byteLength": len(v.data),
                                  "extensions": {EXTENSION: {
                                      "buffer": 0, "byteOffset": off, "byteLength": len(enc),
                                      "byteStride": v.stride, "mode": mode, "count": v.count,
                                      **extra}}}
            fallback += len(v.data)
        else:
            off = put(v.data, 8)
            gv = {"buffer": 0, "byteOffset": off, "byteLength": len(v.data)}
        if stride:
            gv["byteStride"] = stride
        if v.target is not None:
            gv["target"] = v.target
        gviews.append(gv)
    blob.extend(b"\x00" * (-len(blob) % 8))
    doc["bufferViews"] = gviews
    doc["buffers"] = [{"byteLength": len(blob)}]
    if compress:
        doc["buffers"].append({"byteLength": fallback + (-fallback % 4),
                               "extensions": {EXTENSION: {"fallback": True}}})
    return write_glb(doc, bytes(blob))


def json_chunk_bytes(data: bytes) -> int:
    """Length of a GLB's JSON chunk."""
    return int.from_bytes(data[12:16], "little")


def tile_json(data: bytes) -> dict[str, Any]:
    """A tile's glTF JSON (for tests and tools)."""
    n = json_chunk_bytes(data)
    return dict(json.loads(data[20:20 + n]))
