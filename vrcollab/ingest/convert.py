"""The one conversion entry point: a source file -> a converted model directory, in the tiled
layout (version 2, default, :mod:`.tiled`) or the GLB ladder (version 1, :mod:`.pipeline`)."""

from __future__ import annotations

from pathlib import Path

from vrcollab.ingest.pipeline import ConversionResult, ConvertOptions, Progress, convert_levels
from vrcollab.ingest.tiled import convert_tiled


def convert(
    source: Path,
    outdir: Path,
    options: ConvertOptions | None = None,
    progress: Progress | None = None,
) -> ConversionResult:
    """Convert ``source`` into ``outdir``: the tiled layout (default) or the GLB ladder."""
    options = options or ConvertOptions()
    options.check()
    if options.layout == "levels":
        return convert_levels(source, outdir, options, progress)
    return convert_tiled(source, outdir, options, progress)
