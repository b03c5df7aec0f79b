"""The sync core does no I/O and reads no clock (DESIGN: sans-I/O core), and the shells close
sockets only with names from the core's close-code table."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SYNC = ROOT / "vrcollab" / "sync"
FORBIDDEN = {"asyncio", "socket", "fastapi", "starlette", "sqlite3", "time", "redis",
             "websockets", "threading", "selectors", "uvicorn", "psycopg", "os"}
SHELLS = [ROOT / "vrcollab" / "server" / "ws.py", ROOT / "vrcollab" / "server" / "connection.py"]


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(SYNC.glob("*.py")), ids=lambda p: p.name)
def test_sync_core_imports_no_io(path: Path) -> None:
    bad = _imports(path) & FORBIDDEN
    assert not bad, f"{path.name} imports {sorted(bad)}: the sync core must stay sans-I/O"


def test_forbidden_import_is_detected(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import asyncio\nfrom time import monotonic\n", encoding="utf-8")
    assert _imports(probe) & FORBIDDEN == {"asyncio", "time"}


_CLOSE_LITERAL = re.compile(r"close\((?:code=)?\d|close_code\s*=\s*\d|=\s*[14]0\d\d\b")


@pytest.mark.parametrize("path", SHELLS, ids=lambda p: p.name)
def test_shells_use_the_close_code_table(path: Path) -> None:
    code = [line for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith("#")]
    hits = [line.strip() for line in code if _CLOSE_LITERAL.search(line)]
    assert not hits, f"bare close codes in {path.name}: {hits}"
