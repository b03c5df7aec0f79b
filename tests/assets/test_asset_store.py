"""The content-addressed asset store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vrcollab.assets import AssetStore, is_sha256
from vrcollab.errors import NotFoundError


def test_put_bytes_chunks_and_file_agree(tmp_path: Path) -> None:
    store = AssetStore(tmp_path / "assets")
    data = b"glTF" + bytes(range(256)) * 5000
    digest = hashlib.sha256(data).hexdigest()
    a = store.put_bytes(data)
    b = store.put_chunks(data[i : i + 4096] for i in range(0, len(data), 4096))
    src = tmp_path / "x.bin"
    src.write_bytes(data)
    c = store.put_file(src)
    assert a == b == c
    assert a.sha256 == digest
    assert a.size == len(data)
    assert store.read_bytes(digest) == data
    assert store.open_path(digest).parent.name == digest[2:4]
    assert src.exists()
    assert list(store.tmp_dir.iterdir()) == []


def test_put_file_move_removes_source(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    tmp = store.temp_file()
    tmp.write_bytes(b"hello")
    info = store.put_file(tmp, move=True)
    assert not tmp.exists()
    assert store.exists(info.sha256)
    dup = store.temp_file()
    dup.write_bytes(b"hello")
    assert store.put_file(dup, move=True) == info
    assert not dup.exists()


def test_bad_and_missing_ids(tmp_path: Path) -> None:
    store = AssetStore(tmp_path)
    assert not is_sha256("../../etc/passwd")
    assert not store.exists("../x")
    with pytest.raises(NotFoundError):
        store.path("../" + "a" * 61)
    with pytest.raises(NotFoundError):
        store.open_path("0" * 64)


def test_purge_temp_removes_only_old_leftovers(tmp_path: Path) -> None:
    import os
    import time

    store = AssetStore(tmp_path)
    old, fresh = store.temp_file(), store.temp_file()
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.purge_temp(older_than_s=3600) == 1
    assert not old.exists()
    assert fresh.exists()
