"""Ingest benchmark: vrcollab's pipeline vs gltfpack vs a plain Open3D pipeline, side by side.

Inputs (made here, same files for every peer):
- ``bunny1m.glb``: the Stanford bunny loop-subdivided twice (1.11M triangles), a dense scan;
- ``fandisk.obj``: a CAD part (12.9k triangles);
- ``duplex.glb``: the duplex IFC building, turned into a plain GLB by vrcollab's loader
  (gltfpack and Open3D cannot read IFC); vrcollab's own IFC-to-levels run is a separate row.

Each peer runs in its own subprocess under a small wrapper that reports wall time and the peak
RSS of its child (``resource.getrusage(RUSAGE_CHILDREN)``), so memory is measured per peer.
All peers get the same triangle target (gltfpack ``-si`` = target / input triangles, ``-cc``).
Geometric error: each output is decoded (meshopt -> plain), loaded with trimesh and measured
against the input with the same symmetric sampled Hausdorff meter (/ bounding-box diagonal).

Run: ``.venv/bin/python bench/ingest_bench.py`` (writes bench/results/ingest.md).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / ".." / "shared" / "models"
GLTFPACK = ROOT / "clients" / "web" / "node_modules" / ".bin" / "gltfpack"
RESULTS = ROOT / "bench" / "results" / "ingest.md"
PY = sys.executable

WRAPPER = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
rss = usage.ru_maxrss * 1024
print(json.dumps({"wall": wall, "rss": rss, "cpu": usage.ru_utime + usage.ru_stime,
                  "rc": proc.returncode,
                  "err": proc.stderr.decode(errors="replace")[-400:]}))
"""

OPEN3D = """
import sys
import open3d as o3d
src, dst, target = sys.argv[1], sys.argv[2], int(sys.argv[3])
mesh = o3d.io.read_triangle_mesh(src)
out = mesh.simplify_quadric_decimation(target_number_of_triangles=target)
ok = o3d.io.write_triangle_mesh(dst, out)
sys.exit(0 if ok else 1)
"""


@dataclass
class Row:
    """One peer on one input."""

    case: str
    peer: str
    wall: float
    cpu: float
    rss: int
    size: int
    triangles: int
    error: float
    note: str = ""


def run_measured(cmd: list[str]) -> dict[str, float]:
    """Run ``cmd`` under the wrapper; wall seconds, peak RSS bytes, return code."""
    out = subprocess.run([PY, "-c", WRAPPER, *cmd], capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if res["rc"] != 0:
        raise RuntimeError(f"{cmd[0]} failed ({res['rc']}): {res['err']}")
    return res


def load_triangles(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """All triangles of a mesh file in world space (GLBs decoded from meshopt first)."""
    from vrcollab.ingest.compress import decode_glb

    if path.suffix == ".glb":
        data = decode_glb(path.read_bytes())
        scene = trimesh.load(trimesh.util.wrap_as_stream(data), file_type="glb", force="scene",
                             process=False)
    else:
        scene = trimesh.load(str(path), force="scene", process=False)
    vs, fs, base = [], [], 0
    for node in scene.graph.nodes_geometry:
        transform, name = scene.graph[node]
        geom = scene.geometry[name]
        if not isinstance(geom, trimesh.Trimesh):
            continue
        vs.append(trimesh.transformations.transform_points(geom.vertices, transform))
        fs.append(np.asarray(geom.faces) + base)
        base += len(geom.vertices)
    return np.concatenate(vs), np.concatenate(fs)


def prepare(work: Path) -> list[tuple[str, Path, float]]:
    """The benchmark inputs: (case name, file, target ratio)."""
    from vrcollab.ingest.convert import convert
    from vrcollab.ingest.pipeline import ConvertOptions

    bunny = work / "bunny1m.glb"
    if not bunny.exists():
        src = trimesh.load(str(MODELS / "mesh" / "stanford-bunny.obj"), process=False)
        src.merge_vertices()
        v, f = trimesh.remesh.subdivide_loop(src.vertices, src.faces, iterations=2)
        trimesh.Trimesh(v, f, process=False).export(bunny)
    duplex = work / "duplex.glb"
    if not duplex.exists():
        convert(MODELS / "ifc" / "duplex.ifc", work / "duplex", ConvertOptions(
            compress=False, levels=()))
        shutil.copy(work / "duplex" / "full.glb", duplex)
    return [("bunny 1.1M (scan)", bunny, 0.25), ("fandisk (CAD part)", MODELS / "mesh" /
            "fandisk.obj", 0.25), ("duplex (building)", duplex, 0.5)]


def bench_case(case: str, src: Path, ratio: float, work: Path) -> list[Row]:
    """Run every peer on one input."""
    from vrcollab.ingest.measure import ErrorMeter

    ref = load_triangles(src)
    target = int(len(ref[1]) * ratio)
    meter = ErrorMeter(*ref)
    rows: list[Row] = []
    out = work / case.split()[0]
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)

    def add(peer: str, res: dict[str, float], path: Path, note: str = "") -> None:
        v, f = load_triangles(path)
        rows.append(Row(case, peer, res["wall"], res["cpu"], int(res["rss"]),
                        path.stat().st_size, len(f), meter.error(v, f), note))

    ours = out / "vrcollab"
    res = run_measured([PY, "-m", "vrcollab.cli", "convert", str(src), "-o", str(ours),
                        "--levels", f"target={target}", "--units", "m", "-q", "--json"])
    manifest = json.loads((ours / "manifest.json").read_text())
    level = next(lv for lv in manifest["levels"] if lv["name"] == "target")
    add("vrcollab", res, ours / level["file"], "also writes full.glb, measures error")
    gp = out / "gltfpack.glb"
    res = run_measured([str(GLTFPACK), "-i", str(src), "-o", str(gp), "-si", f"{ratio:.6f}",
                        "-cc"])
    add("gltfpack -cc", res, gp)
    if "duplex" in case:  # keep nodes and extras, as vrcollab does (element identity)
        gpk = out / "gltfpack-kn-ke.glb"
        res = run_measured([str(GLTFPACK), "-i", str(src), "-o", str(gpk), "-si",
                            f"{ratio:.6f}", "-cc", "-kn", "-ke"])
        add("gltfpack -cc -kn -ke", res, gpk, "keeps named nodes and extras")
    o3 = out / "open3d.glb"
    res = run_measured([PY, "-c", OPEN3D, str(src), str(o3), str(target)])
    add("open3d", res, o3, "float GLB, no compression")
    return rows


def table(rows: list[Row]) -> str:
    """Markdown table with ratios to gltfpack (-cc, defaults) per case."""
    head = ("| input | peer | wall s | CPU s | peak RSS MB | output KB | triangles | error % diag"
            " | CPU / gltfpack | memory / gltfpack | bytes / gltfpack | error / gltfpack |\n"
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
    lines = []
    for r in rows:
        gp = next(x for x in rows if x.case == r.case and x.peer == "gltfpack -cc")
        err_ratio = r.error / gp.error if gp.error > 0 else float("nan")
        lines.append(
            f"| {r.case} | {r.peer} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss / 2**20:.0f} | "
            f"{r.size / 1024:.0f} | {r.triangles:,} | {100 * r.error:.3f} | "
            f"{r.cpu / gp.cpu:.2f} | {r.rss / gp.rss:.2f} | {r.size / gp.size:.2f} | "
            f"{err_ratio:.2f} |")
    return head + "\n".join(lines) + "\n"


def decimator_table(inputs: list[tuple[str, Path, float]]) -> str:
    """vrcollab's decimation backends in-process on the repaired inputs: time and error at
    equal triangle count (meshoptimizer's error cap lifted so every backend hits the target)."""
    from vrcollab.ingest.decimate import DECIMATORS, decimate
    from vrcollab.ingest.measure import ErrorMeter, flatten
    from vrcollab.ingest.pipeline import ConvertOptions, load_model

    lines = ["| input | decimator | seconds | triangles | error % diag |",
             "|---|---|---:|---:|---:|"]
    for case, src, ratio in inputs:
        model = load_model(src, ConvertOptions(units="m"))
        meter = ErrorMeter(*flatten(model))
        target = int(model.triangles * ratio)
        for backend in DECIMATORS:
            t = time.process_time()
            level = decimate(model, target, backend, max_error=1.0)
            seconds = time.process_time() - t
            err = meter.error(*flatten(level))
            lines.append(f"| {case} | {backend} | {seconds:.2f} | {level.triangles:,} | "
                         f"{100 * err:.3f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    """Run the benchmark, print the table and write it to bench/results/ingest.md."""
    if not GLTFPACK.exists():
        print("gltfpack missing: run `./dev setup` (npm ci in clients/web)", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="vrcollab-bench-") as tmp:
        work = Path(os.environ.get("VRCOLLAB_BENCH_DIR", tmp))
        work.mkdir(parents=True, exist_ok=True)
        started = time.time()
        rows: list[Row] = []
        inputs = prepare(work)
        for case, src, ratio in inputs:
            rows.extend(bench_case(case, src, ratio, work))
        decimators = decimator_table(inputs)
        # vrcollab straight from IFC, default ladder (a row of its own: the peers cannot do it)
        ifc = work / "duplex-ifc"
        res = run_measured([PY, "-m", "vrcollab.cli", "convert",
                            str(MODELS / "ifc" / "duplex.ifc"), "-o", str(ifc), "-q"])
        m = json.loads((ifc / "manifest.json").read_text())
        text = table(rows)
        extra = (f"\nvrcollab on duplex.ifc directly (IFC parse + default ladder): "
                 f"{res['wall']:.2f} s, peak RSS {res['rss'] / 2**20:.0f} MB, "
                 f"{m['levels'][0]['triangles']:,} triangles, {len(m['parts'])} parts, "
                 f"full.glb {m['levels'][0]['bytes'] / 1024:.0f} KB.\n")
        load = os.getloadavg()
        header = (f"# Ingest benchmark\n\nMachine: {os.cpu_count()} cores, load average "
                  f"{load[0]:.1f} at the end (shared machine: absolute times are noisy, "
                  f"ratios are what to read). Total {time.time() - started:.0f} s.\n\n")
        report = (header + text + extra + "\n## Decimation backends (CPU seconds, same "
                  "process, equal triangle targets)\n\n" + decimators)
        print(report)
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
