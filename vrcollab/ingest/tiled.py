"""The tiled conversion (format v2, docs/tiles.md): load -> scene -> tiles -> element table.

IFC goes straight from ifcopenshell's multi-threaded iterator into a
:class:`~vrcollab.ingest.scene.Scene` (shared representations once); every other format is
loaded and repaired as in version 1 and turned into a scene (equal parts shared). Tiles are
built and written one at a time; the manifest is small and written last (atomically), so a
directory with a manifest is complete.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from vrcollab.errors import ConfigError, CorruptFileError, IngestError, InvalidGeometryError
from vrcollab.ingest import budget, element_table, formats, tiling
from vrcollab.ingest.pipeline import (
    MANIFEST_VERSION,
    ConversionResult,
    ConvertOptions,
    Progress,
    _write_atomic,
    load_model,
    sha256_file,
)
from vrcollab.ingest.scene import Scene, from_model


def load_scene(source: Path, options: ConvertOptions, progress: Progress) -> Scene:
    """The scene of ``source`` (stage ``load``), translating foreign errors."""
    fmt = formats.detect(source)
    if fmt != "ifc":
        return from_model(load_model(source, options, progress))
    from vrcollab.ingest.ifc import load_ifc_scene

    try:
        options.limits.check_bytes(source.name, source.stat().st_size)
        formats.check_step_complete(source)
        return load_ifc_scene(source, options.limits, options.threads, progress,
                              options.ifc_deflection, options.ifc_geometry_library)
    except (IngestError, ConfigError):
        raise
    except MemoryError as exc:
        raise InvalidGeometryError(f"{source.name}: model too large to process in memory") from exc
    except Exception as exc:
        raise CorruptFileError(f"{source.name}: cannot read ({formats._short(exc)})") from exc


def convert_tiled(source: Path, outdir: Path, options: ConvertOptions,
                  progress: Progress | None = None,
                  keep_uncompressed: Any = None) -> ConversionResult:
    """Write the tiled layout of ``source`` into ``outdir``."""
    report: Progress = progress or (lambda stage, frac: None)
    source = Path(source)
    if not source.is_file():
        raise CorruptFileError(f"{source.name}: no such file")
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    report("load", 0.0)
    fmt = formats.detect(source)
    scene = load_scene(source, options, report)
    if not scene.elements:
        raise InvalidGeometryError(f"{source.name}: no element geometry")
    unique_names(scene)
    report("load", 1.0)
    seconds["load"] = time.perf_counter() - t0

    t1 = time.perf_counter()
    report("tiles", 0.0)
    outdir.mkdir(parents=True, exist_ok=True)
    clear_previous(outdir)
    root = tiling.split(scene, options.leaf_triangles)
    nodes = tiling.build_tiles(scene, root, outdir, leaf_triangles=options.leaf_triangles,
                               instance_min=options.instance_min, compress=options.compress,
                               progress=lambda f: report("tiles", f),
                               keep_uncompressed=keep_uncompressed)
    tileset = tiling.tileset_json(root)
    raw = json.dumps(tileset, separators=(",", ":")).encode("utf-8")
    _write_atomic(outdir / "tileset.json", raw)
    seconds["tiles"] = time.perf_counter() - t1

    t2 = time.perf_counter()
    report("elements", 0.0)
    elements = element_table.write(scene.elements, outdir)
    report("elements", 1.0)
    seconds["elements"] = time.perf_counter() - t2

    report("report", 0.0)
    lo, hi = scene.bounds()
    devices = budget.tiles_report(_info(root), lo, hi)
    levels: list[dict[str, Any]] = []
    for depth in range(max(n.depth for n in nodes) + 1):
        at = [n for n in nodes if n.depth == depth]
        levels.append({"depth": depth, "tiles": len(at),
                       "triangles": sum(n.stats.triangles for n in at),
                       "draw_calls": sum(n.stats.draw_calls for n in at),
                       "geometric_error": round(max(n.error for n in at), 6),
                       "bytes": sum(n.stats.bytes for n in at)})
    leaves = [n for n in nodes if n.leaf]
    tile_bytes = sum(n.stats.bytes for n in nodes)
    json_bytes = sum(n.stats.json_bytes for n in nodes)
    seconds["total"] = time.perf_counter() - t0
    manifest: dict[str, Any] = {
        "format": "vrcollab-model",
        "version": MANIFEST_VERSION,
        "source": {"name": source.name, "sha256": sha256_file(source),
                   "bytes": source.stat().st_size,
                   "format": fmt if fmt != "zip" else scene.source_format},
        "units": "m",
        "up_axis": "Z",
        "source_up_axis": scene.source_up_axis,
        "offset": [float(x) for x in scene.offset],
        "bounds": {"min": [float(x) for x in lo], "max": [float(x) for x in hi]},
        "tileset": "tileset.json",
        "elements": elements,
        "levels": levels,
        "stats": {
            "tiles": len(nodes), "elements": len(scene.elements),
            "triangles": sum(n.stats.triangles for n in leaves),
            "triangles_stored": sum(n.stats.stored_triangles for n in nodes),
            "representations": len(scene.reps),
            "instanced_meshes": sum(n.stats.instanced_meshes for n in nodes),
            "instances": sum(n.stats.instances for n in leaves),
            "tile_bytes": tile_bytes, "gltf_json_bytes": json_bytes,
            "tileset_bytes": len(raw),
            "bytes": tile_bytes + len(raw) + int(elements["bytes"]),
            "seconds": {k: round(v, 3) for k, v in seconds.items()},
        },
        "devices": devices,
        "decimator": "meshoptimizer",
        "compression": "EXT_meshopt_compression+KHR_mesh_quantization" if options.compress
        else "KHR_mesh_quantization",
    }
    _write_atomic(outdir / "manifest.json",
                  json.dumps(manifest, indent=1, ensure_ascii=False).encode("utf-8"))
    report("report", 1.0)
    rows = [budget.DeviceReport(device=k, level=f"sse {v['error_target'] or 'root'}",
                                status=v["status"],
                                triangles=v["triangles"], draw_calls=v["draw_calls"],
                                budget_triangles=v["budget_triangles"],
                                budget_draw_calls=v["budget_draw_calls"])
            for k, v in devices.items()]
    return ConversionResult(outdir=outdir, manifest=manifest, report=rows)


def _info(node: tiling.Node) -> budget.TileInfo:
    lo = tuple(float(x) for x in node.lo)
    hi = tuple(float(x) for x in node.hi)
    return budget.TileInfo((lo[0], lo[1], lo[2]), (hi[0], hi[1], hi[2]), node.error,
                           node.stats.triangles, node.stats.draw_calls,
                           tuple(_info(c) for c in node.children))


def unique_names(scene: Scene) -> None:
    """Element names made unique like version 1's node names (``name (2)``), in place."""
    taken: set[str] = set()
    for el in scene.elements:
        base = (el.name or "").strip() or (el.ifc_class or "part")
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base} ({n})"
        taken.add(name)
        el.name = name


def clear_previous(outdir: Path) -> None:
    """Remove what an earlier tiled conversion wrote into ``outdir`` (stale tiles and chunks
    would otherwise be listed as part of this version)."""
    for sub, pattern in (("tiles", "*.glb"), ("props", "*.json*")):
        for p in (outdir / sub).glob(pattern) if (outdir / sub).is_dir() else []:
            p.unlink()
    for name in ("manifest.json", "tileset.json", element_table.TABLE_FILE,
                 element_table.HASH_FILE, *element_table.OLD_FILES):
        (outdir / name).unlink(missing_ok=True)
