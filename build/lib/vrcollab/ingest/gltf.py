"""Model -> GLB with pygltflib: one node per part, extras with identity, shared materials.

Layout: a root node (named after the model) carries the dequantisation transform when
positions are quantised (KHR_mesh_quantization: uint16 positions on one grid for the whole model,
int8 normals, uint16 UVs in [0, 1]); group nodes rebuild the part hierarchy; each part is one
node with one mesh and one primitive per material (equal materials are merged within a part and
shared across parts). Every vertex stream and index buffer has its own bufferView, padded to
4-byte strides, so :mod:`vrcollab.ingest.compress` can encode each with EXT_meshopt_compression.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pygltflib as gl

from vrcollab.ingest.compress import (
    EXTENSION,
    QUANTIZATION,
    encode_attributes,
    encode_triangles,
    write_glb,
)
from vrcollab.ingest.model import FloatArray, IndexArray, Material, Model, Part
from vrcollab.ingest.shading import crease_normals

ARRAY_BUFFER, ELEMENT_ARRAY_BUFFER = 34962, 34963
FLOAT, BYTE, USHORT, UINT = 5126, 5120, 5123, 5125


@dataclass
class PartStats:
    """What one part became in the GLB."""

    node: str
    element_id: str | None
    ifc_class: str | None
    triangles: int


@dataclass
class GlbStats:
    """Counts for the manifest and the budget report."""

    triangles: int = 0
    draw_calls: int = 0
    materials: int = 0  # draw calls left if a client batches parts by material
    vertices: int = 0
    parts: list[PartStats] = field(default_factory=list)


@dataclass
class _View:
    data: bytes
    kind: str  # "attr" | "index" | "image"
    stride: int = 0
    count: int = 0
    target: int | None = None
    filtered: bytes | None = None  # octahedral-filter input, used instead when compressing


@dataclass
class _Prim:
    vertices: FloatArray
    faces: IndexArray
    normals: FloatArray
    uv: FloatArray | None
    material: int


def unique_names(model: Model) -> None:
    """Make part names unique (in place), so every level has the same node names."""
    taken: set[str] = set()
    for part in model.parts:
        base = (part.name or "").strip() or (part.ifc_class or "part")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name)
        part.name = name


def _reorder(faces: IndexArray, n_vertices: int) -> tuple[IndexArray, IndexArray]:
    """Vertex-cache optimised faces and the vertex order of first use (for compression)."""
    import meshoptimizer as mo

    flat = np.ascontiguousarray(faces.reshape(-1), dtype=np.uint32)
    dest = np.zeros_like(flat)
    mo.optimize_vertex_cache(dest, flat, len(flat), n_vertices)
    idx = dest.astype(np.int64)
    first = np.full(n_vertices, len(dest), dtype=np.int64)
    first[idx[::-1]] = np.arange(len(dest) - 1, -1, -1)  # last write wins: first use
    order = idx[first[idx] == np.arange(len(idx))]  # vertices in order of first use
    remap = np.full(n_vertices, -1, dtype=np.int64)
    remap[order] = np.arange(len(order))
    return remap[idx].reshape(-1, 3), order


def _prepare(part: Part, materials: dict[tuple[Any, ...], int],
             material_list: list[Material]) -> list[_Prim]:
    groups: dict[int, list[int]] = {}
    for i, prim in enumerate(part.primitives):
        key = prim.material.key()
        if key not in materials:
            materials[key] = len(material_list)
            material_list.append(prim.material)
        groups.setdefault(materials[key], []).append(i)
    out: list[_Prim] = []
    for mat, idx in groups.items():
        prims = [part.primitives[i] for i in idx]
        has_uv = all(p.uv is not None for p in prims)
        base = np.cumsum([0] + [len(p.vertices) for p in prims])
        v = np.concatenate([p.vertices for p in prims])
        f = np.concatenate([p.faces + base[k] for k, p in enumerate(prims)])
        uv = np.concatenate([p.uv for p in prims if p.uv is not None]) if has_uv else None
        v, f, uv, n = crease_normals(v, f, uv)
        f, order = _reorder(f, len(v))
        out.append(_Prim(v[order], f, n[order], uv[order] if uv is not None else None, mat))
    return out


def _octahedral_normals(n: FloatArray) -> bytes:
    """Normals as EXT_meshopt_compression octahedral-filter input (K = 8 bits)."""
    s = np.abs(n).sum(axis=1)
    p = n / np.where(s > 0, s, 1.0)[:, None]
    x, y = p[:, 0], p[:, 1]
    sx, sy = np.where(x >= 0, 1.0, -1.0), np.where(y >= 0, 1.0, -1.0)
    neg = p[:, 2] < 0
    ox = np.where(neg, (1.0 - np.abs(y)) * sx, x)
    oy = np.where(neg, (1.0 - np.abs(x)) * sy, y)
    q = np.zeros((len(n), 4), dtype=np.int8)
    q[:, 0] = np.clip(np.round(ox * 127.0), -127, 127)
    q[:, 1] = np.clip(np.round(oy * 127.0), -127, 127)
    q[:, 2] = 127  # 1.0 in K = 8 bits
    return q.tobytes()


def _quantize_normals(n: FloatArray) -> bytes:
    q = np.zeros((len(n), 4), dtype=np.int8)
    q[:, :3] = np.clip(np.round(n * 127.0), -127, 127).astype(np.int8)
    return q.tobytes()


def build_glb(
    model: Model,
    *,
    name: str,
    quantize: bool = True,
    compress: bool = True,
    position_bits: int = 14,
    root_extras: dict[str, Any] | None = None,
) -> tuple[bytes, GlbStats]:
    """Write ``model`` as GLB bytes; returns the bytes and their stats."""
    if compress and not quantize:
        raise ValueError("compression is only written on top of quantised data")
    materials: dict[tuple[Any, ...], int] = {}
    material_list: list[Material] = []
    prepared = [_prepare(part, materials, material_list) for part in model.parts]
    all_v = [p.vertices for prims in prepared for p in prims]
    lo = np.min([v.min(axis=0) for v in all_v], axis=0)
    hi = np.max([v.max(axis=0) for v in all_v], axis=0)
    extent = float(max(np.max(hi - lo), 1e-9))
    steps = float((1 << position_bits) - 1)
    scale = steps / extent

    doc = gl.GLTF2(asset=gl.Asset(generator="vrcollab", version="2.0"), scene=0)
    views: list[_View] = []
    stats = GlbStats()

    def add_view(v: _View) -> int:
        views.append(v)
        return len(views) - 1

    def add_accessor(view: int, ctype: int, count: int, atype: str, *, normalized: bool = False,
                     vmin: list[float] | None = None, vmax: list[float] | None = None) -> int:
        doc.accessors.append(gl.Accessor(
            bufferView=view, componentType=ctype, count=count, type=atype,
            normalized=normalized or None, min=vmin, max=vmax,
        ))
        return len(doc.accessors) - 1

    # materials and textures
    for mat in material_list:
        pbr = gl.PbrMetallicRoughness(
            baseColorFactor=[float(c) for c in mat.color],
            metallicFactor=float(mat.metallic), roughnessFactor=float(mat.roughness),
        )
        if mat.image is not None:
            iv = add_view(_View(mat.image, "image"))
            doc.images.append(gl.Image(bufferView=iv, mimeType=mat.image_mime or "image/png"))
            if not doc.samplers:
                doc.samplers.append(gl.Sampler(magFilter=9729, minFilter=9987))
            doc.textures.append(gl.Texture(source=len(doc.images) - 1, sampler=0))
            pbr.baseColorTexture = gl.TextureInfo(index=len(doc.textures) - 1)
        doc.materials.append(gl.Material(
            name=mat.name, pbrMetallicRoughness=pbr, doubleSided=mat.double_sided or None,
            alphaMode="BLEND" if mat.color[3] < 0.999 else None,
        ))

    # root and group nodes
    root = gl.Node(name=name, children=[], extras=root_extras or {})
    if quantize:
        root.scale = [1.0 / scale] * 3
        root.translation = [float(x) for x in lo]
    doc.nodes.append(root)
    doc.scenes.append(gl.Scene(nodes=[0]))
    groups: dict[tuple[str, ...], int] = {(): 0}
    used_names = {p.name for p in model.parts}

    def group_node(path: tuple[str, ...]) -> int:
        if path in groups:
            return groups[path]
        parent = group_node(path[:-1])
        gname = path[-1]
        while gname in used_names:
            gname = f"{gname} (group)"
        used_names.add(gname)
        doc.nodes.append(gl.Node(name=gname, children=[]))
        groups[path] = len(doc.nodes) - 1
        doc.nodes[parent].children.append(groups[path])
        return groups[path]

    for part, prims in zip(model.parts, prepared, strict=True):
        gprims: list[gl.Primitive] = []
        tris = 0
        for p in prims:
            nv = len(p.vertices)
            attrs = gl.Attributes()
            if quantize:
                q = np.zeros((nv, 4), dtype=np.uint16)
                q[:, :3] = np.clip(np.round((p.vertices - lo) * scale), 0, steps)
                pv = add_view(_View(q.tobytes(), "attr", 8, nv, ARRAY_BUFFER))
                attrs.POSITION = add_accessor(
                    pv, USHORT, nv, "VEC3",
                    vmin=[float(x) for x in q[:, :3].min(axis=0)],
                    vmax=[float(x) for x in q[:, :3].max(axis=0)])
                nview = add_view(_View(_quantize_normals(p.normals), "attr", 4, nv, ARRAY_BUFFER,
                                       filtered=_octahedral_normals(p.normals)))
                attrs.NORMAL = add_accessor(nview, BYTE, nv, "VEC3", normalized=True)
            else:
                pos = p.vertices.astype(np.float32)
                pv = add_view(_View(pos.tobytes(), "attr", 12, nv, ARRAY_BUFFER))
                attrs.POSITION = add_accessor(
                    pv, FLOAT, nv, "VEC3", vmin=[float(x) for x in pos.min(axis=0)],
                    vmax=[float(x) for x in pos.max(axis=0)])
                nview = add_view(_View(p.normals.astype(np.float32).tobytes(), "attr", 12, nv,
                                       ARRAY_BUFFER))
                attrs.NORMAL = add_accessor(nview, FLOAT, nv, "VEC3")
            if p.uv is not None:
                if quantize and p.uv.min() >= 0.0 and p.uv.max() <= 1.0:
                    quv = np.round(p.uv * 65535.0).astype(np.uint16)
                    uview = add_view(_View(quv.tobytes(), "attr", 4, nv, ARRAY_BUFFER))
                    attrs.TEXCOORD_0 = add_accessor(uview, USHORT, nv, "VEC2", normalized=True)
                else:
                    uview = add_view(_View(p.uv.astype(np.float32).tobytes(), "attr", 8, nv,
                                           ARRAY_BUFFER))
                    attrs.TEXCOORD_0 = add_accessor(uview, FLOAT, nv, "VEC2")
            small = nv <= 65535
            idx = p.faces.astype(np.uint16 if small else np.uint32)
            iview = add_view(_View(idx.tobytes(), "index", 2 if small else 4, idx.size,
                                   ELEMENT_ARRAY_BUFFER))
            ia = add_accessor(iview, USHORT if small else UINT, idx.size, "SCALAR")
            gprims.append(gl.Primitive(attributes=attrs, indices=ia, material=p.material, mode=4))
            tris += len(p.faces)
            stats.vertices += nv
        doc.meshes.append(gl.Mesh(name=part.name, primitives=gprims))
        extras: dict[str, Any] = {"name": part.name, "element_id": part.element_id,
                                  "ifc_class": part.ifc_class, "properties": part.properties}
        parent = group_node(part.path)
        doc.nodes.append(gl.Node(name=part.name, mesh=len(doc.meshes) - 1, extras=extras))
        doc.nodes[parent].children.append(len(doc.nodes) - 1)
        stats.triangles += tris
        stats.draw_calls += len(gprims)
        stats.parts.append(PartStats(part.name, part.element_id, part.ifc_class, tris))
    stats.materials = len(material_list)
    for node in doc.nodes:
        if node.children == []:
            node.children = None
    if quantize:
        doc.extensionsUsed.append(QUANTIZATION)
        doc.extensionsRequired.append(QUANTIZATION)
    return _assemble(doc, views, compress), stats


def _assemble(doc: gl.GLTF2, views: list[_View], compress: bool) -> bytes:
    blob = bytearray()
    fallback = 0

    def put(data: bytes) -> int:
        blob.extend(b"\x00" * (-len(blob) % 4))
        off = len(blob)
        blob.extend(data)
        return off

    for v in views:
        stride = v.stride if v.kind == "attr" else None
        if compress and v.kind != "image":
            extra: dict[str, str] = {}
            if v.kind == "attr":
                source = v.data if v.filtered is None else v.filtered
                enc, mode = encode_attributes(source, v.stride, v.count), "ATTRIBUTES"
                if v.filtered is not None:
                    extra = {"filter": "OCTAHEDRAL"}
            else:
                dtype = np.uint16 if v.stride == 2 else np.uint32
                idx = np.frombuffer(v.data, dtype=dtype)
                enc = encode_triangles(idx, int(idx.max()) + 1 if idx.size else 0)
                mode = "TRIANGLES"
            off = put(enc)
            fallback += -fallback % 4
            doc.bufferViews.append(gl.BufferView(
                buffer=1, byteOffset=fallback, byteLength=len(v.data), byteStride=stride,
                target=v.target,
                extensions={EXTENSION: {"buffer": 0, "byteOffset": off, "byteLength": len(enc),
                                        "byteStride": v.stride, "mode": mode,
                                        "count": v.count, **extra}},
            ))
            fallback += len(v.data)
        else:
            off = put(v.data)
            doc.bufferViews.append(gl.BufferView(
                buffer=0, byteOffset=off, byteLength=len(v.data), byteStride=stride,
                target=v.target,
            ))
    blob.extend(b"\x00" * (-len(blob) % 4))
    if compress:
        doc.extensionsUsed.append(EXTENSION)
        doc.extensionsRequired.append(EXTENSION)
    # pygltflib builds the document; its GLB writer would merge our two buffers, so the JSON
    # is finished here: buffers, and node extras with explicit nulls.
    out = json.loads(doc.to_json())
    out["buffers"] = [{"byteLength": len(blob)}]
    if compress:
        out["buffers"].append({"byteLength": fallback + (-fallback % 4),
                               "extensions": {EXTENSION: {"fallback": True}}})
    for i, node in enumerate(doc.nodes):
        if node.extras:
            out["nodes"][i]["extras"] = node.extras
    return write_glb(out, bytes(blob))
