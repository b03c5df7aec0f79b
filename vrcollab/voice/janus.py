"""The server's side of the Janus SFU (VideoRoom plugin, audio only; docs/voice.md).

The vrcollab server talks to Janus over its HTTP API with the API secret: it creates one
private VideoRoom per review room (random numeric id, random pin and room secret), destroys it
when the room's voice empties, kicks a session's publisher when it leaves, and rotates the room
(destroy + create with a new pin, every remaining member gets new credentials) when a member is
removed from the project, so a removed member's subscriptions end too.

Browsers never see the API secret: each gets a **signed Janus token** (Janus ``token_auth`` with
``token_auth_secret``: ``"<expiry>,janus,janus.plugin.videoroom:<base64 HMAC-SHA1>"``), valid for
``voice_token_ttl_s`` and renewed over the room websocket (``voice.refresh``), plus the room's id
and pin, and, when it may speak, a publish token the VideoRoom's ACL (``allowed``) accepts.
Media flows browser <-> Janus; never through Python.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from vrcollab.errors import VrcollabError

log = logging.getLogger("vrcollab.voice")

PLUGIN = "janus.plugin.videoroom"


class JanusError(VrcollabError):
    """Janus answered with an error or could not be reached."""


def sign_token(secret: str, ttl_s: float, *, now: float | None = None,
               plugins: tuple[str, ...] = (PLUGIN,)) -> str:
    """A Janus signed token (``token_auth_secret``) valid for ``ttl_s`` seconds."""
    expiry = int((time.time() if now is None else now) + ttl_s)
    data = ",".join((str(expiry), "janus", *plugins))
    mac = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    return f"{data}:{base64.b64encode(mac).decode()}"


@dataclass(slots=True)
class JanusRoom:
    """One VideoRoom standing for a review room's voice."""

    number: int
    pin: str
    secret: str
    publishers: dict[str, int] = field(default_factory=dict)  # vrcollab session -> feed id
    tokens: dict[str, str] = field(default_factory=dict)  # vrcollab session -> publish token


class JanusRooms:
    """Creates, rotates and destroys the VideoRooms of review rooms (one lock per room)."""

    def __init__(self, url: str, api_secret: str, token_secret: str, *,
                 public_url: str = "", token_ttl_s: float = 300.0,
                 max_publishers: int = 48) -> None:
        self.url = url.rstrip("/")
        self.public_url = (public_url or url).rstrip("/")
        self.api_secret = api_secret
        self.token_secret = token_secret
        self.token_ttl_s = token_ttl_s
        self.max_publishers = max_publishers
        self.rooms: dict[str, JanusRoom] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._http: httpx.AsyncClient | None = None

    # --- Janus HTTP API -----------------------------------------------------------------

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=10.0)
        body = {**body, "transaction": secrets.token_hex(6)}
        if self.api_secret:
            body["apisecret"] = self.api_secret
        try:
            res = await self._http.post(self.url + path, json=body)
            out: dict[str, Any] = res.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise JanusError(f"Janus at {self.url} unreachable: {exc}") from None
        if out.get("janus") == "error":
            raise JanusError(f"Janus error: {out.get('error')}")
        return out

    async def _request(self, body: dict[str, Any]) -> dict[str, Any]:
        """One synchronous VideoRoom request on a short-lived Janus session."""
        sess = (await self._post("", {"janus": "create"}))["data"]["id"]
        try:
            handle = (await self._post(f"/{sess}", {"janus": "attach", "plugin": PLUGIN}))[
                "data"]["id"]
            out = await self._post(f"/{sess}/{handle}", {"janus": "message", "body": body})
            data: dict[str, Any] = out.get("plugindata", {}).get("data", {})
            if "error_code" in data:
                raise JanusError(f"VideoRoom {body.get('request')}: {data.get('error')} "
                                 f"({data['error_code']})")
            return data
        finally:
            with contextlib.suppress(JanusError):
                await self._post(f"/{sess}", {"janus": "destroy"})

    async def _create(self) -> JanusRoom:
        room = JanusRoom(secrets.randbelow(2**52) + 1, secrets.token_urlsafe(12),
                         secrets.token_urlsafe(12))
        await self._request({
            "request": "create", "room": room.number, "permanent": False,
            "description": "vrcollab voice", "secret": room.secret, "pin": room.pin,
            "is_private": True, "publishers": self.max_publishers, "audiocodec": "opus",
            "audiolevel_ext": True, "allowed": [], "notify_joining": False,
        })
        return room

    async def _destroy(self, room: JanusRoom) -> None:
        try:
            await self._request({"request": "destroy", "room": room.number,
                                 "secret": room.secret})
        except JanusError as exc:
            log.warning("could not destroy Janus room %s: %s", room.number, exc)

    # --- what the room worker calls -----------------------------------------------------

    def _lock(self, room_id: str) -> asyncio.Lock:
        return self._locks.setdefault(room_id, asyncio.Lock())

    async def credentials(self, room_id: str, session_id: str, *, publish: bool,
                          feed: int | None = None) -> dict[str, Any]:
        """The ``janus`` object of a ``voice.welcome``: where to connect and with what."""
        async with self._lock(room_id):
            room = self.rooms.get(room_id)
            if room is None:
                room = self.rooms[room_id] = await self._create()
            if feed is None:
                feed = room.publishers.get(session_id) or secrets.randbelow(2**52) + 1
            room.publishers[session_id] = feed
            publish_token = None
            if publish:
                publish_token = room.tokens.get(session_id)
                if publish_token is None:
                    publish_token = secrets.token_urlsafe(16)
                    await self._request({"request": "allowed", "room": room.number,
                                         "secret": room.secret, "action": "add",
                                         "allowed": [publish_token]})
                    room.tokens[session_id] = publish_token
        return {"url": self.public_url, "token": sign_token(self.token_secret, self.token_ttl_s),
                "expires_in": self.token_ttl_s, "room": room.number, "pin": room.pin,
                "feed_id": feed, "publish_token": publish_token, "display": session_id}

    async def leave(self, room_id: str, session_id: str, *, left_voice_empty: bool) -> None:
        """A session left voice: kick its publisher and drop its publish token; destroy the
        VideoRoom when nobody is left."""
        async with self._lock(room_id):
            room = self.rooms.get(room_id)
            if room is None:
                return
            feed = room.publishers.pop(session_id, None)
            token = room.tokens.pop(session_id, None)
            if left_voice_empty:
                del self.rooms[room_id]
                await self._destroy(room)
                return
            try:
                if token is not None:
                    await self._request({"request": "allowed", "room": room.number,
                                         "secret": room.secret, "action": "remove",
                                         "allowed": [token]})
                if feed is not None:
                    await self._request({"request": "kick", "room": room.number,
                                         "secret": room.secret, "id": feed})
            except JanusError as exc:  # not published (listener) or gone already
                log.debug("janus leave %s: %s", session_id, exc)

    async def rotate(self, room_id: str) -> bool:
        """Destroy the room's VideoRoom (every publisher and subscriber is cut off, a removed
        member's included); the next credentials create a new one with a new pin. True when
        there was one."""
        async with self._lock(room_id):
            room = self.rooms.pop(room_id, None)
            if room is not None:
                await self._destroy(room)
            return room is not None

    async def close(self) -> None:
        """Destroy every VideoRoom this server made and close the HTTP client."""
        for room_id in list(self.rooms):
            await self.rotate(room_id)
        if self._http is not None:
            await self._http.aclose()
            self._http = None
