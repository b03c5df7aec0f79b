"""Conversion at scale: vrcollab (tiled v2) vs That Open Fragments, side by side.

For the generated buildings (bench/building_gen.py: 2k / 20k / 200k elements) and the real IFC
files in ../shared/models/ifc, each converter runs as a subprocess; the bench samples its peak
RSS (process tree) and reports wall time, peak memory, output bytes and ratios. That Open runs
its ``IfcImporter`` (web-ifc) in node from bench/thatopen (``npm install`` there first).
Results go to bench/results/scale.md.

    python bench/scale_bench.py [--sizes 2000,20000] [--skip-thatopen]
        [--out bench/results/scale.md]
    python bench/scale_bench.py --viewer-only [--runs 2] [--page-timeout 300]
        [--reuse-conversions DIR]

The viewer comparison cannot hang: each page load has ``--page-timeout`` seconds to full
detail, and a watchdog (bench/browser_watchdog.py) kills the browser when a page stops
answering at all (Playwright's ``evaluate`` has no timeout of its own, and a page whose main
thread never yields held earlier runs for good); the row then says which step failed.
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


def dir_bytes(path: Path, skip: tuple[str, ...] = ()) -> int:
    """Total bytes of the files under ``path`` (less the top-level files named in ``skip``)."""
    return sum(p.stat().st_size for p in path.rglob("*")
               if p.is_file() and p.relative_to(path).as_posix() not in skip)


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
        # what the viewer downloads: all but the server-side geometry hashes (elements.hash,
        # read once by re-anchoring when the conversion finishes)
        viewer = dir_bytes(out, (str(m["elements"].get("hashes", "")),))
        row.update(bytes=viewer, all_bytes=dir_bytes(out), table_bytes=viewer - st["tile_bytes"],
                   tile_bytes=st["tile_bytes"], tiles=st["tiles"], triangles=st["triangles"],
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


class _Static:
    """bench/thatopen (the viewer page and its node_modules) and ``/frag/<name>`` from the work
    directory, over HTTP on 127.0.0.1 (a thread)."""

    def __init__(self, frags: Path) -> None:
        import functools
        import threading
        from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

        class Handler(SimpleHTTPRequestHandler):
            def translate_path(self, path: str) -> str:
                if path.startswith("/frag/"):
                    return str(frags / Path(path.split("?")[0]).name)
                return super().translate_path(path)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Handler, directory=str(THATOPEN)))
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def thatopen_view(browser: Any, static: _Static, frag: Path,
                  limit_s: float = 300) -> dict[str, Any]:
    """That Open's own viewer (bench/thatopen/viewer.html) loading ``frag``: first frame, full
    detail, longest task, JS heap, draw calls (the same measures as web_load_bench). No full
    detail within ``limit_s``: the result carries an error saying so."""
    from web_load_bench import LONGTASKS

    ctx = browser.new_context(viewport={"width": 1280, "height": 800})
    ctx.add_init_script(LONGTASKS)
    page = ctx.new_page()
    page.goto(f"http://127.0.0.1:{static.port}/viewer.html?frag=/frag/{frag.name}")
    deadline = time.time() + limit_s
    b: dict[str, Any] = {}
    while True:
        b = page.evaluate("window.__bench || {}")
        if b.get("full_ms") is not None or b.get("error"):
            break
        if time.time() > deadline:
            b["error"] = (f"no full detail in {limit_s:.0f} s (first frame "
                          f"{b.get('first_frame_ms')} ms, {b.get('triangles')} triangles)")
            break
        time.sleep(0.1)
    tasks = page.evaluate("window.__longtasks")
    heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0")
    transfer = page.evaluate(
        "performance.getEntriesByType('resource').filter((e) => e.name.includes('/frag/'))"
        ".reduce((s, e) => s + (e.transferSize || e.encodedBodySize || 0), 0)")
    ctx.close()
    first = b.get("first_frame_ms") or 0.0
    return {"first_frame_ms": b.get("first_frame_ms"), "full_ms": b.get("full_ms"),
            "longtask_ms": max([d for _, d in tasks], default=0.0),
            "after_ms": max([d for s, d in tasks if s >= first], default=0.0),
            "heap_mb": heap / 2**20, "calls": b.get("calls"), "triangles": b.get("triangles"),
            "kb": transfer / 1024, "error": b.get("error")}


def reuse_conversion(source: Path, outdir: Path, options: dict[str, Any],
                     progress: Any) -> Any:
    """Job converter for ``--reuse-conversions`` (the server runs it in its job subprocess):
    copy an earlier ``vrcollab convert`` output of the same source (manifest ``source.sha256``)
    from ``$VRCOLLAB_BENCH_PREPARED`` (':'-separated output dirs, or parents of them) instead of
    converting again; convert as usual when none matches."""
    import hashlib

    from vrcollab.jobs.convert import convert_for_job

    h = hashlib.sha256()
    with source.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    digest = h.hexdigest()
    dirs: list[Path] = []
    for d in (Path(x) for x in os.environ.get("VRCOLLAB_BENCH_PREPARED", "").split(":") if x):
        dirs += [d] if (d / "manifest.json").is_file() else sorted(d.glob("*/"))
    for d in dirs:
        try:
            m = json.loads((d / "manifest.json").read_text())
        except (OSError, ValueError):
            continue
        if m.get("source", {}).get("sha256") == digest:
            progress("reuse", 50.0)
            shutil.copytree(d, outdir, dirs_exist_ok=True)
            return None
    return convert_for_job(source, outdir, options, progress)


def _browser_rss_mb() -> float:
    """RSS of every Chromium process under this bench (browser, renderers, GPU), in MB."""
    me = psutil.Process()
    total = 0
    for p in me.children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                total += p.memory_info().rss
        except psutil.Error:
            pass
    return total / 1e6


def vrcollab_view(browser: Any, room: Any, limit_s: float = 300) -> dict[str, Any]:
    """vrcollab's client (desktop class) on ``room``: web_load_bench's measures plus what the
    tiles renderer selected (error target, triangle budget) and the browser's RSS at full
    detail (peak over the load, sampled while waiting)."""
    import threading

    from web_load_bench import measure

    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _browser_rss_mb())
            done.wait(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        res = measure(browser, room, "desktop", limit_s=limit_s)
    finally:
        done.set()
        th.join()
    res["rss_mb"] = peak[0]
    return res


def viewers(inputs: list[Path], work: Path, runs: int,
            reuse: list[Path] | None = None, page_limit_s: float = 300,
            convert_limit_s: float = 3600) -> list[str]:
    """Side by side in one headless Chromium: vrcollab's client (real server, the model
    uploaded and converted by the job runner; with ``reuse``, the job copies a matching earlier
    conversion from those dirs, see :func:`reuse_conversion`) and That Open's viewer loading its
    .frag. Every page load has ``page_limit_s`` (a watchdog kills the browser past it, so a page
    that never yields cannot hold the run: the row says which step timed out, and the next
    step gets a new browser); every conversion ``convert_limit_s``."""
    from browser_watchdog import BrowserTimeoutError, Watchdog, launch
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT))

    from tests.server_process import ServerProcess
    from tests.web.roomkit import CHROMIUM, CHROMIUM_ARGS, prepare_room

    def step(what: str, fn: Any) -> dict[str, Any]:
        """One page load under the watchdog; a failure is a result with an error."""
        nonlocal browser
        print(f"viewer: {what}", file=sys.stderr, flush=True)
        try:
            # (a margin over the page's own limits: their clear message comes first)
            with Watchdog(page_limit_s + 60, what):
                res: dict[str, Any] = fn(browser)
                return res
        except BrowserTimeoutError as err:
            browser = launch(pw, CHROMIUM, CHROMIUM_ARGS)
            return {"error": str(err), "full_ms": None}
        except Exception as err:  # a failed load is a row, not the end of the run
            return {"error": f"{what}: {type(err).__name__}: {str(err)[:200]}", "full_ms": None}

    rows: list[str] = []
    static = _Static(work / "thatopen")
    env = {} if not reuse else {
        "VRCOLLAB_JOB_CONVERTER": "scale_bench:reuse_conversion",
        "VRCOLLAB_BENCH_PREPARED": ":".join(str(d) for d in reuse),
        "VRCOLLAB_JOB_TIMEOUT_S": "7200",
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE), os.environ.get("PYTHONPATH", "")]),
    }
    srv = ServerProcess(work / "server", env=env)
    srv.start()
    try:
        with sync_playwright() as pw:
            browser = launch(pw, CHROMIUM, CHROMIUM_ARGS)
            for src in inputs:
                frag = work / "thatopen" / f"{src.stem}.frag"
                print(f"viewer: {src.name}: converting on the server (at most "
                      f"{convert_limit_s:.0f} s)", file=sys.stderr, flush=True)
                try:
                    room = prepare_room(srv, src, timeout=convert_limit_s)
                except RuntimeError as err:
                    rows.append(f"| {src.name} | vrcollab | failed: {str(err)[:80]} |")
                    continue
                ours = [step(f"vrcollab view of {src.name} (run {i + 1})",
                             lambda b, r=room: vrcollab_view(b, r, page_limit_s))
                        for i in range(runs)]
                theirs = [step(f"That Open view of {frag.name} (run {i + 1})",
                               lambda b, f=frag: thatopen_view(b, static, f, page_limit_s))
                          for i in range(runs)] if frag.is_file() else []
                for tool, res in (("vrcollab", ours), ("That Open", theirs)):
                    if not res or any(r.get("error") or r["full_ms"] is None for r in res):
                        err = next((r.get("error") for r in res if r.get("error")),
                                   "no .frag" if not res else "no full detail")
                        rows.append(f"| {src.name} | {tool} | failed: {str(err)[:120]} |")
                        print(rows[-1], file=sys.stderr, flush=True)
                        continue
                    keys = ["first_frame_ms", "full_ms", "longtask_ms", "after_ms", "heap_mb",
                            "kb"] + (["wall_ms", "rss_mb"] if tool == "vrcollab" else [])
                    med = {k: sorted(r[k] for r in res)[len(res) // 2] for k in keys}
                    last = res[-1]
                    extra = (f"{med['wall_ms']:.0f} | {med['rss_mb']:.0f} | {last['tiles']}"
                             if tool == "vrcollab" else "- | - | -")
                    rows.append(
                        f"| {src.name} | {tool} | {med['first_frame_ms']:.0f} | "
                        f"{med['full_ms']:.0f} | {extra} | {med['longtask_ms']:.0f} | "
                        f"{med['after_ms']:.0f} | {med['heap_mb']:.0f} | {last['calls']} | "
                        f"{last['triangles']:,} | {med['kb']:.0f} |")
                    print(rows[-1], file=sys.stderr, flush=True)
            browser.close()
    finally:
        srv.stop()
        static.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the bench and write the markdown table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="2000,20000")
    ap.add_argument("--work", type=Path, default=Path("/tmp/vrcollab-scale-bench"))
    ap.add_argument("--skip-thatopen", action="store_true")
    ap.add_argument("--viewer", action="store_true",
                    help="also load both viewers in headless Chromium (generated buildings)")
    ap.add_argument("--viewer-only", action="store_true",
                    help="only the viewer comparison (the .frag files from an earlier run)")
    ap.add_argument("--runs", type=int, default=1, help="viewer runs per model (median)")
    ap.add_argument("--page-timeout", type=float, default=300,
                    help="viewer: seconds one page load may take to full detail (then the row "
                         "says it failed and the run goes on)")
    ap.add_argument("--convert-timeout", type=float, default=3600,
                    help="viewer: seconds the server's conversion job may take")
    ap.add_argument("--reuse-conversions", type=Path, action="append", default=None,
                    help="viewer: copy a matching earlier conversion from this dir (repeatable; "
                    "an output dir or a parent of several) instead of converting again")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "scale.md")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(HERE))
    import building_gen

    args.work.mkdir(parents=True, exist_ok=True)
    inputs: list[Path] = []
    for n in [int(x) for x in args.sizes.split(",") if x]:
        path = args.work / f"building-{n}.ifc"
        if not path.is_file() and args.viewer_only:
            # the viewer comparison uses what an earlier run (or a colleague) generated: the
            # 200k building alone takes longer to generate than a locked bench run may last
            print(f"{path} missing: skipped (generate it with bench/building_gen.py)",
                  file=sys.stderr)
            continue
        if not path.is_file():
            building_gen.generate(n, path)
        inputs.append(path)
    generated = list(inputs)
    if args.viewer_only:
        return _write_viewers(args, viewers(generated, args.work, args.runs,
                                            args.reuse_conversions, args.page_timeout,
                                            args.convert_timeout))
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
             "vrcollab KB is what the viewer downloads (manifest, tileset, tiles, element table, "
             "all property chunks); *all files* adds the server-side geometry hashes "
             "(elements.hash, 32 B per element, read once by re-anchoring). That Open KB is its "
             "one .frag (geometry, GlobalIds, properties).", "",
             "| input | MB | elements | vrcollab s (CPU s) | That Open s (CPU s) | time ratio "
             "(CPU ratio) | vrcollab peak MB "
             "| That Open peak MB | vrcollab KB (tiles + table) | all files KB | That Open KB "
             "| bytes ratio (all files) | tiles | triangles (stored) | glTF JSON % |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for src, v, t in rows:
        to_s = f"{t['wall_s']:.1f} ({t['cpu_s']:.1f})" if t and t.get("rc") == 0 else "n/a"
        to_mb = f"{t['peak_mb']:.0f}" if t and t.get("rc") == 0 else "n/a"
        to_kb = f"{t['bytes'] / 1024:.0f}" if t and "bytes" in t else "n/a"
        ratio_t = (f"{v['wall_s'] / t['wall_s']:.2f} ({v['cpu_s'] / max(t['cpu_s'], 1e-9):.2f})"
                   if t and t.get("rc") == 0 else "n/a")
        ratio_b = (f"{v['bytes'] / t['bytes']:.2f} ({v['all_bytes'] / t['bytes']:.2f})"
                   if t and "bytes" in t and "bytes" in v else "n/a")
        if v["rc"] != 0:
            lines.append(f"| {src.name} | | | failed: {v.get('error', '')[:80]} |")
            continue
        lines.append(
            f"| {src.name} | {src.stat().st_size / 1e6:.1f} | {v['elements']:,} | "
            f"{v['wall_s']:.1f} ({v['cpu_s']:.1f}) | {to_s} | {ratio_t} | "
            f"{v['peak_mb']:.0f} | {to_mb} | "
            f"{v['bytes'] / 1024:.0f} ({v['tile_bytes'] / 1024:.0f} + "
            f"{v['table_bytes'] / 1024:.0f}) | {v['all_bytes'] / 1024:.0f} | {to_kb} | "
            f"{ratio_b} | {v['tiles']} | "
            f"{v['triangles']:,} ({v['stored']:,}) | {v['json_pct']:.1f} |")
    lines += ["", "Triangles per tileset depth and the device report (status, triangles, draw "
              "calls at the start view):", ""]
    for src, v, _ in rows:
        if v["rc"] == 0:
            lines.append(f"- {src.name}: depths {v['levels']}; devices {v['devices']}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.viewer:
        return _write_viewers(args, viewers(generated, args.work, args.runs,
                                            args.reuse_conversions, args.page_timeout,
                                            args.convert_timeout))
    return 0


VIEWER_HEAD = [
    "", "## Viewers side by side (headless Chromium, SwiftShader software WebGL, 1280x800)", "",
    "vrcollab: its web client in a room on a real server (desktop device class); That Open: "
    "`FragmentsModels` + its worker loading the .frag (bench/thatopen/viewer.html). "
    "`python bench/scale_bench.py --viewer-only [--sizes 2000,20000,200000]`. Times from page "
    "start. *First frame*: the first frame drawn with model geometry on screen (vrcollab: the "
    "coarse root tile). *Full detail*: the first frame drawn once every tile that the device's "
    "error target **and triangle budget** select for the start view is loaded, with the element "
    "table (vrcollab; a software renderer gets a 300k-triangle budget, so on the generated "
    "buildings that is the coarse root) / once That Open reports its view complete. "
    "*Settled*: vrcollab's page answering a script call after full detail (includes "
    "rasterising that frame in software). *Longest task*: PerformanceObserver longtask; "
    "*after first frame*: those starting after it. *Browser RSS*: peak RSS of all Chromium "
    "processes (browser, renderer, GPU) during the load. *Tiles*: visible/loaded.", "",
    "| input | viewer | first frame ms | full detail ms | settled ms | browser RSS MB | tiles "
    "| longest task ms | longest task after first frame ms | JS heap MB | draw calls "
    "| triangles | KB downloaded |",
    "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"]


def _write_viewers(args: argparse.Namespace, rows: list[str]) -> int:
    load = os.getloadavg()
    when = (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
            f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on {os.cpu_count()} cores (software "
            "rendering shares the CPU with the other sessions: times are noisy).")
    text = "\n".join([*VIEWER_HEAD, when, "", *rows]) + "\n"
    old = args.out.read_text() if args.out.is_file() else ""
    old = old.split(VIEWER_HEAD[1])[0].rstrip("\n") + "\n" if old else ""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(old + text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
