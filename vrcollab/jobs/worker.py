"""What runs inside a conversion subprocess: ``python -m vrcollab.jobs.worker``.

The parent writes one JSON spec to the child's stdin
(``{"converter", "source", "outdir", "options", "sys_path", "fd"}``) and reads JSON lines from
the pipe whose write end is file descriptor ``fd`` in the child:

- ``["progress", stage, percent]`` while converting (percent 0-100),
- ``["done", elements]`` with the per-element geometry fingerprints, or
- ``["error", code, message]`` when the conversion raised.

A process that exits without ``done`` or ``error`` crashed (segfault, OOM kill, ``os._exit``).
A fresh interpreter (not ``multiprocessing``) keeps the child independent of how the server was
started (``python -m vrcollab`` would otherwise be re-run in it). The converter is named
``"module:function"`` and called as ``fn(source, outdir, options, progress)`` like
:func:`vrcollab.ingest.convert.convert`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

Converter = Callable[..., Any]


def resolve(spec: str) -> Converter:
    """Import ``"package.module:function"`` (:class:`ConfigError` for a malformed spec)."""
    from vrcollab.errors import ConfigError

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"converter must look like 'module:function', got {spec!r}")
    fn = getattr(importlib.import_module(module_name), attr)
    if not callable(fn):
        raise ConfigError(f"{spec} is not callable")
    return fn


def normalise_percent(value: float) -> float:
    """Progress callers may report a fraction (0-1) or a percent (0-100); return a percent."""
    pct = float(value) * 100.0 if 0.0 <= float(value) <= 1.0 else float(value)
    return max(0.0, min(100.0, pct))


def run_job(converter: str, source: str, outdir: str, options: dict[str, Any],
            out: IO[str]) -> None:
    """Convert ``source`` into ``outdir``, reporting JSON lines to ``out``."""
    from vrcollab.errors import VrcollabError
    from vrcollab.jobs.elements import element_hashes

    def send(*msg: Any) -> None:
        out.write(json.dumps(list(msg)) + "\n")
        out.flush()

    last: list[Any] = [None, -1.0]

    def progress(stage: str, value: float = 0.0, *_: Any) -> None:
        pct = normalise_percent(value)
        if stage != last[0] or pct - last[1] >= 1.0:
            last[0], last[1] = stage, pct
            send("progress", str(stage), pct)

    try:
        fn = resolve(converter)
        progress("load", 0.0)
        result = fn(Path(source), Path(outdir), options, progress)
        progress("index", 99.0)
        send("done", element_hashes(Path(outdir), result))
    except VrcollabError as exc:
        send("error", exc.code, str(exc))
    except MemoryError:
        send("error", "out_of_memory", "the conversion ran out of memory")
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        send("error", "crash", f"conversion crashed: {detail[:500]}")


def _exit_when_orphaned(parent: int) -> None:
    """A conversion whose server died (SIGKILL, crash) stops too instead of running on."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(3)


def main() -> None:
    """Child entry point: read the spec from stdin and run the job."""
    threading.Thread(target=_exit_when_orphaned, args=(os.getppid(),), daemon=True).start()
    spec = json.loads(sys.stdin.read())
    for entry in reversed(spec.get("sys_path", [])):
        if entry not in sys.path:
            sys.path.insert(0, entry)
    with os.fdopen(int(spec["fd"]), "w", encoding="utf-8") as out:
        run_job(spec["converter"], spec["source"], spec["outdir"], spec["options"], out)


if __name__ == "__main__":
    main()
