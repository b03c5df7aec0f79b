"""Conversion at scale: vrcollab (tiled v2) vs That Open Fragments, side by side.

For the generated buildings (bench/building_gen.py: 2k / 20k / 200k elements) and the real IFC
files in ../shared/models/ifc, each converter runs as a subprocess; the bench samples its peak
RSS (process tree) and reports wall time, peak memory, output bytes and ratios. That Open runs
its ``IfcImporter`` (web-ifc) in node from bench/thatopen (``npm install`` there first).
Results go to bench/results/scale.md.

    python bench/scale_bench.py [--sizes 2000,20000] [--skip-thatopen]
        [--out bench/results/scale.md]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED_IFC = ROOT / ".." / "shared" / "models" / "ifc"
THATOPEN = HERE / "thatopen"


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 timeout: float = 3600) -> tuple[float, float, int, str, float]:
    """(wall s, peak RSS MB of the process tree, exit code, stderr tail, CPU s) of ``cmd``.

    CPU seconds (user + system of the process and its threads/children, from
    ``getrusage(RUSAGE_CHILDREN)``) are the steadier figure on a shared machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            text=True)
    ps = psutil.Process(proc.pid)
    peak = 0.0
    while proc.poll() is None:
        try:
            rss = ps.memory_info().rss + sum(c.memory_info().rss
                                             for c in ps.children(recursive=True))
            peak = max(peak, rss / 1e6)
        except psutil.Error:
            pass
        if time.perf_counter() - t0 > timeout:
            proc.kill()
        time.sleep(0.05)
    err = proc.stderr.read() if proc.stderr else ""
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, peak, proc.returncode, err[-400:], cpu


def dir_bytes(path: Path) -> int:
    """Total bytes of the files under ``path``."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def bench_vrcollab(src: Path, out: Path) -> dict[str, Any]:
    """One vrcollab conversion (CLI, default tiled layout)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    shutil.rmtree(out, ignore_errors=True)
    wall, peak, rc, err, cpu = run_measured(
        [sys.executable, "-m", "vrcollab.cli", "convert", str(src), "-o", str(out), "-q"], env)
    row: dict[str, Any] = {"tool": "vrcollab", "wall_s": wall, "peak_mb": peak, "rc": rc,
                           "cpu_s": cpu}
    if rc == 0:
        m = json.loads((out / "manifest.json").read_text())
        st = m["stats"]
        row.update(bytes=dir_bytes(out), tiles=st["tiles"], triangles=st["triangles"],
                   stored=st["triangles_stored"], json_pct=100 * st["gltf_json_bytes"]
                   / max(st["tile_bytes"], 1), elements=m["elements"]["count"],
                   levels=[(lv["depth"], lv["triangles"]) for lv in m["levels"]],
                   devices={k: (v["status"], v["triangles"], v["draw_calls"])
                            for k, v in m["devices"].items()})
    else:
        row["error"] = err
    return row


def bench_thatopen(src: Path, out: Path) -> dict[str, Any]:
    """One That Open Fragments conversion (IfcImporter in node)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    wall, peak, rc, err, cpu = run_measured(["node", str(THATOPEN / "convert.mjs"), str(src),
                                             str(out)])
    row: dict[str, Any] = {"tool": "thatopen", "wall_s": wall, "peak_mb": peak, "rc": rc,
                           "cpu_s": cpu}
    if rc == 0 and out.is_file():
        row["bytes"] = out.stat().st_size
    else:
        row["error"] = err
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the bench and write the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,20000")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vrcollab-scale-bench"))
    ap.add_argument("--skip-thatopen", action="store_true")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scale.md")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import building_gen

    args.work.mkdir(parents=True, exist_ok=True)
    inputs: list[Path] = []
    for n in [int(x) for x in args.sizes.split(",") if x]:
        path = args.work / f"building-{n}.ifc"
        if not path.is_file():
            building_gen.generate(n, path)
        inputs.append(path)
    if SHARED_IFC.is_dir():
        inputs += sorted(SHARED_IFC.glob("*.ifc"))
    rows: list[tuple[Path, dict[str, Any], dict[str, Any] | None]] = []
    for src in inputs:
        v = bench_vrcollab(src, args.work / "vrcollab" / src.stem)
        t = None if args.skip_thatopen else bench_thatopen(
            src, args.work / "thatopen" / f"{src.stem}.frag")
        rows.append((src, v, t))
        print(src.name, v, t, file=sys.stderr)
    lines = ["# Conversion at scale: vrcollab (tiled v2) vs That Open Fragments", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on a shared 2-core "
             "machine (other sessions running: wall times are noisy). `python "
             "bench/scale_bench.py`.", "",
             "| input | MB | elements | vrcollab s (CPU s) | That Open s (CPU s) | time ratio "
             "(CPU ratio) | vrcollab peak MB "
             "| That Open peak MB | vrcollab KB | That Open KB | bytes ratio | tiles | triangles "
             "(stored) | glTF JSON % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for src, v, t in rows:
        to_s = f"{t['wall_s']:.1f} ({t['cpu_s']:.1f})" if t and t.get("rc") == 0 else "n/a"
        to_mb = f"{t['peak_mb']:.0f}" if t and t.get("rc") == 0 else "n/a"
        to_kb = f"{t['bytes'] / 1024:.0f}" if t and "bytes" in t else "n/a"
        ratio_t = (f"{v['wall_s'] / t['wall_s']:.2f} ({v['cpu_s'] / max(t['cpu_s'], 1e-9):.2f})"
                   if t and t.get("rc") == 0 else "n/a")
        ratio_b = (f"{v['bytes'] / t['bytes']:.2f}" if t and "bytes" in t and "bytes" in v
                   else "n/a")
        if v["rc"] != 0:
            lines.append(f"| {src.name} | | | failed: {v.get('error', '')[:80]} |")
            continue
        lines.append(
            f"| {src.name} | {src.stat().st_size / 1e6:.1f} | {v['elements']:,} | "
            f"{v['wall_s']:.1f} ({v['cpu_s']:.1f}) | {to_s} | {ratio_t} | "
            f"{v['peak_mb']:.0f} | {to_mb} | "
            f"{v['bytes'] / 1024:.0f} | {to_kb} | {ratio_b} | {v['tiles']} | "
            f"{v['triangles']:,} ({v['stored']:,}) | {v['json_pct']:.1f} |")
    lines += ["", "Triangles per tileset depth and the device report (status, triangles, draw "
              "calls at the start view):", ""]
    for src, v, _ in rows:
        if v["rc"] == 0:
            lines.append(f"- {src.name}: depths {v['levels']}; devices {v['devices']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
