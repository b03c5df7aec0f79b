"""The default job converter: the ingest pipeline, called inside the job subprocess."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def convert_for_job(
    source: Path, outdir: Path, options: dict[str, Any], progress: Callable[..., None]
) -> Any:
    """Run :func:`vrcollab.ingest.pipeline.convert` with options given as a plain dict."""
    pipeline = importlib.import_module("vrcollab.ingest.pipeline")
    return pipeline.convert(source, outdir, _options(pipeline, options), progress)


def _options(pipeline: Any, options: dict[str, Any]) -> Any:
    factory = getattr(pipeline, "ConvertOptions", None) or getattr(pipeline, "Options", None)
    if factory is None:
        return options
    known = getattr(factory, "__dataclass_fields__", None) or getattr(factory, "model_fields", {})
    return factory(**{k: v for k, v in options.items() if k in known})
