"""The fresh-clone promise: a checkout with no ``../shared`` beside it runs its tests green.

Two checks: no test module builds a path into ``../shared`` on its own (they all go through
:mod:`tests.corpus`, which falls back to ``tests/fixtures`` or skips with a reason), and a copy
of exactly the files git tracks, placed where no ``shared`` folder is beside it, passes the
tests that read third-party files (BCF schemas and test cases, bad models, the sample house).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.corpus import FIXTURES, REPO, SHARED

#: a path component "shared" or a "../shared" string: code that reaches for the sibling folder
SHARED_PATH = re.compile(r"""/\s*["']shared["']|["']\.\./shared|parent\s*/\s*["']shared""")
#: test files that read ../shared when it is there; they must pass from the fixtures alone
SUBSET = ("tests/bcf", "tests/ingest/test_bad_input.py", "tests/ingest/test_fingerprint.py",
          "tests/api/test_rooms_bcf_api.py", "tests/e2e/test_bcf_cli.py", "tests/test_corpus.py")


def test_only_the_corpus_module_reaches_for_shared() -> None:
    exempt = ("corpus.py", "test_fresh_clone.py")
    offenders = [str(p.relative_to(REPO)) for p in sorted((REPO / "tests").rglob("*.py"))
                 if p.name not in exempt and SHARED_PATH.search(p.read_text(encoding="utf-8"))]
    assert offenders == [], f"read ../shared through tests.corpus, not in {offenders}"


def _tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("needs git to list the tracked files")
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=False)
    if out.returncode != 0:
        pytest.skip("not a git checkout")
    return [name for name in out.stdout.decode().split("\0") if name]


def test_fixtures_are_tracked() -> None:
    tracked = set(_tracked_files())
    on_disk = {str(p.relative_to(REPO)) for p in FIXTURES.rglob("*") if p.is_file()}
    assert on_disk <= tracked, f"commit these fixtures: {sorted(on_disk - tracked)}"


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_a_clone_without_shared_passes_its_tests(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    for name in _tracked_files():  # what a clone gets (with the working tree's contents)
        src = REPO / name
        if src.is_file():
            dst = clone / name
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    assert not (clone.parent / "shared").exists()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VRCOLLAB_", "PYTEST_"))}
    env["PYTHONPATH"] = str(clone)  # the clone's vrcollab and tests, the same interpreter
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *SUBSET],
        cwd=clone, env=env, capture_output=True, text=True, timeout=850, check=False)
    tail = (run.stdout + run.stderr)[-6000:]
    assert run.returncode == 0, tail
    passed = re.search(r"(\d+) passed", run.stdout)
    assert passed is not None, tail
    assert int(passed.group(1)) >= 100, tail  # the official BCF cases ran from the fixtures
    if SHARED.is_dir():  # the clone really ran without it: the full-set check skipped
        assert "needs the full set of 35 BCF test cases" in run.stdout, tail
