"""The end-to-end tests share helpers with tests/api (XSD checks) and tests/jobs (converters
that the server's job subprocesses import by name)."""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("api", "jobs", "e2e"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.insert(0, str(_TESTS / _folder))
