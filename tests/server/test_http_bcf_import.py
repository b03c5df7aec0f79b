"""BCF import through the real server (issue 8, items 3 and 4; docs/api.md "BCF").

- No impersonation: the importer is the author of record of every imported annotation and
  comment; the archive's ``CreationAuthor`` / ``Author`` is kept as ``imported_from`` and written
  back as the BCF author on export.
- Per-room limits: an import past ``bcf_import_max_ops`` or a room limit answers 413 with a code
  and the setting's name, imports nothing, and connected members stay connected.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.server_process import Bootstrap, ServerProcess
from vrcollab.bcf.exchange import export_annotations, import_annotations
from vrcollab.client import OpRejectedError, RoomClient


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("bcf"),
                      env={"VRCOLLAB_BCF_IMPORT_MAX_OPS": "40",
                           "VRCOLLAB_ROOM_MAX_ANNOTATIONS": "30"})
    s.start()
    yield s
    s.stop()


def _annotation(ann_id: str, author: str, comments: int = 1) -> dict[str, Any]:
    return {"id": ann_id, "position": [0.5, 0.5, 1.0], "normal": [0.0, 0.0, 1.0],
            "title": f"Issue {ann_id}", "text": "Check this", "status": "open",
            "priority": "normal", "author": author, "created": 1_700_000_000.0,
            "comments": [{"id": f"c{i}-{ann_id}", "author": author, "text": "Agreed",
                          "created": 1_700_000_050.0 + i} for i in range(comments)]}


def _import(srv: ServerProcess, room_id: str, token: str, archive: bytes) -> httpx.Response:
    return httpx.post(f"{srv.base_url}/api/rooms/{room_id}/bcf", content=archive, timeout=60,
                      headers={"Authorization": f"Bearer {token}",
                               "Content-Type": "application/octet-stream"})


async def test_bcf_import_cannot_impersonate(srv: ServerProcess) -> None:
    boot: Bootstrap = srv.bootstrap(owner_name="Olivia Owner")
    rita = srv.token(boot.project_id, "reviewer", "Rita")
    # the archive claims the owner wrote the topic and the comment (RLO hidden in one name)
    archive = export_annotations([_annotation("forged", "Olivia Owner"),
                                  _annotation("rlo", "Olivia\u202e Owner")])
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as owner:
        r = _import(srv, boot.room_id, rita, archive)
        assert r.status_code == 200, r.text
        assert sorted(r.json()["imported"]) == ["forged", "rlo"]
        await owner.wait_seq(r.json()["seq"])
        me = httpx.get(f"{srv.base_url}/api/me",
                       headers={"Authorization": f"Bearer {rita}"}).json()
        ann = owner.state.annotations["forged"]
        assert ann["author"] == me["user_id"] != boot.owner_id
        assert ann["imported_from"] == {"source": "bcf", "author": "Olivia Owner"}
        comment = ann["comments"][0]
        assert comment["author"] == me["user_id"]
        assert comment["imported_from"] == {"source": "bcf", "author": "Olivia Owner"}
        assert owner.state.annotations["rlo"]["imported_from"]["author"] == "Olivia Owner"
    # a late joiner's welcome says the same (the durable state, not just the live commits)
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as late:
        assert late.state.annotations["forged"]["author"] == me["user_id"]
    # export writes the archive's author back (the topic's origin), a round trip keeps it
    exported = httpx.get(f"{srv.base_url}/api/rooms/{boot.room_id}/bcf",
                         headers={"Authorization": f"Bearer {rita}"})
    assert exported.status_code == 200
    back = {a["id"]: a for a in import_annotations(exported.content).annotations}
    assert back["forged"]["author"] == "Olivia Owner"
    assert back["forged"]["comments"][0]["author"] == "Olivia Owner"
    # clients cannot forge the label: the codec refuses the field in client ops
    async with RoomClient(srv.base_url, boot.room_id, rita) as forger:
        with pytest.raises(OpRejectedError):
            await forger.op("annotation.create", annotation={
                "id": "fake", "position": [0, 0, 0],
                "imported_from": {"source": "bcf", "author": "Olivia Owner"}})
        with pytest.raises(OpRejectedError):
            await forger.op("comment.add", annotation_id="forged", comment={
                "id": "c9", "text": "x", "imported_from": {"source": "bcf", "author": "O"}})
        assert forger.connected
    # an annotation made in the room exports under its author's name
    async with RoomClient(srv.base_url, boot.room_id, rita) as r_client:
        await r_client.op("annotation.create", annotation={"id": "own", "position": [0, 0, 0],
                                                            "title": "mine"})
    exported = httpx.get(f"{srv.base_url}/api/rooms/{boot.room_id}/bcf",
                         headers={"Authorization": f"Bearer {rita}"})
    back = {a["id"]: a for a in import_annotations(exported.content).annotations}
    assert back["own"]["author"] == "Rita"


async def test_bcf_import_over_room_limits_is_413_and_nobody_is_kicked(
        srv: ServerProcess) -> None:
    boot = srv.bootstrap()
    rita = srv.token(boot.project_id, "reviewer", "Rita")
    # 1,000 topics and 3,000 comments (the probe's archive): refused by bcf_import_max_ops
    huge = export_annotations([_annotation(f"t{i}", "X", comments=3) for i in range(1000)])
    async with RoomClient(srv.base_url, boot.room_id, boot.owner_token) as reader:
        r = _import(srv, boot.room_id, rita, huge)
        assert r.status_code == 413, r.text
        error = r.json()["error"]
        assert error["code"] == "import_too_large"
        assert "bcf_import_max_ops" in error["message"]
        # within the per-import bound, but past room_max_annotations (30) on the second import
        ok = _import(srv, boot.room_id, rita, export_annotations(
            [_annotation(f"a{i}", "X") for i in range(20)]))
        assert ok.status_code == 200, ok.text
        assert len(ok.json()["imported"]) == 20
        await reader.wait_seq(ok.json()["seq"])
        over = _import(srv, boot.room_id, rita, export_annotations(
            [_annotation(f"b{i}", "X") for i in range(15)]))
        assert over.status_code == 413, over.text
        assert over.json()["error"]["code"] == "room_limit"
        assert "room_max_annotations" in over.json()["error"]["message"]
        # nothing of the refused imports went in, and the reader is still served
        ack = await reader.op("annotation.create",
                              annotation={"id": "after", "position": [0, 0, 0]})
        assert ack["seq"] == ok.json()["seq"] + 1
        assert reader.connected
        assert sorted(reader.state.annotations) == sorted(
            [f"a{i}" for i in range(20)] + ["after"])


async def test_import_at_the_default_limit_keeps_readers(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """500 ops (bcf_import_max_ops' default) reach two connected readers without a 4413."""
    with ServerProcess(tmp_path_factory.mktemp("bcf500")) as big:
        boot = big.bootstrap()
        archive = export_annotations([_annotation(f"t{i}", "X", comments=3) for i in range(125)])
        async with RoomClient(big.base_url, boot.room_id, boot.owner_token) as a, \
                RoomClient(big.base_url, boot.room_id, boot.owner_token) as b:
            r = _import(big, boot.room_id, boot.owner_token, archive)
            assert r.status_code == 200, r.text
            assert (len(r.json()["imported"]), r.json()["comments"]) == (125, 375)
            for reader in (a, b):
                await reader.wait_seq(500, timeout=60)
                assert reader.connected
                assert len(reader.state.annotations) == 125
            one_more = _import(big, boot.room_id, boot.owner_token, export_annotations(
                [_annotation(f"u{i}", "X", comments=3) for i in range(126)]))
            assert one_more.status_code == 413
            assert one_more.json()["error"]["code"] == "import_too_large"
            assert a.connected
            assert b.connected
