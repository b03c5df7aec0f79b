"""The default job converter: the ingest pipeline, called inside the job subprocess."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vrcollab.ingest.convert import convert
from vrcollab.ingest.limits import Limits
from vrcollab.ingest.pipeline import ConversionResult, ConvertOptions


def convert_for_job(
    source: Path, outdir: Path, options: dict[str, Any], progress: Callable[[str, float], None]
) -> ConversionResult:
    """Run :func:`vrcollab.ingest.convert.convert`; ``options`` is a plain dict holding
    :class:`Limits` fields and :class:`ConvertOptions` fields (unknown keys are ignored)."""
    limit_keys = {f.name for f in dataclasses.fields(Limits)}
    option_keys = {f.name for f in dataclasses.fields(ConvertOptions)} - {"limits"}
    limits = Limits(**{k: v for k, v in options.items() if k in limit_keys})
    opts = ConvertOptions(limits=limits, **{k: v for k, v in options.items() if k in option_keys})
    return convert(source, outdir, opts, progress)
