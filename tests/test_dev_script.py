"""``./dev``: what it installs on a fresh Debian machine, and serving without the test tools.

The script is sourced (it runs nothing then) and its planning functions are called with a
stand-in Python and package database, so the checks need no root and install nothing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.corpus import REPO

SERVE_PACKAGES = {"python3-venv", "g++", "python3-dev", "libgl1", "libegl1", "libusb-1.0-0",
                  "libpango-1.0-0", "libpangoft2-1.0-0"}  # Pango: WeasyPrint minutes (issue 15)
# postgresql: tests/pg_support.py; janus: the voice tests; redis-server, haproxy: tests/cluster;
# poppler-utils: minutes PDF tests
TEST_PACKAGES = {"chromium", "libzbar0", "postgresql", "janus", "redis-server", "haproxy",
                 "poppler-utils"}


def _dev(script: str, tmp_path: Path) -> str:
    out = subprocess.run(["bash", "-c", f"source ./dev; {script}; true"], cwd=REPO, text=True,
                         capture_output=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture
def bare_python(tmp_path: Path) -> Path:
    """A 'python3' without venv/ensurepip or headers, like Debian 12's before the dev packages."""
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    return fake


def test_fresh_debian_gets_every_package_it_needs(tmp_path: Path, bare_python: Path) -> None:
    fresh = f"PY={bare_python}; have_deb() {{ return 1; }}; command() {{ [ \"$2\" != g++ ] && " \
            "builtin command \"$@\"; }; "
    serve = set(_dev(fresh + "apt_wanted serve", tmp_path).split())
    full = set(_dev(fresh + "apt_wanted full", tmp_path).split())
    assert serve == SERVE_PACKAGES  # serving: no browser, no QR decoder
    assert full == SERVE_PACKAGES | TEST_PACKAGES


def test_this_machine_lacks_nothing() -> None:
    if shutil.which("dpkg-query") is None:
        pytest.skip("not Debian/Ubuntu")
    out = subprocess.run(["bash", "-c", "source ./dev; PY=python3; apt_wanted full"],
                         cwd=REPO, text=True, capture_output=True, timeout=60, check=True)
    assert out.stdout.split() == [], "run ./dev setup"


def test_stamps_let_a_full_install_serve_but_not_the_reverse(tmp_path: Path) -> None:
    stamp = tmp_path / "stamp"
    check = (f"stamp_ok {stamp} abc serve && echo serve-ok; "
             f"stamp_ok {stamp} abc full && echo full-ok")
    stamp.write_text("abc full\n")
    assert _dev(check, tmp_path).split() == ["serve-ok", "full-ok"]
    stamp.write_text("abc serve\n")
    assert _dev(check, tmp_path).split() == ["serve-ok"]
    stamp.write_text("old serve\n")
    assert _dev(check, tmp_path).split() == []


def test_serve_installs_no_dev_tools() -> None:
    text = (REPO / "dev").read_text()
    assert 'npm ci "${omit[@]}"' in text
    assert "omit=(--omit=dev)" in text
    assert 'extras="[dev,postgres,redis]"' in text
    assert "serve) setup serve;" in text
    assert "vrcollab | convert)" in text
    assert "export VRCOLLAB_DATA_DIR=${VRCOLLAB_DATA_DIR:-$ROOT/data}" in text  # one database
    assert (REPO / ".ci" / "run").read_text().rstrip().endswith("exec ./dev test")


def test_runtime_node_packages_are_what_the_server_serves() -> None:
    import json

    from vrcollab.server.docs import SWAGGER_DIST
    from vrcollab.server.web import VENDOR_WHITELIST

    pkg = json.loads((REPO / "clients" / "web" / "package.json").read_text())
    # A scope's entry ("@scope": ("pkg/dir/",)) serves the package "@scope/pkg".
    served = {SWAGGER_DIST.name, *(f"{key}/{rel.split('/')[0]}" if key.startswith("@") else key
                                   for key, rels in VENDOR_WHITELIST.items() for rel in rels)}
    assert served <= set(pkg["dependencies"]), "npm ci --omit=dev would leave them out"
    assert not served & set(pkg.get("devDependencies", {}))


def test_usage_without_a_command() -> None:
    out = subprocess.run([str(REPO / "dev")], text=True, capture_output=True, timeout=30,
                         check=False)
    assert out.returncode == 1
    assert "./dev vrcollab ARGS" in out.stdout
