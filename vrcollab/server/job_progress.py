"""One overall percent for a conversion job, from its stage and that stage's own percent.

The worker reports each ingest stage from 0 to 100 % (``vrcollab.ingest.pipeline.STAGES``), so
the raw percent restarts at 0 for every stage; :func:`overall_percent` weighs the stages by
their usual share of the time (measured on the bundled IFC house) and never goes backwards
within a job as long as stages come in pipeline order.
"""

from __future__ import annotations

#: (stage, share of the whole job) in pipeline order for the tiled layout (the default,
#: ``vrcollab.ingest.pipeline.STAGES`` plus the IFC reader's ``properties``); shares sum to 1.
STAGE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("starting", 0.02),
    ("load", 0.40),
    ("properties", 0.10),
    ("tiles", 0.35),
    ("elements", 0.08),
    ("report", 0.05),
)

#: The same for the GLB-ladder layout (``LEVEL_STAGES``).
LEVEL_STAGE_WEIGHTS: tuple[tuple[str, float], ...] = (
    ("starting", 0.02),
    ("load", 0.33),
    ("repair", 0.10),
    ("decimate", 0.25),
    ("write", 0.20),
    ("measure", 0.10),
)


def overall_percent(status: str, stage: str, percent: float) -> float:
    """0-100 over the whole job: done is 100, queued is 0, a stage counts its predecessors."""
    if status == "done":
        return 100.0
    if status == "queued":
        return 0.0
    for table in (STAGE_WEIGHTS, LEVEL_STAGE_WEIGHTS):
        before = 0.0
        for name, weight in table:
            if name == stage:
                share = weight * max(0.0, min(percent, 100.0)) / 100.0
                return round(100.0 * (before + share), 1)
            before += weight
    return 99.0 if stage in ("finishing", "storing") else 0.0
