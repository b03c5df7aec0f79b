"""Voice in a live room: the asyncio shell around :class:`~vrcollab.voice.signal.VoiceRoom`.

One :class:`RoomVoice` per room worker. The websocket reader hands it each ``voice.*`` message
(in the order the session sent them); the worker tells it when a session leaves the room. It
delivers relays and broadcasts to the room's connections, and in Janus mode adds each welcome's
credentials (created off the reader, :mod:`vrcollab.voice.janus`) and rotates the VideoRoom when
a member is removed (close 4401).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import httpx

from vrcollab.settings import Settings
from vrcollab.sync.codec import EncodeError, dumps
from vrcollab.voice.janus import JanusError, JanusRooms
from vrcollab.voice.signal import VoiceMessage, VoiceOut, VoicePolicy, VoiceRoom, VoiceSend

log = logging.getLogger("vrcollab.voice")

CLOSE_CREDENTIALS = 4401  # the member was removed or its role changed (protocol R4 table)


class _Conn(Protocol):
    close_code: int | None

    def send(self, text: str, *, counted: bool = True) -> None: ...


class _Entry(Protocol):
    @property
    def user_id(self) -> str: ...

    @property
    def role(self) -> str: ...


def policy_from(settings: Settings,
                project: Mapping[str, Any] | None = None) -> VoicePolicy:
    """The voice policy of the server's settings, with the project's own settings in effect
    (:mod:`vrcollab.server.project_settings`) over them."""
    may_speak = settings.voice_viewers_may_speak
    if project is not None:
        may_speak = bool(project.get("voice_viewers_may_speak", may_speak))
    return VoicePolicy(mode="janus" if settings.voice == "janus" else "mesh",
                       viewers_may_speak=may_speak,
                       max_mesh_peers=settings.voice_mesh_max_peers,
                       ice_servers=tuple(settings.voice_ice_servers))


def voice_csp(csp: str, settings: Settings) -> str:
    """The app shell's Content-Security-Policy with the Janus HTTP API's origin added to
    ``connect-src`` when voice runs through Janus (browsers talk to Janus directly)."""
    if settings.voice != "janus":
        return csp
    url = httpx.URL(settings.voice_janus_public_url or settings.voice_janus_url)
    if not url.host:
        return csp
    origin = f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")
    return csp.replace("connect-src 'self'", f"connect-src 'self' {origin}", 1)


def janus_from(settings: Settings) -> JanusRooms | None:
    """The Janus room manager when the server runs voice through Janus."""
    if settings.voice != "janus":
        return None
    if not settings.voice_janus_url or not settings.voice_janus_token_secret:
        raise ValueError("VRCOLLAB_VOICE=janus needs VRCOLLAB_VOICE_JANUS_URL and "
                         "VRCOLLAB_VOICE_JANUS_TOKEN_SECRET (docs/voice.md)")
    return JanusRooms(settings.voice_janus_url, settings.voice_janus_api_secret,
                      settings.voice_janus_token_secret,
                      public_url=settings.voice_janus_public_url,
                      token_ttl_s=settings.voice_token_ttl_s)


class RoomVoice:
    """Voice of one live room."""

    def __init__(self, room_id: str, policy: VoicePolicy, janus: JanusRooms | None,
                 conns: Mapping[str, _Conn], entry: Callable[[str], _Entry | None]) -> None:
        self.room_id = room_id
        self.room = VoiceRoom(policy)
        self.janus = janus
        self.conns = conns
        self._entry = entry
        self._tasks: set[asyncio.Task[None]] = set()
        self.relayed = 0

    def handle(self, session_id: str, msg: VoiceMessage, now: float) -> None:
        """One voice message of a session that is in the room."""
        entry = self._entry(session_id)
        if entry is None:
            return
        self._deliver(self.room.handle(session_id, entry.user_id, entry.role, msg, now))

    def set_viewers_may_speak(self, allowed: bool) -> None:
        """The project's "viewers may speak" setting changed: viewers in voice are joined
        again with the new right (Janus: their old feed and publish token go first)."""
        out = self.room.set_viewers_may_speak(allowed, time.monotonic())
        if self.janus is None:
            self._deliver(out)
            return
        welcomes = [s for s in out.sends if s.janus is not None]
        self._deliver(VoiceOut([s for s in out.sends if s.janus is None]))
        for send in welcomes:
            self._spawn(self._janus_rejoin(send))

    async def _janus_rejoin(self, send: VoiceSend) -> None:
        assert self.janus is not None
        assert send.to is not None
        try:
            await self.janus.leave(self.room_id, send.to, left_voice_empty=False)
        except JanusError as exc:
            log.warning("janus leave of %s failed: %s", send.to, exc)
        await self._janus_welcome(send)

    def leave(self, session_id: str, close_code: int | None) -> None:
        """The session left the room: it leaves voice (silent at once for the others)."""
        out = self.room.leave(session_id)
        self._deliver(out)
        if self.janus is not None and out.left is not None:
            removed = close_code == CLOSE_CREDENTIALS
            self._spawn(self._janus_leave(session_id, removed))

    def _send(self, sid: str, msg: dict[str, Any]) -> None:
        conn = self.conns.get(sid)
        if conn is None or conn.close_code is not None:
            return
        try:
            conn.send(dumps(msg))
        except (EncodeError, ValueError):
            log.error("cannot encode a %s for %s", msg.get("type"), sid, exc_info=True)

    def _deliver(self, out: VoiceOut) -> None:
        for send in out.sends:
            if send.janus is not None and self.janus is not None:
                self._spawn(self._janus_welcome(send))
            elif send.to is not None:
                self.relayed += send.msg.get("type") == "voice.signal"
                self._send(send.to, send.msg)
            else:
                text = dumps(send.msg)
                for sid, conn in list(self.conns.items()):
                    if sid != send.exclude and conn.close_code is None:
                        conn.send(text)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _janus_welcome(self, send: VoiceSend) -> None:
        assert self.janus is not None
        assert send.to is not None
        assert send.janus is not None
        sid = send.to
        peer = self.room.peers.get(sid)
        if peer is None:
            return
        try:
            creds = await self.janus.credentials(self.room_id, sid, feed=peer.feed,
                                                 publish=bool(send.janus.get("publish")))
        except JanusError as exc:
            log.warning("janus credentials for %s failed: %s", sid, exc)
            self._send(sid, {"type": "voice.error", "code": "sfu_unavailable",
                             "reason": "the voice server (Janus) is unreachable"})
            return
        if sid in self.room.peers:  # still in voice
            self._send(sid, {**send.msg, "janus": creds})

    async def _janus_leave(self, session_id: str, removed: bool) -> None:
        assert self.janus is not None
        try:
            await self.janus.leave(self.room_id, session_id,
                                   left_voice_empty=not self.room.peers)
            if removed and self.room.peers and await self.janus.rotate(self.room_id):
                # cut every Janus subscription of the removed member: new VideoRoom, new pin
                for sid, peer in list(self.room.peers.items()):
                    await self._janus_welcome(VoiceSend(
                        {**self.room.welcome(peer, refresh=True), "rotated": True}, to=sid,
                        janus={"publish": peer.can_speak}))
        except JanusError as exc:
            log.warning("janus leave of %s failed: %s", session_id, exc)

    async def close(self) -> None:
        """Wait for pending Janus calls (room shutdown)."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
