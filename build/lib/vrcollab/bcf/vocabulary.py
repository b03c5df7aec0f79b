"""Status and priority words: vrcollab's fixed vocabularies vs the free strings BCF carries.

BCF leaves TopicStatus and Priority to each project (``extensions.xml``); the official test cases
use ``Open``/``OPEN``/``IN_PROGRESS``/``SOLVED``/``CLOSED`` and ``LOW``..``CRITICAL`` among others.
Reading maps many spellings onto vrcollab's words; writing uses the canonical word unless the
topic's original word still means the same thing, which is then kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable

STATUS_TO_BCF = {"open": "Open", "in_progress": "In Progress", "resolved": "Resolved",
                 "closed": "Closed"}
PRIORITY_TO_BCF = {"low": "Low", "normal": "Normal", "high": "High", "critical": "Critical"}
_STATUS_FROM_BCF = {
    **dict.fromkeys(("open", "new", "active", "reopened", "reopen", "assigned", "todo",
                     "pending"), "open"),
    **dict.fromkeys(("inprogress", "progress", "ongoing", "started", "working", "inreview",
                     "review"), "in_progress"),
    **dict.fromkeys(("resolved", "solved", "fixed", "done", "completed", "complete", "finished",
                     "finishedstatus"), "resolved"),
    **dict.fromkeys(("closed", "archived", "rejected", "cancelled", "canceled", "wontfix",
                     "invalid"), "closed"),
}
_PRIORITY_FROM_BCF = {
    **dict.fromkeys(("low", "lowest", "minor", "trivial"), "low"),
    **dict.fromkeys(("normal", "medium", "moderate", "default", "none"), "normal"),
    **dict.fromkeys(("high", "major", "important"), "high"),
    **dict.fromkeys(("critical", "highest", "blocker", "urgent", "severe"), "critical"),
}


def status_from_bcf(value: str | None) -> str:
    """vrcollab status for a BCF TopicStatus (unknown or missing -> ``open``)."""
    return _STATUS_FROM_BCF.get(re.sub(r"[^a-z]", "", (value or "").lower()), "open")


def priority_from_bcf(value: str | None) -> str:
    """vrcollab priority for a BCF Priority (unknown or missing -> ``normal``)."""
    return _PRIORITY_FROM_BCF.get(re.sub(r"[^a-z]", "", (value or "").lower()), "normal")


def keep_word(original: str | None, value: str, parse: Callable[[str | None], str],
              canonical: dict[str, str], keep: bool) -> str | None:
    """The original BCF word when it still means ``value``, else the canonical word."""
    if keep and parse(original) == value:
        return original
    return canonical[value]
