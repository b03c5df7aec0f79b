"""Web client load benchmark: time to first rendered frame and to full detail.

Starts a real vrcollab server on 127.0.0.1, uploads each sample model through the REST API
(the conversion job writes the LOD ladder (manifest v1) or the tileset (manifest v2, streamed
with 3d-tiles-renderer)), opens the room in headless Chromium (Debian's,
SwiftShader WebGL: software rendering, so frame rates say nothing about a headset) with a cold
cache, and reads the client's own timings (``window.__vrcollab.info().timings``), the bytes it
downloaded, the draw calls and triangles it ended with, the longest main-thread task seen
during loading and the longest one after the first model frame (while tiles stream), and the JS
heap at full detail. ``gen2k`` / ``gen20k`` are the generated buildings of
``bench/building_gen.py`` (made in ``--gen-dir`` unless already there). With ``--trace DIR``
each run also records a Chromium performance trace (``DIR/<model>-<device>-<run>.json``) and
prints its long tasks after the first frame, attributed (``bench/longtask_trace.py``). Writes
``bench/results/web.md``.

    python bench/web_load_bench.py [--models fzk,duplex,bunny,bunny1m,gen2k,gen20k] [--runs 2]
        [--devices desktop,quest2] [--gen-dir DIR] [--reuse DIR] [--trace DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.corpus import SHARED  # noqa: E402
from tests.server_process import ServerProcess  # noqa: E402
from tests.web.roomkit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    PreparedRoom,
    prepare_room,
    wait_js,
)

OUT = REPO / "bench" / "results" / "web.md"
LONGTASKS = """
window.__longtasks = [];
try {
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) window.__longtasks.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
} catch (e) { /* not supported */ }
"""


def make_bunny_1m(tmp: Path) -> Path:
    """The 1.1M-triangle bunny (two loop subdivisions), as the ingest benchmark makes it."""
    import trimesh

    path = tmp / "bunny-1m.ply"
    if not path.exists():
        mesh = trimesh.load(SHARED / "models" / "mesh" / "stanford-bunny.obj", force="mesh")
        for _ in range(2):
            mesh = mesh.subdivide_loop(iterations=1)
        mesh.export(path)
    return path


def make_building(tmp: Path, elements: int) -> Path:
    """A generated building (``bench/building_gen.py``, deterministic) of ``elements`` elements."""
    path = tmp / f"building-{elements}.ifc"
    if not path.exists():
        # bench/building_gen.py comes with the tiled writer (issue 9); run it as a script.
        subprocess.run([sys.executable, str(REPO / "bench" / "building_gen.py"), str(elements),
                        str(path)], check=True)
    return path


def models(tmp: Path, wanted: list[str], gen_dir: Path | None = None
           ) -> dict[str, tuple[str, Path]]:
    gen = {"gen2k": 2000, "gen20k": 20000, "gen200k": 200000}
    built = {k: (f"generated building ({n:,} elements)", make_building(gen_dir or tmp, n))
             for k, n in gen.items() if k in wanted}
    return {
        **built,
        "fzk": ("AC20-FZK-Haus.ifc (house, 83 elements)", SHARED / "models/ifc/AC20-FZK-Haus.ifc"),
        "duplex": ("duplex.ifc (building, IFC2x3)", SHARED / "models/ifc/duplex.ifc"),
        "bunny": ("stanford-bunny.obj (69k triangles scan)",
                  SHARED / "models/mesh/stanford-bunny.obj"),
        **({"bunny1m": ("bunny 1.1M (2x loop subdivision)", make_bunny_1m(tmp))}
           if "bunny1m" in wanted else {}),
    }


def measure(browser: Any, room: PreparedRoom, device: str,
            trace: Path | None = None, limit_s: float = 300) -> dict[str, Any]:
    """One cold load of ``room`` at ``device`` class (full detail within ``limit_s``, else an
    AssertionError saying how far it got); with ``trace``, a Chromium performance trace of it
    is written there and its long tasks after the first frame are printed."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script(LONGTASKS)
    page = ctx.new_page()
    if trace is not None:
        from longtask_trace import CATEGORIES

        browser.start_tracing(page=page, path=str(trace), categories=CATEGORIES)
    t0 = time.perf_counter()
    page.goto(room.url(room.owner_token, name="Bench", lod=device, quality="high"))
    wait_js(page, "window.__vrcollab?.info && "
                  "window.__vrcollab.info().timings.full_detail_frame_ms",
            timeout=limit_s, interval=0.05)
    wall = (time.perf_counter() - t0) * 1000
    if trace is not None:
        # what streams and draws after full detail (settling) is in the trace too
        page.wait_for_timeout(1500)
        browser.stop_tracing()
    info = page.evaluate("window.__vrcollab.info()")
    transfer = page.evaluate(
        "performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/versions/'))"
        ".reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0)")
    tasks = page.evaluate("window.__longtasks")
    heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
    ctx.close()
    t = info["timings"]
    first_frame_at = t["app_start_ms"] + t["first_model_frame_ms"]
    after_cpu = None
    if trace is not None:
        import json

        from longtask_trace import navigation_start_ms, report, summarise

        print(f"{trace.name}: first frame at {first_frame_at:.0f} ms; tasks over 50 ms after it:\n"
              + report(trace, after_ms=first_frame_at), flush=True)
        data = json.loads(trace.read_text())
        nav = navigation_start_ms(data) or 0.0
        # the main thread's own CPU time in the tasks after the first frame (over 10 ms)
        after_cpu = max([tk.cpu_ms for tk in summarise(data, over_ms=10)
                         if tk.start_ms - nav >= first_frame_at], default=0.0)
    longest = max([d for _, d in tasks], default=0.0)
    after = max([d for s, d in tasks if s >= first_frame_at], default=0.0)
    first_parsed = info["model"]["level_times"][0]["parsed_ms"]
    tiles = info["model"].get("tiles")
    return {
        "first_frame_ms": t["first_model_frame_ms"], "full_ms": t["full_detail_frame_ms"],
        "parsed_ms": first_parsed,
        "wall_ms": wall, "levels": "→".join(info["model"]["levels_loaded"]),
        "triangles": info["scene"]["triangles"], "calls": info["scene"]["calls"],
        "kb": transfer / 1024, "longtask_ms": longest, "after_ms": after,
        "after_cpu_ms": after_cpu,
        "heap_mb": heap / 2**20,
        "tiles": f"{tiles['tiles_visible']}/{tiles['tiles_loaded']}" if tiles else "-",
        "tile_js_ms": tiles["tile_js_max_ms"] if tiles else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="fzk,duplex,bunny,bunny1m")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--devices", default="desktop,quest2")
    ap.add_argument("--gen-dir", type=Path, default=None,
                    help="where the generated buildings are (made there when missing)")
    ap.add_argument("--reuse", type=Path, action="append", default=[],
                    help="the server's job copies a matching earlier `vrcollab convert` output "
                         "from this dir instead of converting (scale_bench.reuse_conversion)")
    ap.add_argument("--page-timeout", type=float, default=300,
                    help="seconds a page load may take to full detail")
    ap.add_argument("--trace", type=Path, default=None,
                    help="record a Chromium trace per run into this directory")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from browser_watchdog import Watchdog

    if args.trace:
        args.trace.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    started = time.time()
    rows: list[str] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        catalog = models(tmp, args.models.split(","), args.gen_dir)
        here = Path(__file__).resolve().parent
        env = {} if not args.reuse else {
            "VRCOLLAB_JOB_CONVERTER": "scale_bench:reuse_conversion",
            "VRCOLLAB_BENCH_PREPARED": ":".join(str(d) for d in args.reuse),
            "PYTHONPATH": os.pathsep.join([str(REPO), str(here),
                                           os.environ.get("PYTHONPATH", "")]),
        }
        srv = ServerProcess(tmp / "server", env=env)
        srv.start()
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for key in args.models.split(","):
                    label, path = catalog[key]
                    t_conv = time.perf_counter()
                    room = prepare_room(srv, path, timeout=900)
                    conv_s = time.perf_counter() - t_conv
                    for device in args.devices.split(","):
                        runs = []
                        for i in range(args.runs):
                            # a page that never yields cannot hold the run (browser_watchdog)
                            with Watchdog(args.page_timeout + 60, f"{key} {device} run {i}"):
                                runs.append(measure(browser, room, device,
                                                    args.trace / f"{key}-{device}-{i}.json"
                                                    if args.trace else None,
                                                    limit_s=args.page_timeout))
                            r = runs[-1]
                            print(f"run {key} {device} {i}: first frame {r['first_frame_ms']:.0f}"
                                  f" full {r['full_ms']:.0f} settled {r['wall_ms']:.0f} longest"
                                  f" {r['longtask_ms']:.0f} after first frame {r['after_ms']:.0f}"
                                  f" (most CPU in one task after it {r['after_cpu_ms']})"
                                  f" heap {r['heap_mb']:.0f} MB calls {r['calls']} triangles"
                                  f" {r['triangles']} KB {r['kb']:.0f} load {os.getloadavg()}",
                                  flush=True)
                        med = {k: statistics.median(r[k] for r in runs)
                               for k in ("first_frame_ms", "full_ms", "wall_ms", "kb",
                                         "longtask_ms", "parsed_ms", "after_ms", "heap_mb")}
                        last = runs[-1]
                        rows.append(
                            f"| {label} | {device} | {last['levels']} | "
                            f"{med['parsed_ms']:.0f} | "
                            f"{med['first_frame_ms']:.0f} | {med['full_ms']:.0f} | "
                            f"{med['kb']:.0f} | {last['triangles']:,} | {last['calls']} | "
                            f"{med['longtask_ms']:.0f} | {med['after_ms']:.0f} | "
                            f"{med['heap_mb']:.0f} | {last['tiles']} | "
                            f"{'-' if last['tile_js_ms'] is None else last['tile_js_ms']} | "
                            f"{conv_s:.0f} |")
                        print(rows[-1], flush=True)
                browser.close()
        finally:
            srv.stop()
    load = os.getloadavg()
    text = "\n".join([
        "# Web client load benchmark",
        "",
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- machine: {os.cpu_count()} cores, {platform.machine()}, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} (shared machine, other jobs running)",
        "- browser: Debian Chromium, headless, WebGL through SwiftShader (software): times "
        "include CPU rendering of every frame, so a GPU is faster; fps is not meaningful here",
        f"- method: real server on 127.0.0.1, model uploaded and converted by the job runner, "
        f"fresh browser context per run (cold cache), median of {args.runs} runs; "
        "`lod=` forces the device class",
        "- first level decoded: page start to the coarsest level downloaded and decoded "
        "(meshopt in workers); first frame: to the first frame drawn with model geometry; "
        "full detail: to the first frame drawn with the level the manifest picks for the device "
        "(tiled: once no tile is queued, downloading or parsing); longest task after first "
        "frame: PerformanceObserver `longtask` entries that start after the first model frame "
        "(in SwiftShader each drawn frame is itself a main-thread task of 100-300 ms for a few "
        "100k triangles); tiles: visible/loaded; client JS per tile: the longest synchronous "
        "step of the client's own per-tile work (feature ids, state hooks); first level "
        "decoded on tiled rows: the first tile decoded",
        f"- command: python bench/web_load_bench.py --models {args.models} --runs {args.runs}"
        f" --devices {args.devices}"
        f" ({time.time() - started:.0f} s)",
        "",
        "| model | device | levels loaded | first level decoded ms | first frame ms | "
        "full detail ms | KB downloaded | triangles drawn | draw calls | longest task ms | "
        "longest task after first frame ms | JS heap MB | tiles | client JS per tile ms | "
        "convert s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
        *rows,
        "",
    ])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
