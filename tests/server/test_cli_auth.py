"""Offline bootstrap from the CLI: ``vrcollab project create`` and ``vrcollab token create``."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from vrcollab.cli import main
from vrcollab.store.sqlite import SqliteStore


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def test_project_and_token_create(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def cli(*args: str) -> Result:
        code = main(list(args))
        out = capsys.readouterr()
        return Result(code, out.out, out.err)

    made = cli("project", "create", "--name", "Tower", "--owner", "Olga", "--room", "Kickoff",
               "--data-dir", str(tmp_path))
    assert made.returncode == 0, made.stderr
    boot = json.loads(made.stdout)
    tok = cli("token", "create", "--project", boot["project_id"], "--role", "viewer",
              "--name", "Vic", "--expires-in", "3600", "--data-dir", str(tmp_path))
    assert tok.returncode == 0, tok.stderr
    viewer = json.loads(tok.stdout)
    store = SqliteStore(tmp_path / "vrcollab.sqlite3")
    try:
        owner = store.resolve_token(boot["token"], time.time())
        assert owner.name == "Olga"
        assert store.get_role(boot["project_id"], owner.user_id) == "owner"
        assert store.get_room(boot["room_id"]).name == "Kickoff"
        v = store.resolve_token(viewer["token"], time.time())
        assert store.get_role(boot["project_id"], v.user_id) == "viewer"
        assert viewer["expires_at"] > time.time() + 3000
    finally:
        store.close()
    bad = cli("token", "create", "--project", "p_missing", "--role", "viewer", "--name", "X",
              "--data-dir", str(tmp_path))
    assert bad.returncode != 0
    assert "no project" in bad.stderr
    assert "Traceback" not in bad.stderr
