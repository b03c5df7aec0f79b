"""EXT_meshopt_compression: encode buffer views, and decode a compressed GLB back.

The writer (:mod:`vrcollab.ingest.gltf`) hands over each vertex stream and index buffer; this
module encodes them with meshoptimizer (attribute codec version 0 as the extension requires,
triangle codec for indices) and describes the result for the bufferView extension. The file
then carries the compressed bytes in the GLB binary chunk and a fallback buffer without data,
so the extension is required (loaders: three.js ``GLTFLoader.setMeshoptDecoder``).
"""

from __future__ import annotations

import json
import struct
from typing import Any

import numpy as np

EXTENSION = "EXT_meshopt_compression"
KHR_EXTENSION = "KHR_meshopt_compression"  # same bitstream family; decoded for comparisons
QUANTIZATION = "KHR_mesh_quantization"


def encode_attributes(data: bytes, stride: int, count: int) -> bytes:
    """Encode ``count`` vertices of ``stride`` bytes (stride divisible by 4, at most 256)."""
    import meshoptimizer as mo

    if stride % 4 or stride > 256 or len(data) != stride * count:
        raise ValueError(f"bad attribute layout: stride {stride}, count {count}, {len(data)} B")
    mo.encode_vertex_version(0)
    arr = np.frombuffer(data, dtype=np.uint8).reshape(count, stride)
    return bytes(mo.encode_vertex_buffer(np.ascontiguousarray(arr), count, stride))


def encode_triangles(indices: np.ndarray, vertex_count: int) -> bytes:
    """Encode a triangle-list index buffer (mode TRIANGLES)."""
    import meshoptimizer as mo

    flat = np.ascontiguousarray(indices.reshape(-1), dtype=np.uint32)
    if len(flat) % 3:
        raise ValueError("triangle index count must be divisible by 3")
    return bytes(mo.encode_index_buffer(flat, len(flat), vertex_count))


def _pad4(data: bytes) -> bytes:
    return data + b"\x00" * (-len(data) % 4)


def read_glb(data: bytes) -> tuple[dict[str, Any], bytes]:
    """Split a GLB into its JSON document and binary chunk."""
    magic, version, length = struct.unpack_from("<4sII", data, 0)
    if magic != b"glTF" or version != 2 or length > len(data):
        raise ValueError("not a glTF 2.0 binary")
    offset, doc, bin_chunk = 12, None, b""
    while offset + 8 <= length:
        clen, ctype = struct.unpack_from("<I4s", data, offset)
        chunk = data[offset + 8 : offset + 8 + clen]
        if ctype == b"JSON":
            doc = json.loads(chunk.decode("utf-8"))
        elif ctype == b"BIN\x00":
            bin_chunk = bytes(chunk)
        offset += 8 + clen
    if doc is None:
        raise ValueError("GLB has no JSON chunk")
    return doc, bin_chunk


def write_glb(doc: dict[str, Any], bin_chunk: bytes) -> bytes:
    """Assemble a GLB from a JSON document and a binary chunk."""
    js = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    js += b" " * (-len(js) % 4)
    binary = _pad4(bin_chunk)
    total = 12 + 8 + len(js) + (8 + len(binary) if binary else 0)
    out = bytearray(struct.pack("<4sII", b"glTF", 2, total))
    out += struct.pack("<I4s", len(js), b"JSON") + js
    if binary:
        out += struct.pack("<I4s", len(binary), b"BIN\x00") + binary
    return bytes(out)


def decode_glb(data: bytes) -> bytes:
    """Undo EXT_meshopt_compression: a GLB whose views hold plain (still quantized) data."""
    import meshoptimizer as mo

    doc, bin_chunk = read_glb(data)
    names = [e for e in (EXTENSION, KHR_EXTENSION) if e in doc.get("extensionsUsed", [])]
    if not names:
        return data
    out = bytearray()
    views = doc.get("bufferViews", [])
    for view in views:
        exts = view.get("extensions") or {}
        ext = exts.get(EXTENSION) or exts.get(KHR_EXTENSION)
        if ext is None:
            if view.get("buffer", 0) != 0:
                raise ValueError("uncompressed view outside the GLB buffer")
            raw = bin_chunk[view.get("byteOffset", 0) : view.get("byteOffset", 0)
                            + view["byteLength"]]
        else:
            src = bin_chunk[ext.get("byteOffset", 0) : ext.get("byteOffset", 0)
                            + ext["byteLength"]]
            count, stride, mode = ext["count"], ext["byteStride"], ext["mode"]
            filt = ext.get("filter", "NONE")
            # The python wrapper's uint8/16-bit outputs are unreliable: decode to 4-byte
            # words and reinterpret (strides are multiples of 4 for attributes).
            if mode == "ATTRIBUTES":
                arr = np.ascontiguousarray(mo.decode_vertex_buffer(count, stride, src))
                if filt != "NONE":  # vrcollab writes none; other encoders (gltfpack) do
                    undo = {"OCTAHEDRAL": mo.decode_filter_oct, "QUATERNION":
                            mo.decode_filter_quat, "EXPONENTIAL": mo.decode_filter_exp}[filt]
                    arr = np.ascontiguousarray(undo(arr.view(np.uint8), count, stride))
                raw = arr.view(np.uint8).tobytes()
            elif mode == "TRIANGLES":
                idx = np.asarray(mo.decode_index_buffer(count, 4, src), dtype=np.uint32)
                raw = idx.astype(np.uint16 if stride == 2 else np.uint32).tobytes()
            else:
                raise ValueError(f"unsupported meshopt mode {mode}")
            if len(raw) != view["byteLength"]:
                raise ValueError("decoded size does not match the bufferView")
            view.pop("extensions", None)
        out += b"\x00" * (-len(out) % 4)
        view["buffer"] = 0
        view["byteOffset"] = len(out)
        out += raw
    doc["buffers"] = [{"byteLength": len(_pad4(bytes(out)))}]
    doc["extensionsUsed"] = [e for e in doc.get("extensionsUsed", []) if e not in names]
    req = [e for e in doc.get("extensionsRequired", []) if e not in names]
    if req:
        doc["extensionsRequired"] = req
    else:
        doc.pop("extensionsRequired", None)
    if not doc["extensionsUsed"]:
        doc.pop("extensionsUsed")
    return write_glb(doc, bytes(out))
