"""The pure voice signalling rules (docs/voice.md, protocol R25-R28)."""

from __future__ import annotations

import pytest

from vrcollab.errors import ProtocolError
from vrcollab.sync.codec import decode_client
from vrcollab.voice.signal import (
    VOICE_BURST,
    VoiceHostMute,
    VoiceJoin,
    VoiceLeave,
    VoiceMute,
    VoicePolicy,
    VoiceRoom,
    VoiceSignal,
    decode_voice,
    sends_audio,
)

OFFER_SENDRECV = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\n"
                  "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n")
OFFER_RECVONLY = OFFER_SENDRECV.replace("a=sendrecv", "a=recvonly")
OFFER_NODIR = OFFER_SENDRECV.replace("a=sendrecv\r\n", "")


def _types(out: object) -> list[tuple[str | None, str]]:
    return [(s.to, s.msg["type"]) for s in out.sends]  # type: ignore[attr-defined]


def test_decode_through_the_codec_and_refusals() -> None:
    assert decode_client('{"type":"voice.join","muted":true}') == VoiceJoin(True)
    assert decode_client('{"type":"voice.leave"}') == VoiceLeave()
    sig = decode_client('{"type":"voice.signal","to":"s-2","kind":"candidate",'
                        '"candidate":{"candidate":"candidate:1 1 udp 1 127.0.0.1 5000 typ host",'
                        '"sdpMid":"0","sdpMLineIndex":0}}')
    assert isinstance(sig, VoiceSignal)
    assert sig.candidate is not None
    for bad, code in [
        ('{"type":"voice.join","muted":1}', "bad_message"),
        ('{"type":"voice.join","extra":1}', "bad_message"),
        ('{"type":"voice.signal","to":"s","kind":"offer","sdp":"nope"}', "bad_message"),
        ('{"type":"voice.signal","to":"s","kind":"bye"}', "bad_message"),
        ('{"type":"voice.signal","to":"","kind":"candidate","candidate":null}', "bad_message"),
        ('{"type":"voice.shout"}', "unknown_type"),
    ]:
        with pytest.raises(ProtocolError) as info:
            decode_client(bad)
        assert info.value.code == code, bad
    with pytest.raises(ProtocolError) as info:
        decode_voice({"type": "voice.signal", "to": "s", "kind": "offer",
                      "sdp": "v=0" + "a" * 20_000})
    assert info.value.code == "too_large"


def test_sends_audio_reads_the_audio_direction() -> None:
    assert sends_audio(OFFER_SENDRECV)
    assert sends_audio(OFFER_NODIR)  # no attribute: sendrecv
    assert not sends_audio(OFFER_RECVONLY)
    assert not sends_audio(OFFER_SENDRECV.replace("m=audio 9", "m=audio 0"))  # rejected


def test_join_relay_only_to_the_named_peer_and_leave() -> None:
    room = VoiceRoom(VoicePolicy())
    out = room.handle("s1", "u1", "owner", VoiceJoin(False), 0.0)
    assert _types(out) == [("s1", "voice.welcome"), (None, "voice.joined")]
    assert out.sends[0].msg["peers"] == []
    out = room.handle("s2", "u2", "reviewer", VoiceJoin(False), 0.0)
    assert [p["session_id"] for p in out.sends[0].msg["peers"]] == ["s1"]
    out = room.handle("s2", "u2", "reviewer", VoiceSignal("s1", "offer", OFFER_SENDRECV, None),
                      0.1)
    assert _types(out) == [("s1", "voice.signal")]
    assert out.sends[0].msg["from"] == "s2"
    # a session that is not in voice (or not in the room) gets nothing relayed
    out = room.handle("s2", "u2", "reviewer", VoiceSignal("s9", "offer", OFFER_SENDRECV, None),
                      0.2)
    assert out.sends[0].msg["code"] == "no_such_peer"
    out = room.handle("s3", "u3", "reviewer", VoiceSignal("s1", "offer", OFFER_SENDRECV, None),
                      0.2)
    assert out.sends[0].msg["code"] == "not_in_voice"
    out = room.leave("s1")
    assert _types(out) == [(None, "voice.left")]
    assert out.left == "s1"
    assert room.leave("s1").sends == []


def test_viewer_listens_unless_the_project_lets_viewers_speak() -> None:
    room = VoiceRoom(VoicePolicy())
    room.handle("s1", "u1", "owner", VoiceJoin(False), 0.0)
    out = room.handle("sv", "uv", "viewer", VoiceJoin(False), 0.0)
    assert out.sends[0].msg == {"type": "voice.error", "code": "publish_forbidden",
                                "reason": out.sends[0].msg["reason"]}
    welcome = out.sends[1].msg
    assert welcome["can_speak"] is False
    assert welcome["muted"] is True
    out = room.handle("sv", "uv", "viewer", VoiceMute(False), 0.1)
    assert out.sends[0].msg["code"] == "publish_forbidden"
    out = room.handle("sv", "uv", "viewer", VoiceSignal("s1", "offer", OFFER_SENDRECV, None), 0.2)
    assert out.sends[0].msg["code"] == "publish_forbidden"
    out = room.handle("sv", "uv", "viewer", VoiceSignal("s1", "offer", OFFER_RECVONLY, None), 0.2)
    assert _types(out) == [("s1", "voice.signal")]
    open_room = VoiceRoom(VoicePolicy(viewers_may_speak=True))
    out = open_room.handle("sv", "uv", "viewer", VoiceJoin(False), 0.0)
    assert out.sends[0].msg["can_speak"] is True
    assert out.sends[0].msg["muted"] is False


def test_project_setting_change_rejoins_viewers_with_the_new_right() -> None:
    room = VoiceRoom(VoicePolicy())
    room.handle("s1", "u1", "owner", VoiceJoin(False), 0.0)
    room.handle("sr", "ur", "reviewer", VoiceJoin(False), 0.0)
    room.handle("sv", "uv", "viewer", VoiceJoin(False), 0.0)
    assert room.set_viewers_may_speak(False, 1.0).sends == []  # no change: nothing happens
    out = room.set_viewers_may_speak(True, 1.0)
    # only the viewer is joined again: the others see it leave and join, it gets a welcome
    assert _types(out) == [(None, "voice.left"), ("sv", "voice.welcome"), (None, "voice.joined")]
    assert out.sends[0].exclude == "sv"
    welcome = out.sends[1].msg
    assert welcome["can_speak"] is True
    assert welcome["muted"] is True  # joined again muted: nobody gets a hot microphone
    assert out.sends[2].msg["peer"]["can_speak"] is True
    out = room.handle("sv", "uv", "viewer", VoiceMute(False), 1.1)
    assert _types(out) == [(None, "voice.muted")]
    out = room.handle("sv", "uv", "viewer", VoiceSignal("s1", "offer", OFFER_SENDRECV, None), 1.2)
    assert _types(out) == [("s1", "voice.signal")]
    # turned off again: refused at once, whatever the viewer's client does
    out = room.set_viewers_may_speak(False, 2.0)
    assert out.sends[1].msg["can_speak"] is False
    assert room.peers["sv"].muted is True
    out = room.handle("sv", "uv", "viewer", VoiceMute(False), 2.1)
    assert out.sends[0].msg["code"] == "publish_forbidden"
    out = room.handle("sv", "uv", "viewer", VoiceSignal("s1", "offer", OFFER_SENDRECV, None), 2.2)
    assert out.sends[0].msg["code"] == "publish_forbidden"
    assert {s: p.can_speak for s, p in room.peers.items()} == {"s1": True, "sr": True,
                                                               "sv": False}


def test_host_mute_needs_editor_and_mute_all() -> None:
    room = VoiceRoom(VoicePolicy())
    for sid, role in (("s1", "owner"), ("s2", "reviewer"), ("s3", "editor")):
        room.handle(sid, f"u{sid}", role, VoiceJoin(False), 0.0)
    out = room.handle("s2", "us2", "reviewer", VoiceHostMute("s1"), 0.1)
    assert out.sends[0].msg["code"] == "forbidden"
    assert not room.peers["s1"].muted
    out = room.handle("s3", "us3", "editor", VoiceHostMute("*"), 0.1)
    assert sorted(s.msg["session_id"] for s in out.sends) == ["s1", "s2"]
    assert all(s.msg["by"] == "s3" for s in out.sends)
    assert room.peers["s1"].muted
    assert room.peers["s2"].muted
    assert not room.peers["s3"].muted


def test_rate_limit_and_mesh_cap() -> None:
    room = VoiceRoom(VoicePolicy(max_mesh_peers=2))
    room.handle("s1", "u1", "owner", VoiceJoin(False), 0.0)
    room.handle("s2", "u2", "owner", VoiceJoin(False), 0.0)
    out = room.handle("s3", "u3", "owner", VoiceJoin(False), 0.0)
    assert out.sends[0].msg["code"] == "voice_full"
    assert "s3" not in room.peers
    codes = [room.handle("s1", "u1", "owner", VoiceSignal("s2", "candidate", None, None),
                         1.0).sends[0].msg.get("code") for _ in range(VOICE_BURST + 5)]
    assert codes[:VOICE_BURST] == [None] * VOICE_BURST
    assert codes[-1] == "rate_limited"
