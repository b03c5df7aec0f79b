"""The embedded default (SQLite, in-process broker) serves without the optional engines'
drivers: ``./dev serve`` installs neither the ``redis`` nor the ``postgres`` extra."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import sys

class Block:
    # Make the optional drivers unimportable, as on a machine without the extras.
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("redis", "psycopg", "psycopg_pool"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Block())
from fastapi.testclient import TestClient
from vrcollab.server.app import create_app
from vrcollab.settings import Settings

settings = Settings(data_dir=sys.argv[1])
with TestClient(create_app(settings)) as client:  # runs the whole lifespan
    assert client.get("/api/health").status_code == 200, client.get("/api/health").text
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("redis", "psycopg"))
assert not bad, bad
print("ok")
"""


def test_embedded_default_starts_without_redis_or_psycopg(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    env = {k: v for k, v in env.items() if not k.startswith("VRCOLLAB_")}
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")
