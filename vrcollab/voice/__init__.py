"""Voice in review rooms (issue 13, docs/voice.md): WebRTC signalling over the room websocket
(:mod:`~vrcollab.voice.signal`, pure), its asyncio shell (:mod:`~vrcollab.voice.service`) and the
Janus SFU's rooms and tokens (:mod:`~vrcollab.voice.janus`). Media never passes through Python."""
