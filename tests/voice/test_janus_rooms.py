"""The server's Janus rooms and tokens against a real janus (Debian package), started here."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from vrcollab.voice.janus import JanusRooms, sign_token

pytestmark = pytest.mark.skipif(shutil.which("janus") is None, reason="needs Debian's janus")


@pytest.fixture(scope="module")
def janus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from vrcollab.voice.janus_process import JanusProcess

    proc = JanusProcess(Path(tmp_path_factory.mktemp("janus")))
    yield proc.start()
    proc.stop()


class _Browser:
    """What a browser does with a welcome's ``janus`` object (signed token, no API secret)."""

    def __init__(self, http: httpx.AsyncClient, url: str, token: str) -> None:
        self.http, self.url, self.token = http, url, token

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        res = await self.http.post(self.url + path,
                                   json={**body, "transaction": "t", "token": self.token})
        out: dict[str, Any] = res.json()
        return out

    async def join(self, creds: dict[str, Any], ptype: str, **extra: Any) -> dict[str, Any]:
        s = (await self.post("", {"janus": "create"}))["data"]["id"]
        h = (await self.post(f"/{s}", {"janus": "attach", "plugin": "janus.plugin.videoroom"})
             )["data"]["id"]
        await self.post(f"/{s}/{h}", {"janus": "message", "body": {
            "request": "join", "ptype": ptype, "room": creds["room"], "pin": creds["pin"],
            **extra}})
        res = await self.http.get(f"{self.url}/{s}", params={"maxev": 1, "token": self.token})
        data: dict[str, Any] = res.json()["plugindata"]["data"]
        return data


async def test_tokens_acl_and_rotation(janus: Any) -> None:
    rooms = JanusRooms(janus.url, janus.api_secret, janus.token_secret)
    try:
        listener = await rooms.credentials("r1", "s-l", publish=False, feed=7)
        speaker = await rooms.credentials("r1", "s-s", publish=True, feed=8)
        assert listener["room"] == speaker["room"]
        assert listener["publish_token"] is None
        async with httpx.AsyncClient() as http:
            b = _Browser(http, janus.url, listener["token"])
            refused = await b.join(listener, "publisher", id=7)  # no publish token: R27
            assert refused["error_code"] == 433
            joined = await b.join(speaker, "publisher", id=8, token=speaker["publish_token"])
            assert joined["videoroom"] == "joined"
            # a forged or expired token opens no Janus session at all
            for bad in ("1,janus,janus.plugin.videoroom:AAAA",
                        sign_token(janus.token_secret, -10),
                        sign_token("not-the-secret", 60)):
                res = await http.post(janus.url, json={"janus": "create", "transaction": "x",
                                                       "token": bad})
                assert res.json()["janus"] == "error"
            # rotation: the old VideoRoom is gone, new credentials name a new one
            assert await rooms.rotate("r1")
            gone = await b.join(speaker, "publisher", id=8, token=speaker["publish_token"])
            assert gone["error_code"] == 426  # no such room
            fresh = await rooms.credentials("r1", "s-s", publish=True, feed=8)
            assert (fresh["room"], fresh["pin"]) != (speaker["room"], speaker["pin"])
    finally:
        await rooms.close()
