"""Loader registry: recognise a file by its content (magic bytes), then load it into a Model.

The extension is only a tie-breaker for text formats that have no magic. STEP goes through
``cascadio`` (OpenCascade, STEP -> GLB in metres), IFC through ``ifcopenshell`` (see
:mod:`vrcollab.ingest.ifc`), everything else through trimesh. Loaders return plain
:class:`~vrcollab.ingest.model.Model` data; foreign exceptions are translated here, once.
"""

from __future__ import annotations

import io
import re
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from vrcollab import model_formats
from vrcollab.errors import (
    CorruptFileError,
    IngestError,
    InvalidGeometryError,
    MissingDependencyError,
    UnsupportedFormatError,
)
from vrcollab.ingest.archive import extract_zip
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.model import Material, Model, Part, Primitive
from vrcollab.ingest.step_names import rename_occurrences, step_product_names

Loader = Callable[[Path, Limits], Model]

#: Formats trimesh loads, with whether the format declares its units (glTF: metres).
TRIMESH_FORMATS = {"stl", "obj", "ply", "off", "glb", "gltf", "3mf", "dae"}
MODEL_SUFFIXES = model_formats.MODEL_SUFFIXES
_HEAD = 4096
#: Magic numbers of common non-model files (images, documents, other archives, executables).
_FOREIGN_MAGIC = (b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF", b"\x1f\x8b", b"BZh",
                  b"\xfd7zXZ", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ", b"RIFF")


def sniff(head: bytes, size: int, suffix: str = "") -> str | None:
    """The format of a file from its first bytes, its size and (for ties) its suffix."""
    suffix = suffix.lower().lstrip(".")
    if head.startswith(_FOREIGN_MAGIC):
        return None
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"glTF"):
        return "glb"
    if head.startswith(b"ISO-10303-21"):
        return "ifc" if re.search(rb"FILE_SCHEMA\s*\(\s*\(\s*'IFC", head, re.I) else "step"
    if re.match(rb"ply\r?\n", head):
        return "ply"
    if len(head) >= 84:
        (count,) = struct.unpack_from("<I", head, 80)
        if size == 84 + 50 * count and count > 0:
            return "stl"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"solid") and (b"facet" in head or b"endsolid" in head):
        return "stl"
    if len(head) >= 84 and suffix == "stl" and not _is_text(head):
        return "stl"  # binary STL with a size that does not match its count: truncated
    if re.match(rb"[CN]?OFF\b", text):
        return "off"
    if text.startswith(b"<?xml") or text.startswith(b"<"):
        if b"COLLADA" in head:
            return "dae"
        return None
    if text.startswith(b"{") and b'"asset"' in head:
        return "gltf"
    if _is_text(head) and re.search(rb"(?m)^\s*(v|f|o|g|vt|vn|mtllib|usemtl)\s", head):
        return "obj"
    if _is_text(head) and suffix in {"obj", "stl", "off", "gltf", "dae"}:
        return suffix  # text with no recognisable content yet (e.g. only comments)
    return None


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        # the cut may split a multi-byte character
        try:
            head[:-4].decode("utf-8")
        except UnicodeDecodeError:
            return False
    return True


def detect(path: Path) -> str:
    """The format of the file at ``path``; raises for empty or unrecognised files."""
    size = path.stat().st_size
    if size == 0:
        raise CorruptFileError(f"{path.name}: file is empty")
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    fmt = sniff(head, size, path.suffix)
    if fmt is None:
        raise UnsupportedFormatError(
            f"{path.name}: not a recognised model file ({model_formats.describe()})"
        )
    return fmt


def check_step_complete(path: Path) -> None:
    """STEP/IFC files (ISO 10303-21) end with ``END-ISO-10303-21;``: refuse truncated ones."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 1024))
        tail = fh.read()
    if b"END-ISO-10303-21" not in tail.upper():
        raise CorruptFileError(f"{path.name}: truncated ISO 10303-21 file (no END-ISO-10303-21)")


def load(path: Path, limits: Limits) -> Model:
    """Load the model at ``path`` (format by content) with ``limits`` enforced."""
    limits.check_bytes(path.name, path.stat().st_size)
    fmt = detect(path)
    if fmt in {"step", "ifc"}:
        check_step_complete(path)
    if fmt == "zip":
        return _load_zip(path, limits)
    return LOADERS[fmt](path, limits)


# --- trimesh formats -----------------------------------------------------------------------


def _precheck(path: Path, fmt: str, limits: Limits) -> None:
    """Cheap checks before parsing: declared triangle counts, NaN in OBJ vertex lines."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    if fmt == "stl" and len(head) >= 84 and not head.lstrip().startswith(b"solid"):
        (count,) = struct.unpack_from("<I", head, 80)
        limits.check_triangles(path.name, count)
        if path.stat().st_size < 84 + 50 * count:
            raise CorruptFileError(
                f"{path.name}: truncated binary STL ({path.stat().st_size} bytes for "
                f"{count} triangles)"
            )
    if fmt == "ply":
        m = re.search(rb"element\s+face\s+(\d+)", head)
        if m:
            limits.check_triangles(path.name, int(m.group(1)))
    if fmt == "obj":
        data = path.read_bytes()
        m = re.search(rb"(?mi)^v[ \t][^\n]*\b(nan|inf|infinity)\b", data)
        if m:
            line = data[: m.start()].count(b"\n") + 1
            raise InvalidGeometryError(f"{path.name}: non-finite vertex value on line {line}")


def _load_trimesh(path: Path, limits: Limits, fmt: str) -> Model:
    import trimesh

    _precheck(path, fmt, limits)
    source: Any = str(path)
    if fmt == "glb":
        source = _plain_glb(path)
    if fmt == "ply" and _ply_has_tristrips(path):
        return _load_ply_tristrips(path)
    try:
        scene = trimesh.load(source, file_type=fmt, force="scene", process=False)
    except IngestError:
        raise
    except ImportError as exc:
        raise MissingDependencyError(f"{path.name}: {fmt.upper()} needs {exc}") from exc
    except IndexError as exc:
        raise InvalidGeometryError(
            f"{path.name}: face index out of range ({_short(exc)})") from exc
    except Exception as exc:  # trimesh raises anything from its parsers
        raise CorruptFileError(
            f"{path.name}: cannot parse as {fmt.upper()} ({_short(exc)})") from exc
    parts = scene_to_parts(scene, path.name)
    units = getattr(scene, "units", None)
    scale, known = 1.0, False
    if fmt in {"glb", "gltf"}:
        known = True
    elif units:
        try:
            scale, known = float(trimesh.units.unit_conversion(units, "m")), True
        except Exception:
            scale, known = 1.0, False
    return Model(parts=parts, source_format=fmt, scale=scale, units_known=known)


def _ply_has_tristrips(path: Path) -> bool:
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    header = head.split(b"end_header", 1)[0]
    return b"element tristrips" in header and not re.search(rb"element\s+face\s+[1-9]", header)


def strips_to_triangles(strip: np.ndarray) -> np.ndarray:
    """Triangles of a triangle strip with -1 restarts (alternate triangles flipped)."""
    s = np.asarray(strip, dtype=np.int64).reshape(-1)
    if len(s) < 3:
        return np.zeros((0, 3), dtype=np.int64)
    restart = np.flatnonzero(s < 0)
    run_start = np.zeros(len(s), dtype=np.int64)
    run_start[restart[restart + 1 < len(s)] + 1] = restart[restart + 1 < len(s)] + 1
    run_start = np.maximum.accumulate(run_start)
    a, b, c = s[:-2], s[1:-1], s[2:]
    valid = (a >= 0) & (b >= 0) & (c >= 0)
    odd = ((np.arange(len(s) - 2) - run_start[:-2]) % 2) == 1
    tris = np.stack([np.where(odd, b, a), np.where(odd, a, b), c], axis=1)
    return tris[valid]


def _load_ply_tristrips(path: Path) -> Model:
    """PLY with a ``tristrips`` element (trimesh reads only its vertices)."""
    from trimesh.exchange import ply

    try:
        with path.open("rb") as fh:
            elements, is_ascii, _ = ply._parse_header(fh)
            if is_ascii:
                ply._ply_ascii(elements, fh)
            else:
                ply._ply_binary(elements, fh)
        vdata = elements["vertex"]["data"]
        vertices = np.stack([np.asarray(vdata[k], dtype=np.float64).reshape(-1)
                             for k in "xyz"], axis=1)
        raw = elements["tristrips"]["data"]["vertex_indices"]
        lists = raw["f1"] if raw.dtype.names else raw
        faces = np.concatenate([strips_to_triangles(np.asarray(x)) for x in lists])
    except IngestError:
        raise
    except Exception as exc:
        raise CorruptFileError(f"{path.name}: cannot parse PLY strips ({_short(exc)})") from exc
    prim = Primitive(vertices=vertices, faces=faces)
    return Model(parts=[Part(name=path.name, primitives=[prim])], source_format="ply")


def _plain_glb(path: Path) -> Any:
    """A GLB trimesh can read: meshopt-compressed input is decoded first; Draco is refused."""
    from vrcollab.ingest.compress import decode_glb, read_glb

    data = path.read_bytes()
    try:
        doc, _ = read_glb(data)
    except (ValueError, UnicodeDecodeError, struct.error) as exc:
        raise CorruptFileError(f"{path.name}: damaged GLB ({_short(exc)})") from exc
    used = set(doc.get("extensionsUsed") or [])
    if "KHR_draco_mesh_compression" in used:
        raise UnsupportedFormatError(f"{path.name}: Draco-compressed glTF is not supported")
    if used & {"EXT_meshopt_compression", "KHR_meshopt_compression"}:
        try:
            data = decode_glb(data)
        except Exception as exc:
            raise CorruptFileError(f"{path.name}: cannot decode meshopt data ({_short(exc)})"
                                   ) from exc
    return io.BytesIO(data)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    msg = text[0] if text else ""
    return f"{type(exc).__name__}: {msg}"[:200]


def scene_to_parts(scene: Any, fallback_name: str) -> list[Part]:
    """Flatten a trimesh Scene into world-space parts, keeping node names and group paths."""
    import trimesh

    parts: list[Part] = []
    parents: dict[str, str] = dict(getattr(scene.graph.transforms, "parents", {}))
    base = scene.graph.base_frame
    for node in scene.graph.nodes_geometry:
        transform, geom_name = scene.graph[node]
        geom = scene.geometry.get(geom_name)
        if not isinstance(geom, trimesh.Trimesh) or len(geom.faces) == 0:
            continue
        vertices = np.asarray(geom.vertices, dtype=np.float64)
        faces = np.asarray(geom.faces, dtype=np.int64)
        if faces.ndim != 2 or faces.shape[1] != 3:
            raise InvalidGeometryError(f"{fallback_name}: faces are not triangles")
        if not np.allclose(transform, np.eye(4)):
            vertices = trimesh.transformations.transform_points(vertices, transform)
        path: list[str] = []
        cur = parents.get(node)
        while cur is not None and cur != base and len(path) < 64:
            path.append(str(cur))
            cur = parents.get(cur)
        material, uv = _material_and_uv(geom)
        prim = Primitive(vertices=vertices, faces=faces, material=material, uv=uv)
        parts.append(
            Part(
                name=str(node) or str(geom_name) or fallback_name,
                primitives=[prim],
                path=tuple(reversed(path)),
            )
        )
    return parts


def _rgba(value: Any) -> tuple[float, float, float, float] | None:
    if value is None:
        return None
    arr = np.asarray(value, dtype=np.float64).reshape(-1)
    if arr.size < 3 or not np.all(np.isfinite(arr)):
        return None
    if arr.max() > 1.0:
        arr = arr / 255.0
    if arr.size == 3:
        arr = np.append(arr, 1.0)
    c = np.clip(arr[:4], 0.0, 1.0)
    return (float(c[0]), float(c[1]), float(c[2]), float(c[3]))


def _png(image: Any) -> tuple[bytes, str] | None:
    if image is None:
        return None
    try:
        buf = io.BytesIO()
        if getattr(image, "format", None) == "JPEG" and image.mode in {"RGB", "L"}:
            image.save(buf, format="JPEG", quality=90)
            return buf.getvalue(), "image/jpeg"
        img = image if image.mode in {"RGB", "RGBA"} else image.convert("RGBA")
        img.save(buf, format="PNG", optimize=False)
        return buf.getvalue(), "image/png"
    except Exception:
        return None


def _material_and_uv(geom: Any) -> tuple[Material, np.ndarray | None]:
    """A Material (and UVs when textured) from a trimesh visual."""
    visual = geom.visual
    kind = getattr(visual, "kind", None)
    if kind == "texture":
        mat = visual.material
        name = str(getattr(mat, "name", None) or "material")
        color = _rgba(getattr(mat, "baseColorFactor", None)) or _rgba(
            getattr(mat, "diffuse", None)
        )
        image = getattr(mat, "baseColorTexture", None) or getattr(mat, "image", None)
        png = _png(image)
        uv = visual.uv
        uv_arr = None
        if png is not None and uv is not None and len(uv) == len(geom.vertices):
            uv_arr = np.asarray(uv, dtype=np.float64)[:, :2]
            if not np.all(np.isfinite(uv_arr)):
                uv_arr = None
        metallic = getattr(mat, "metallicFactor", None)
        rough = getattr(mat, "roughnessFactor", None)
        return (
            Material(
                name=name,
                color=color or (1.0, 1.0, 1.0, 1.0),
                metallic=float(metallic) if metallic is not None else 0.0,
                roughness=float(rough) if rough is not None else 0.8,
                image=png[0] if (png and uv_arr is not None) else None,
                image_mime=png[1] if (png and uv_arr is not None) else None,
                double_sided=bool(getattr(mat, "doubleSided", False)),
            ),
            uv_arr,
        )
    if kind in {"face", "vertex"}:
        colors = visual.face_colors if kind == "face" else visual.vertex_colors
        arr = np.asarray(colors)
        if len(arr):
            values, counts = np.unique(arr.reshape(-1, arr.shape[-1]), axis=0, return_counts=True)
            main = _rgba(values[int(np.argmax(counts))])
            if main is not None:
                return Material(name="color", color=main), None
    return Material(), None


def _make_trimesh_loader(fmt: str) -> Loader:
    def loader(path: Path, limits: Limits) -> Model:
        return _load_trimesh(path, limits, fmt)

    return loader


# --- STEP ------------------------------------------------------------------------------------


def _load_step(path: Path, limits: Limits) -> Model:
    try:
        import cascadio
    except ImportError as exc:
        raise MissingDependencyError("STEP needs the 'cascadio' package") from exc
    with tempfile.TemporaryDirectory(prefix="vrcollab-step-") as tmp:
        out = Path(tmp) / "step.glb"
        try:
            status = cascadio.step_to_glb(str(path), str(out), use_parallel=False)
        except Exception as exc:
            raise CorruptFileError(f"{path.name}: cannot read STEP ({_short(exc)})") from exc
        if status != 0 or not out.exists() or out.stat().st_size == 0:
            raise CorruptFileError(f"{path.name}: STEP file has no readable geometry")
        model = _load_trimesh(out, limits, "glb")
    rename_occurrences(model.parts, step_product_names(path))
    for part in model.parts:
        if part.name in {"step.glb", "world"}:
            part.name = path.stem
    return Model(parts=model.parts, source_format="step", scale=1.0, units_known=True)


# --- archives ------------------------------------------------------------------------------


def _load_zip(path: Path, limits: Limits) -> Model:
    with tempfile.TemporaryDirectory(prefix="vrcollab-zip-") as tmp:
        files = extract_zip(
            path, Path(tmp), max_bytes=limits.max_archive_bytes,
            max_ratio=limits.max_archive_ratio,
        )
        if any(f.name == "3dmodel.model" or f.suffix == ".model" for f in files):
            model = _load_trimesh(path, limits, "3mf")
            model.source_format = "3mf"
            return model
        candidates = [f for f in files if f.suffix.lower() in MODEL_SUFFIXES]
        if not candidates:
            raise UnsupportedFormatError(f"{path.name}: archive holds no model file")
        main = max(candidates, key=lambda f: (f.suffix.lower() not in (".step", ".stp", ".ifc"),
                                              f.stat().st_size))  # meshes first, then size
        fmt = detect(main)
        if fmt == "zip":
            raise UnsupportedFormatError(f"{path.name}: nested archives are not supported")
        return LOADERS[fmt](main, limits)


def _load_ifc(path: Path, limits: Limits) -> Model:
    from vrcollab.ingest.ifc import load_ifc

    return load_ifc(path, limits)


LOADERS: dict[str, Loader] = {fmt: _make_trimesh_loader(fmt) for fmt in TRIMESH_FORMATS}
LOADERS["step"] = _load_step
LOADERS["ifc"] = _load_ifc
