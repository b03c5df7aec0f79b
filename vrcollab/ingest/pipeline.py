"""options -> stages -> result.

:func:`convert` is the one entry point (the CLI and the server's conversion jobs call it). By
default (``layout="tiles"``) it writes the tiled format v2 (docs/tiles.md): stages ``load``,
``tiles``, ``elements``, ``report``. ``layout="levels"`` writes the version 1 ladder of GLB
levels (docs/manifest.md): ``load``, ``repair``, ``decimate``, ``write``, ``measure``. Bad input
raises only :class:`vrcollab.errors.IngestError` subclasses
(:class:`vrcollab.errors.ConfigError` for bad options).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vrcollab.errors import ConfigError, CorruptFileError, IngestError, InvalidGeometryError
from vrcollab.ingest import (
    budget,
    decimate,
    fingerprint,
    formats,
    gltf,
    measure,
    repair,
    tiling,
)
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.model import Model
from vrcollab.model_manifest import MANIFEST_VERSION as MANIFEST_VERSION

Progress = Callable[[str, float], None]
STAGES = ("load", "properties", "tiles", "elements", "report")  # properties: IFC only
LEVEL_STAGES = ("load", "repair", "decimate", "write", "measure")
LAYOUTS = ("tiles", "levels")


@dataclass(frozen=True)
class ConvertOptions:
    """How to convert. ``levels`` is the ladder below ``full``: (name, triangle target)."""

    decimator: decimate.Decimator = decimate.DEFAULT_DECIMATOR
    compress: bool = True
    quantize: bool | None = None  # None: same as ``compress``
    units: str | None = None
    levels: tuple[tuple[str, int], ...] = budget.LEVEL_TARGETS
    limits: Limits = field(default_factory=Limits)
    position_bits: int = 14
    measure_samples: int = measure.DEFAULT_SAMPLES
    weld_relative: float = repair.WELD_RELATIVE
    max_error: float = decimate.MAX_ERROR
    layout: str = "tiles"
    leaf_triangles: int = tiling.LEAF_TRIANGLES
    instance_min: int = tiling.INSTANCE_MIN
    threads: int | None = None  # IFC geometry threads; None: one (measured, README)
    ifc_deflection: float = 0.005  # tiled layout: chord error of curved IFC surfaces, metres
    ifc_geometry_library: str = "hybrid-cgal-simple-opencascade"  # tiled layout IFC kernel

    def check(self) -> None:
        """Raise :class:`ConfigError` for inconsistent options."""
        if self.layout not in LAYOUTS:
            raise ConfigError(f"unknown layout {self.layout!r}; use one of {', '.join(LAYOUTS)}")
        if self.ifc_geometry_library not in ("cgal", "cgal-simple", "manifold", "opencascade",
                                             "hybrid-cgal-simple-opencascade"):
            raise ConfigError(f"unknown IFC geometry library {self.ifc_geometry_library!r}")
        if not 1e-5 <= self.ifc_deflection <= 1.0:
            raise ConfigError("ifc_deflection must be between 1e-5 and 1 metre")
        if self.leaf_triangles < 1000 or self.instance_min < 2:
            raise ConfigError("leaf_triangles must be >= 1000 and instance_min >= 2")
        if self.decimator not in decimate.DECIMATORS:
            raise ConfigError(f"unknown decimator {self.decimator!r}")
        names = [n for n, _ in self.levels]
        if "full" in names or len(set(names)) != len(names):
            raise ConfigError("level names must be unique and not 'full'")
        if any(t < 1 for _, t in self.levels):
            raise ConfigError("level triangle targets must be positive")
        if not 8 <= self.position_bits <= 16:
            raise ConfigError("position_bits must be between 8 and 16")
        if self.compress and self.quantize is False:
            raise ConfigError("compression needs quantisation")
        if self.units is not None:
            repair.unit_scale(Model([], "x"), self.units)


@dataclass
class ConversionResult:
    """What a conversion produced: the manifest (as written) and the device report."""

    outdir: Path
    manifest: dict[str, Any]
    report: list[budget.DeviceReport]

    def report_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (what ``vrcollab convert --json`` prints)."""
        if self.manifest.get("version", 1) >= 2:
            m = self.manifest
            return {"source": m["source"], "outdir": str(self.outdir), "levels": m["levels"],
                    "devices": m["devices"], "offset": m["offset"], "bounds": m["bounds"],
                    "elements": m["elements"]["count"], "stats": m["stats"],
                    "decimator": m["decimator"], "compression": m["compression"]}
        return {
            "source": self.manifest["source"],
            "outdir": str(self.outdir),
            "levels": self.manifest["levels"],
            "devices": self.manifest["devices"],
            "offset": self.manifest["offset"],
            "bounds": self.manifest["bounds"],
            "parts": len(self.manifest["parts"]),
            "decimator": self.manifest["decimator"],
            "compression": self.manifest["compression"],
        }


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, streamed."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def load_model(source: Path, options: ConvertOptions, progress: Progress | None = None) -> Model:
    """Load and repair ``source`` (stages 1-2), translating foreign errors."""
    report_progress: Progress = progress or (lambda stage, frac: None)
    try:
        model = formats.load(source, options.limits)
        options.limits.check_triangles(source.name, model.triangles)
        report_progress("load", 1.0)
        report_progress("repair", 0.0)
        model = repair.repair(model, source.name, units=options.units,
                              weld_relative=options.weld_relative)
    except (IngestError, ConfigError):
        raise
    except MemoryError as exc:
        raise InvalidGeometryError(f"{source.name}: model too large to process in memory") from exc
    except Exception as exc:
        raise CorruptFileError(f"{source.name}: cannot read ({formats._short(exc)})") from exc
    gltf.unique_names(model)
    return model


def convert_levels(
    source: Path,
    outdir: Path,
    options: ConvertOptions,
    progress: Progress | None = None,
) -> ConversionResult:
    """Version 1: GLB levels and ``manifest.json`` (docs/manifest.md) in ``outdir``."""
    report_progress: Progress = progress or (lambda stage, frac: None)
    source = Path(source)
    if not source.is_file():
        raise CorruptFileError(f"{source.name}: no such file")
    quantize = options.compress if options.quantize is None else options.quantize

    report_progress("load", 0.0)
    fmt = formats.detect(source)
    model = load_model(source, options, report_progress)
    report_progress("repair", 1.0)

    # levels: full, then each target below the previous level's size
    ladder: list[tuple[str, Model]] = [("full", model)]
    aliases: dict[str, str] = {}
    targets = sorted(options.levels, key=lambda lv: -lv[1])
    for i, (name, target) in enumerate(targets):
        report_progress("decimate", i / max(len(targets), 1))
        prev_name, prev = ladder[-1]
        if target >= prev.triangles:
            aliases[name] = prev_name
            continue
        level = decimate.decimate(model, target, options.decimator, options.max_error)
        if level.triangles >= prev.triangles:  # could not simplify within max_error
            aliases[name] = prev_name
            continue
        ladder.append((name, level))
    report_progress("decimate", 1.0)

    outdir.mkdir(parents=True, exist_ok=True)
    root_extras = {"source": source.name, "offset": list(model.offset), "units": "m"}
    written: dict[str, dict[str, Any]] = {}
    parts: list[dict[str, Any]] = []
    for i, (name, level) in enumerate(ladder):
        report_progress("write", i / len(ladder))
        data, stats = gltf.build_glb(level, name=source.stem, quantize=quantize,
                                     compress=options.compress,
                                     position_bits=options.position_bits,
                                     root_extras=root_extras)
        _write_atomic(outdir / f"{name}.glb", data)
        written[name] = {"name": name, "file": f"{name}.glb", "triangles": stats.triangles,
                         "draw_calls": stats.draw_calls, "materials": stats.materials,
                         "bytes": len(data), "error": 0.0,
                         "compressed": options.compress}
        if name == "full":
            parts = [{"node": p.node, "element_id": p.element_id, "ifc_class": p.ifc_class,
                      "triangles": p.triangles,
                      "geometry_hash": fingerprint.part_hash(part, model.offset)}
                     for p, part in zip(stats.parts, model.parts, strict=True)]
    report_progress("write", 1.0)

    if len(ladder) > 1:
        meter = measure.ErrorMeter(*measure.flatten(model), samples=options.measure_samples)
        for i, (name, level) in enumerate(ladder[1:]):
            report_progress("measure", i / (len(ladder) - 1))
            written[name]["error"] = round(meter.error(*measure.flatten(level)), 6)
    report_progress("measure", 1.0)

    levels: list[dict[str, Any]] = [written["full"]]
    for name, _target in targets:
        if name in written:
            levels.append(written[name])
        else:
            alias = written[aliases[name]]
            while alias["name"] not in written:  # pragma: no cover - aliases point at written
                alias = written[aliases[alias["name"]]]
            levels.append({**alias, "name": name})
    infos = [budget.LevelInfo(lv["name"], lv["triangles"], lv["draw_calls"]) for lv in levels]
    rows = budget.report(infos)
    lo, hi = model.bounds()
    manifest: dict[str, Any] = {
        "format": "vrcollab-model",
        "version": 1,
        "source": {"name": source.name, "sha256": sha256_file(source),
                   "bytes": source.stat().st_size, "format": fmt if fmt != "zip"
                   else model.source_format},
        "units": "m",
        "up_axis": "Z" if model.source_format == "ifc" else "Y",
        "offset": [float(x) for x in model.offset],
        "bounds": {"min": [float(x) for x in lo], "max": [float(x) for x in hi]},
        "levels": levels,
        "parts": parts,
        "devices": {r.device: r.as_dict() for r in rows},
        "decimator": options.decimator,
        "compression": "EXT_meshopt_compression+KHR_mesh_quantization" if options.compress
        else ("KHR_mesh_quantization" if quantize else "none"),
    }
    _write_atomic(outdir / "manifest.json",
                  json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
    return ConversionResult(outdir=outdir, manifest=manifest, report=rows)
