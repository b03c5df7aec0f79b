"""What runs inside a conversion subprocess.

The parent starts :func:`run_job` in a fresh ``spawn`` process and reads tuples from the pipe:

- ``("progress", stage, percent)`` while converting (percent 0-100),
- ``("done", elements)`` with the per-element geometry hashes, or
- ``("error", code, message)`` when the conversion raised.

A process that exits without sending ``done`` or ``error`` crashed (segfault, OOM kill,
``os._exit``).
The converter is named by ``"module:function"`` so the spawned child can import it; it is called
as ``fn(source, outdir, options, progress)`` like :func:`vrcollab.ingest.pipeline.convert`.
"""

from __future__ import annotations

import importlib
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from vrcollab.errors import VrcollabError

Converter = Callable[..., Any]


def resolve(spec: str) -> Converter:
    """Import ``"package.module:function"``."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ValueError(f"converter must look like 'module:function', got {spec!r}")
    fn = getattr(importlib.import_module(module_name), attr)
    if not callable(fn):
        raise ValueError(f"{spec} is not callable")
    return fn


def normalise_percent(value: float) -> float:
    """Progress callers may report a fraction (0-1) or a percent (0-100); return a percent."""
    pct = float(value) * 100.0 if 0.0 <= float(value) <= 1.0 else float(value)
    return max(0.0, min(100.0, pct))


def run_job(
    converter: str, source: str, outdir: str, options: dict[str, Any], conn: Connection
) -> None:
    """Convert ``source`` into ``outdir`` and report through ``conn`` (child process entry)."""
    from vrcollab.jobs.elements import element_hashes

    last: list[Any] = [None, -1.0]

    def progress(stage: str, value: float = 0.0, *_: Any) -> None:
        pct = normalise_percent(value)
        if stage != last[0] or pct - last[1] >= 1.0:
            last[0], last[1] = stage, pct
            conn.send(("progress", str(stage), pct))

    try:
        fn = resolve(converter)
        progress("load", 0.0)
        result = fn(Path(source), Path(outdir), options, progress)
        progress("index", 99.0)
        conn.send(("done", element_hashes(Path(outdir), result)))
    except VrcollabError as exc:
        conn.send(("error", exc.code, str(exc)))
    except MemoryError:
        conn.send(("error", "out_of_memory", "the conversion ran out of memory"))
    except Exception as exc:
        detail = traceback.format_exception_only(type(exc), exc)[-1].strip()
        conn.send(("error", "crash", f"conversion crashed: {detail[:500]}"))
    finally:
        conn.close()
