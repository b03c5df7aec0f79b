"""``vrcollab convert INPUT -o OUTDIR``: the ingest pipeline with a progress bar per stage and
the device report (no server, no database)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from vrcollab.cli.common import SubParsers
from vrcollab.model_formats import describe


def _levels(text: str) -> tuple[tuple[str, int], ...]:
    out: list[tuple[str, int]] = []
    for item in text.split(","):
        name, _, num = item.partition("=")
        try:
            out.append((name.strip(), int(num.replace("_", ""))))
        except ValueError as exc:
            raise argparse.ArgumentTypeError(f"bad level {item!r}; use name=triangles") from exc
    return tuple(out)


def add_convert_parser(sub: SubParsers) -> None:
    """``vrcollab convert INPUT -o OUTDIR``: the ingest pipeline."""
    from vrcollab.ingest.decimate import DECIMATORS, DEFAULT_DECIMATOR

    p = sub.add_parser("convert", help="convert a CAD/mesh file into GLB levels of detail",
                       description="Convert a CAD/mesh/IFC file into validated, decimated, "
                       "compressed GLB levels plus manifest.json, and print the device report.")
    p.add_argument("input", type=Path, help=describe())
    p.add_argument("-o", "--outdir", type=Path, required=True, help="output directory")
    p.add_argument("--decimator", choices=DECIMATORS, default=DEFAULT_DECIMATOR)
    p.add_argument("--no-compress", action="store_true",
                   help="plain float GLB (no EXT_meshopt_compression, no quantisation)")
    p.add_argument("--units", help="source units when the file does not say (m, cm, mm, in, "
                   "ft); STL defaults to mm, other unitless formats to m")
    p.add_argument("--levels", type=_levels, help="ladder below full, e.g. "
                   "quest3=750000,quest2=500000,phone=300000")
    p.add_argument("--max-triangles", type=int, help="refuse inputs with more triangles")
    p.add_argument("--max-bytes", type=int, help="refuse inputs larger than this")
    p.add_argument("--position-bits", type=int, default=14, help="position quantisation bits")
    p.add_argument("--layout", choices=("tiles", "levels"), default="tiles",
                   help="tiles: 3D Tiles v2 layout (docs/tiles.md, default); levels: the "
                   "version 1 GLB ladder (docs/manifest.md)")
    p.add_argument("--leaf-triangles", type=int, help="drawn triangles per leaf tile")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run_convert)


def run_convert(args: argparse.Namespace) -> int:
    """Run the pipeline with a progress bar per stage and print the report."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from vrcollab.ingest.convert import convert
    from vrcollab.ingest.limits import Limits
    from vrcollab.ingest.pipeline import LEVEL_STAGES, STAGES, ConvertOptions
    from vrcollab.ingest.report import render_report
    from vrcollab.settings import load_settings

    settings = load_settings()
    limits = Limits.from_settings(settings)
    overrides: dict[str, Any] = {}
    if args.max_triangles is not None:
        overrides["max_triangles"] = args.max_triangles
    if args.max_bytes is not None:
        overrides["max_input_bytes"] = args.max_bytes
    if overrides:
        limits = Limits(**{**limits.__dict__, **overrides})
    kwargs: dict[str, Any] = {"decimator": args.decimator, "compress": not args.no_compress,
                              "units": args.units, "limits": limits,
                              "position_bits": args.position_bits, "layout": args.layout}
    if args.leaf_triangles is not None:
        kwargs["leaf_triangles"] = args.leaf_triangles
    if args.levels is not None:
        kwargs["levels"] = args.levels
    options = ConvertOptions(**kwargs)
    err = Console(stderr=True)
    quiet = args.quiet or not err.is_terminal
    with Progress(TextColumn("{task.description:<9}"), BarColumn(), TimeElapsedColumn(),
                  console=err, disable=quiet, transient=False) as bar:
        stages = STAGES if args.layout == "tiles" else LEVEL_STAGES
        tasks = {s: bar.add_task(s, total=1.0, start=False) for s in stages}

        def progress(stage: str, fraction: float) -> None:
            task = tasks.get(stage)
            if task is not None:
                bar.start_task(task)
                bar.update(task, completed=fraction)

        result = convert(args.input, args.outdir, options, progress)
    if args.json:
        print(json.dumps(result.report_dict(), indent=2))
    else:
        Console().print(render_report(result))
    return 0
