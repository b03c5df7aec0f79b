"""The websocket close codes of the protocol (docs/protocol.md "Errors and close codes").

One table: the server shells close with these names, never with bare numbers, and the web
client's constants and the published schema are generated from it.
"""

from __future__ import annotations

from enum import IntEnum


class Close(IntEnum):
    """Close codes the server sends (and 1008, refused at the upgrade: HTTP 403)."""

    NORMAL = 1000
    GOING_AWAY = 1001
    POLICY = 1008
    TOO_BIG = 1009
    INTERNAL = 1011
    PROTOCOL = 4400
    CREDENTIALS = 4401
    NO_ROOM = 4404
    TIMEOUT = 4408
    SESSIONS = 4409
    SLOW = 4413
    VERSION = 4426
    RATE = 4429


#: What each close code means (the documented table; also in the generated schema).
CLOSE_MEANINGS: dict[Close, str] = {
    Close.NORMAL: "normal close",
    Close.GOING_AWAY: "server shutting down (reconnect later); uvicorn itself sends 1012 "
                      "(service restart) to open sockets on SIGTERM: treat both alike",
    Close.POLICY: "refused before accept (bad token, Origin, or not a member): the client "
                  "sees HTTP 403",
    Close.TOO_BIG: "message too big",
    Close.INTERNAL: "the room's store failed, or the server could not encode a message for "
                    "this connection (a bug, logged; R17); nothing unacknowledged was "
                    "committed: reconnect and resend",
    Close.PROTOCOL: "protocol violation (no hello, repeated malformed input)",
    Close.CREDENTIALS: "credentials expired or revoked during the session, or the member's "
                       "role changed (re-checked every auth_recheck_s); reconnect",
    Close.NO_ROOM: "no longer sent: a missing room is refused at the upgrade like another "
                   "project's (R2)",
    Close.TIMEOUT: "heartbeat / idle timeout",
    Close.SESSIONS: "too many sessions of this member (max_sessions_per_member, R3)",
    Close.SLOW: "client too slow for durable ops (send queue over max_send_queue); reconnect "
                "with last_seq",
    Close.VERSION: "protocol version not supported",
    Close.RATE: "rate limit exceeded",
}

#: Close codes after which reconnecting cannot help: a client stops and says why.
FATAL: dict[Close, str] = {
    Close.CREDENTIALS: "credentials expired or revoked",
    Close.NO_ROOM: "room does not exist",
    Close.SESSIONS: "too many sessions for this member",
    Close.VERSION: "protocol version not supported",
}
