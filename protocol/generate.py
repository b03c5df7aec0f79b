"""Write (or, with ``--check``, verify) the generated protocol files from the Python tables.

    .venv/bin/python protocol/generate.py          # rewrite the generated files
    .venv/bin/python protocol/generate.py --check  # exit 1 when a committed copy is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's vrcollab, whatever is installed

from vrcollab.sync.schema import JS_PATH, SCHEMA_PATH, js_module, schema_text  # noqa: E402


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for rel, text in ((SCHEMA_PATH, schema_text()), (JS_PATH, js_module())):
        path = ROOT / rel
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(rel)
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    for rel in stale:
        print(("stale: " if check else "wrote ") + rel)
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
