"""Smoke test of the sync benchmark (bench/sync_bench.py): tiny rooms on both real servers.

No timing assertions: the test checks that every phase ran end to end (clients joined, poses and
ops crossed each server, the markers came back with finite latencies), and that the markdown
report is well formed. It also checks the y-websocket binary encoders against the real Yjs and
y-protocols decoders in node.
"""

from __future__ import annotations

import importlib.util
import json
import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BENCH = REPO / "bench" / "sync_bench.py"
WEB = REPO / "clients" / "web"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (WEB / "node_modules" / "y-websocket").is_dir(),
    reason="needs node and clients/web/node_modules (npm ci)",
)

_DECODE_JS = r"""
const Y = require('yjs'); const aw = require('y-protocols/awareness')
const dec = require('lib0/decoding')
const doc = new Y.Doc(); const a = new aw.Awareness(doc)
for (const hex of require('fs').readFileSync(0, 'utf8').trim().split('\n')) {
  const d = dec.createDecoder(Buffer.from(hex, 'hex'))
  const kind = dec.readVarUint(d)
  if (kind === 0) { dec.readVarUint(d); Y.applyUpdate(doc, dec.readVarUint8Array(d)) }
  else aw.applyAwarenessUpdate(a, dec.readVarUint8Array(d), 'remote')
}
const states = {}
a.getStates().forEach((v, k) => { if (v.laser) states[k] = v.laser.node_id })
console.log(JSON.stringify({map: doc.getMap('annotations').toJSON(), states,
                            pending: doc.store.pendingStructs !== null}))
a.destroy(); doc.destroy(); process.exit(0)
"""


def test_yjs_and_awareness_encoders_decode_in_node() -> None:
    spec = importlib.util.spec_from_file_location("syncbench_payloads",
                                                  REPO / "bench" / "sync" / "payloads.py")
    assert spec is not None
    assert spec.loader is not None
    pl = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pl)
    t = time.time()
    lines = [pl.yws_op(7, seq, t + seq).hex() for seq in range(3)]
    head, mid, tail = pl.yws_pose_parts(7)
    for seq in range(2):
        msg = head + pl.awareness_clock(seq) + mid + pl.marker("Q", 7, seq, t) + tail
        lines.append(msg.hex())
    out = subprocess.run(["node", "-e", _DECODE_JS], input="\n".join(lines), cwd=WEB,
                         capture_output=True, text=True, timeout=60, check=True)
    got = json.loads(out.stdout)
    assert not got["pending"]
    assert sorted(got["map"]) == [f"a00007-{i:09d}" for i in range(3)]
    first = got["map"]["a00007-000000000"]
    assert first["title"] == pl.marker("O", 7, 0, t).decode()
    assert first["labels"] == ["bench"]
    assert first["assignee"] is None
    assert got["states"] == {str(pl.yjs_client_id(7)): pl.marker("Q", 7, 1, t).decode()}


def _table_rows(md: str, header_start: str) -> list[list[str]]:
    lines = md.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(header_start))
    width = lines[i].count("|")
    assert set(lines[i + 1].replace("|", "").replace(":", "").replace("-", "")) == set()
    rows = []
    for line in lines[i + 2 :]:
        if not line.startswith("|"):
            break
        assert line.count("|") == width, line
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


@pytest.mark.timeout(240)
def test_quick_run_on_both_servers(tmp_path: Path) -> None:
    out, raw = tmp_path / "sync.md", tmp_path / "sync.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick", "--clients", "3", "--seconds", "2",
         "--warmup", "1", "--op-interval", "0.5", "--nice", "0", "--out", str(out),
         "--json", str(raw)],
        cwd=REPO, capture_output=True, text=True, timeout=200,
    )
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-3000:]
    data = json.loads(raw.read_text())
    results = {r["server"]: r for r in data["results"]}
    assert set(results) == {"vrcollab", "y-websocket"}
    for name, r in results.items():
        assert r["n"] == 3
        assert r["connected"] == 3, name
        for key in ("pose_p50", "pose_p99", "ack_p50", "ack_p99", "commit_p50", "commit_p99",
                    "cpu_us_per_msg", "server_cpu_s"):
            assert math.isfinite(r[key]), (name, key, r[key])
            assert r[key] >= 0, (name, key, r[key])
        for key in ("pose_samples", "op_samples", "poses_sent", "poses_delivered"):
            assert r[key] > 0, (name, key)
        assert r["rss_mb"] > 1, name
        assert r["rejects"] == 0, (name, r["notes"])
        assert r["errors"] == 0, (name, r["notes"])
        assert not r["closes"], (name, r["closes"])
    md = out.read_text()
    assert md == proc.stdout[proc.stdout.index("# Sync benchmark"):].rstrip("\n") + "\n"
    rows = _table_rows(md, "| N | server |")
    assert sorted(r[1] for r in rows) == ["vrcollab", "y-websocket"]
    for r in rows:
        assert r[0] == "3"
        assert r[2] == "3"
        assert all(math.isfinite(float(x)) for x in (r[3], r[4]))
    ratios = _table_rows(md, "| N | pose p50 |")
    assert len(ratios) == 1
    assert ratios[0][0] == "3"
    assert all(math.isfinite(float(x)) for x in ratios[0][1:])
    assert "## Targets" in md
