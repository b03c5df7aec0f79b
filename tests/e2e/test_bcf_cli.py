"""``vrcollab bcf import|export`` against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.bcf.bcf_support import validate_bcf
from vrcollab.bcf.exchange import export_annotations, import_annotations

pytestmark = pytest.mark.timeout(300)


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vrcollab", "bcf", *args], capture_output=True,
                          text=True, timeout=120, env={"PATH": "/usr/bin:/bin"})


def test_bcf_cli_round_trip_and_errors(server_factory: Any, tmp_path: Path) -> None:
    srv = server_factory()
    boot = srv.bootstrap()
    reviewer = srv.token(boot.project_id, "reviewer", "Rita")
    source = tmp_path / "in.bcfzip"
    source.write_bytes(export_annotations([{
        "id": "issue-1", "position": [1.0, 2.0, 3.0], "normal": [0.0, 0.0, 1.0],
        "title": "Clash", "text": "Duct through beam", "status": "open", "priority": "critical",
        "labels": ["MEP"], "author": "rita@example.com", "created": 1_700_000_000.0,
        "comments": [{"id": "c-1", "author": "sam@example.com", "text": "Will reroute",
                      "created": 1_700_000_500.0}],
    }], version="2.1"))
    common = ["--server", srv.base_url, "--token", reviewer]
    imported = _cli("import", boot.room_id, str(source), *common)
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["imported"] == ["issue-1"]
    out = tmp_path / "out.bcfzip"
    exported = _cli("export", boot.room_id, "-o", str(out), "--version", "3.0", *common)
    assert exported.returncode == 0, exported.stderr
    validate_bcf(out.read_bytes(), "3.0")
    [ann] = import_annotations(out.read_bytes()).annotations
    assert (ann["title"], ann["priority"], ann["labels"]) == ("Clash", "critical", ["MEP"])
    assert ann["comments"][0]["text"] == "Will reroute"

    wrong = _cli("export", boot.room_id, "-o", str(out), "--server", srv.base_url,
                 "--token", "vrc_wrong")
    assert wrong.returncode == 1
    assert wrong.stderr.startswith("error: ")
    assert wrong.stderr.count("\n") == 1
    hostile = tmp_path / "bad.bcfzip"
    hostile.write_bytes(b"PK\x03\x04 not really a zip")
    bad = _cli("import", boot.room_id, str(hostile), *common)
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    missing_token = _cli("export", boot.room_id, "-o", str(out), "--server", srv.base_url)
    assert missing_token.returncode == 2
    assert "VRCOLLAB_TOKEN" in missing_token.stderr
