"""``./dev serve --scale``: the HAProxy configuration it writes is valid for Debian's haproxy."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vrcollab.cluster.local import haproxy_config


def test_haproxy_accepts_the_generated_config(tmp_path: Path) -> None:
    exe = shutil.which("haproxy")
    if exe is None:
        pytest.skip("haproxy not installed (apt-get install haproxy)")
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_config(18000, [18001, 18002, 18003]))
    out = subprocess.run([exe, "-c", "-f", str(cfg)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 0, out.stdout + out.stderr
    text = cfg.read_text()
    assert "bind 127.0.0.1:18000" in text  # loopback only
    assert text.count("server p") == 3
    assert "timeout tunnel" in text  # websockets stay open past the HTTP timeouts


def test_dev_serve_scale_runs_the_cluster_launcher() -> None:
    dev = (Path(__file__).resolve().parents[2] / "dev").read_text()
    assert "-m vrcollab.cluster.local" in dev
