"""Long main-thread tasks of a Chromium performance trace, attributed.

``summarise(trace)`` reads a trace written by Playwright's ``browser.start_tracing`` (Chrome
trace event format) and lists every top-level task of the page's renderer main thread
(``CrRendererMain``) longer than a threshold, with the events inside it that took the most time
(script function calls with their source location, GC, WebGL/SwiftShader work, parsing,
compositing) and the thread's own CPU time in it (a task of 300 ms with 5 ms of CPU is the
main thread waiting: for the GPU process's read-back, or for a core), so a long task can be
named rather than guessed. Used by
``bench/web_load_bench.py --trace``.

    python bench/longtask_trace.py trace.json [--after MS] [--over MS]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Trace categories worth recording for long-task attribution.
CATEGORIES = [
    "devtools.timeline", "disabled-by-default-devtools.timeline", "toplevel", "v8",
    "blink", "blink.user_timing", "loading", "gpu", "cc",
    "disabled-by-default-devtools.timeline.frame",
]


@dataclass
class Task:
    """One top-level main-thread task: start (ms, trace clock), duration and what was in it."""

    start_ms: float
    dur_ms: float
    cpu_ms: float = 0.0  # the thread's own CPU time in the task (the rest is waiting)
    parts: dict[str, float] = field(default_factory=dict)

    def top(self, n: int = 4) -> list[tuple[str, float]]:
        return sorted(self.parts.items(), key=lambda kv: -kv[1])[:n]


def _label(ev: dict[str, Any]) -> str:
    """A readable name for a trace event (function calls carry their script location)."""
    name = str(ev.get("name", "?"))
    data = (ev.get("args") or {}).get("data") or {}
    if name in ("FunctionCall", "EvaluateScript", "v8.compile", "v8.compileModule"):
        url = str(data.get("url") or data.get("fileName") or "")
        fn = data.get("functionName") or ""
        where = url.rsplit("/", 1)[-1]
        return f"{name} {fn or '(anonymous)'} {where}:{data.get('lineNumber', '')}".strip()
    if name == "TimerFire" or name == "FireAnimationFrame" or name == "EventDispatch":
        return f"{name} {data.get('type', '')}".strip()
    return name


def _main_threads(events: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(e["pid"], e["tid"]) for e in events
            if e.get("ph") == "M" and e.get("name") == "thread_name"
            and (e.get("args") or {}).get("name") == "CrRendererMain"}


def summarise(trace: dict[str, Any] | list[dict[str, Any]], *, over_ms: float = 50.0
              ) -> list[Task]:
    """Top-level renderer main-thread tasks longer than ``over_ms``, with their biggest parts
    (each part's time is its own duration summed over the task, nested parts counted in the
    deepest named child that is not a plain wrapper)."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mains = _main_threads(events)
    by_thread: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        if e.get("ph") == "X" and (e.get("pid"), e.get("tid")) in mains and "dur" in e:
            by_thread[(e["pid"], e["tid"])].append(e)
    tasks: list[Task] = []
    for evs in by_thread.values():
        evs.sort(key=lambda e: (e["ts"], -e["dur"]))
        current: Task | None = None
        end = -1.0
        for e in evs:
            ts, dur = float(e["ts"]), float(e["dur"])
            if e.get("name") in ("ThreadControllerImpl::RunTask", "RunTask") and ts >= end:
                current = Task(ts / 1000, dur / 1000, float(e.get("tdur", 0)) / 1000) \
                    if dur / 1000 > over_ms else None
                end = ts + dur
                if current:
                    tasks.append(current)
                continue
            if current is None or ts >= end:
                continue
            label = _label(e)
            current.parts[label] = current.parts.get(label, 0.0) + dur / 1000
    tasks.sort(key=lambda t: t.start_ms)
    return tasks


def navigation_start_ms(trace: dict[str, Any] | list[dict[str, Any]]) -> float | None:
    """Trace-clock time (ms) of the page's last navigationStart mark, when recorded."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    marks = [float(e["ts"]) / 1000 for e in events
             if e.get("name") == "navigationStart" and e.get("ph") in ("R", "I", "n", "b")]
    return max(marks) if marks else None


def report(path: Path, *, after_ms: float = 0.0, over_ms: float = 50.0) -> str:
    """Text table of the long tasks in ``path`` starting ``after_ms`` after navigation."""
    trace = json.loads(path.read_text())
    nav = navigation_start_ms(trace) or 0.0
    lines = []
    for t in summarise(trace, over_ms=over_ms):
        at = t.start_ms - nav
        if at < after_ms:
            continue
        parts = "; ".join(f"{k} {v:.0f}" for k, v in t.top())
        lines.append(f"{at:8.0f} ms  {t.dur_ms:6.0f} ms (cpu {t.cpu_ms:4.0f})  {parts}")
    return "\n".join(lines) or "(no task over the threshold)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("trace", type=Path)
    ap.add_argument("--after", type=float, default=0.0, help="only tasks after this (ms)")
    ap.add_argument("--over", type=float, default=50.0, help="threshold (ms)")
    args = ap.parse_args()
    print(report(args.trace, after_ms=args.after, over_ms=args.over))


if __name__ == "__main__":
    main()
