// Voice in a room: one client API over two transports (mesh.js, janus.js; docs/voice.md).
// The microphone is asked for only when the user joins voice (and only when they may speak), with
// echo cancellation, noise suppression and auto gain. Every remote voice plays through its own
// gain (per-person volume) and PannerNode (HRTF, inverse distance) placed at that person's avatar
// head from the room's poses; meeting mode bypasses the panners.

import { MeshTransport } from './mesh.js';
import { JanusTransport } from './janus.js';

export const MIC_CONSTRAINTS = Object.freeze({ echoCancellation: true, noiseSuppression: true, autoGainControl: true });
const SPEAKING_RMS = 0.01;
const HANDLE_WAIT_MS = 15000; // longest one voice message may hold up the next ones

function vec(p) {
  return { x: p[0], y: p[1], z: p[2] };
}

/** Rotate (x,y,z) by quaternion q = [x,y,z,w]. */
export function rotate(q, v) {
  const [qx, qy, qz, qw] = q;
  const [x, y, z] = v;
  const ix = qw * x + qy * z - qz * y;
  const iy = qw * y + qz * x - qx * z;
  const iz = qw * z + qx * y - qy * x;
  const iw = -qx * x - qy * y - qz * z;
  return [
    ix * qw + iw * -qx + iy * -qz - iz * -qy,
    iy * qw + iw * -qy + iz * -qx - ix * -qz,
    iz * qw + iw * -qz + ix * -qy - iy * -qx,
  ];
}

export class VoiceClient {
  /**
   * @param {object} o
   * @param {object} o.conn               the room Connection (state/connection.js)
   * @param {() => ({p:number[],q:number[]}|null)} o.localHead   our head pose (model space)
   * @param {() => Map<string, object>} o.remotePoses             interpolated poses by session
   * @param {number} [o.refDistance]      PannerNode refDistance (metres; follows avatar scale)
   */
  constructor({ conn, localHead, remotePoses, refDistance = 1 }) {
    this.conn = conn;
    this.localHead = localHead;
    this.remotePoses = remotePoses;
    this.refDistance = refDistance;
    this.wanted = false; // the user joined voice (kept across reconnects)
    this.state = 'off'; // off | joining | on
    this.mode = null;
    this.canSpeak = false;
    this.muted = false;
    this.meeting = false;
    this.mic = null;
    this.ctx = null;
    this.transport = null;
    this.peers = new Map(); // sid -> {session_id, user_id, muted, can_speak, feed}
    this.audio = new Map(); // sid -> audio graph of a remote voice
    this.volumes = new Map(); // user_id -> 0..2 (kept across reconnects)
    this.lastError = null;
    this.localLevel = 0;
    this.joins = 0;
    this._handlers = new Set();
    this._timer = null;
    conn.on('voice', (m) => this._onMessage(m));
    conn.on('welcome', () => { if (this.wanted) this._rejoin(); });
    // Offline: the server ended our voice session; rejoin on the next welcome. Closed for good
    // (removed from the project, 4401): voice ends. `keepOnDrop` lets tests play a client that
    // ignores this, to show the server cuts it off anyway (Janus room rotation).
    this.keepOnDrop = false;
    conn.on('state', ({ state }) => {
      if (!this.wanted || this.keepOnDrop) return;
      if (state === 'offline') this._drop();
      else if (state === 'closed') this.leave();
    });
  }

  onChange(fn) {
    this._handlers.add(fn);
    return () => this._handlers.delete(fn);
  }

  _changed() {
    for (const fn of this._handlers) {
      try {
        fn(this);
      } catch (err) {
        console.error('vrcollab voice: change handler failed', err);
      }
    }
  }

  /** Join the room's voice (asks for the microphone once we know we may speak). */
  async join({ muted = false } = {}) {
    this.wanted = true;
    this.muted = muted;
    this.ctx ??= new AudioContext();
    if (this.ctx.state === 'suspended') await this.ctx.resume().catch(() => {});
    this._rejoin();
    this._timer ??= setInterval(() => this.update(), 50);
  }

  _rejoin() {
    this._drop();
    this.state = 'joining';
    this.conn.sendVoice({ type: 'voice.join', muted: this.muted });
    this._changed();
  }

  /** Tear down every connection (websocket lost: the server ended our voice session). */
  _drop() {
    this.transport?.closeAll();
    this.transport = null;
    for (const sid of [...this.audio.keys()]) this._removeAudio(sid);
    this.peers.clear();
    if (this.state !== 'off') this.state = 'joining';
  }

  leave() {
    this.wanted = false;
    this.conn.sendVoice({ type: 'voice.leave' });
    this._drop();
    this.state = 'off';
    if (this.mic) for (const t of this.mic.getTracks()) t.stop();
    this.mic = null;
    clearInterval(this._timer);
    this._timer = null;
    clearInterval(this._refresh);
    this._changed();
  }

  setMuted(muted) {
    if (!muted && !this.canSpeak && this.state === 'on') {
      this.lastError = 'publish_forbidden: viewers may not speak in this project';
      this.conn.sendVoice({ type: 'voice.mute', muted: false }); // the server answers with the typed error
      this._changed();
      return;
    }
    this.muted = muted;
    this.transport?.setMuted(muted);
    if (this.state === 'on') this.conn.sendVoice({ type: 'voice.mute', muted });
    this._changed();
  }

  toggleMute() {
    this.setMuted(!this.muted);
  }

  /** Host (owner/editor): mute one session, or '*' for everyone else. */
  hostMute(sid) {
    this.conn.sendVoice({ type: 'voice.host_mute', session_id: sid });
  }

  setVolume(userId, v) {
    this.volumes.set(userId, Math.max(0, Math.min(2, v)));
    for (const [sid, a] of this.audio) {
      if (this.peers.get(sid)?.user_id === userId) a.gain.gain.value = this.volumes.get(userId);
    }
    this._changed();
  }

  setMeetingMode(on) {
    this.meeting = Boolean(on);
    for (const a of this.audio.values()) this._route(a);
    this._changed();
  }

  // ---- messages -------------------------------------------------------------------------

  /** Voice messages are handled one after another, in the order they came: a welcome waits
   *  for the microphone, and an offer or a voice.joined that arrives meanwhile (someone joining
   *  right after us) must find the new transport and peer list, not be dropped or cleared. */
  _onMessage(m) {
    const handled = () => {
      const work = this._handle(m).catch((err) => {
        this.lastError = String(err.message ?? err);
        console.warn('vrcollab voice:', err);
        this._changed();
      });
      // a step that never settles (an SFU that stops answering) must not block the rest
      return Promise.race([work, new Promise((r) => setTimeout(r, HANDLE_WAIT_MS))]);
    };
    this._inbox = (this._inbox ?? Promise.resolve()).then(handled);
    return this._inbox;
  }

  async _handle(m) {
    switch (m.type) {
      case 'voice.welcome':
        if (!this.wanted) return;
        await this._welcome(m);
        break;
      case 'voice.joined':
        this.peers.set(m.peer.session_id, m.peer);
        if (this.transport instanceof JanusTransport) this.transport.addPeer(m.peer);
        this._changed();
        break;
      case 'voice.left':
        this.peers.delete(m.session_id);
        this.transport?.close(m.session_id);
        this._removeAudio(m.session_id);
        this._changed();
        break;
      case 'voice.signal':
        if (this.transport instanceof MeshTransport) await this.transport.signal(m);
        break;
      case 'voice.muted': {
        const self = m.session_id === this.conn.sessionId;
        if (self) {
          if (m.muted && !this.muted) {
            this.muted = true;
            this.transport?.setMuted(true);
          }
        } else if (this.peers.has(m.session_id)) {
          this.peers.get(m.session_id).muted = m.muted;
        }
        this._changed();
        break;
      }
      case 'voice.error':
        this.lastError = `${m.code}: ${m.reason}`;
        if (m.code === 'voice_full') this.leave();
        this._changed();
        break;
      default:
        break;
    }
  }

  async _welcome(m) {
    this.mode = m.mode;
    // the project's "viewers may speak" changed: the server joined us again with the new right
    const rightChanged = this.state === 'on' && this.canSpeak !== Boolean(m.can_speak);
    this.canSpeak = Boolean(m.can_speak);
    this.muted = Boolean(m.muted) || (!this.canSpeak && true);
    if (this.canSpeak && !this.mic) {
      this.mic = await navigator.mediaDevices.getUserMedia({ audio: { ...MIC_CONSTRAINTS }, video: false });
      this._micLevel();
    }
    const track = this.mic?.getAudioTracks()[0] ?? null;
    const iceServers = m.ice_servers ?? [];
    const handlers = { onStream: (sid, s) => this._addAudio(sid, s), onGone: (sid) => this._removeAudio(sid), iceServers };
    if (m.mode === 'janus') {
      if (!m.janus) throw new Error('no Janus credentials');
      if (!(this.transport instanceof JanusTransport) || m.rotated || rightChanged) {
        this.transport?.closeAll();
        this.transport = new JanusTransport({ ...handlers, onFailed: () => {} });
      }
      this.transport.setLocal(track, this.canSpeak, this.muted);
      for (const p of m.peers ?? []) this.peers.set(p.session_id, p);
      await this.transport.start(m.janus, m.peers ?? []);
      clearInterval(this._refresh);
      const every = Math.max(10, (m.janus.expires_in ?? 300) / 2) * 1000;
      this._refresh = setInterval(() => this.conn.sendVoice({ type: 'voice.refresh' }), every);
    } else {
      this.transport?.closeAll();
      this.transport = new MeshTransport({ ...handlers, send: (msg) => this.conn.sendVoice(msg) });
      this.transport.setLocal(track, this.canSpeak, this.muted);
      this.peers.clear();
      for (const p of m.peers ?? []) {
        this.peers.set(p.session_id, p);
        this.transport.call(p.session_id).catch((err) => { this.lastError = String(err); });
      }
    }
    if (!m.refresh) this.joins += 1;
    this.state = 'on';
    this._changed();
  }

  // ---- audio graph ----------------------------------------------------------------------

  _micLevel() {
    if (!this.ctx || !this.mic) return;
    const src = this.ctx.createMediaStreamSource(this.mic);
    this.micAnalyser = this.ctx.createAnalyser();
    this.micAnalyser.fftSize = 512;
    src.connect(this.micAnalyser);
  }

  _addAudio(sid, stream) {
    this._removeAudio(sid);
    if (!this.ctx) return;
    // Chrome pulls remote WebRTC audio (and measures its level) only while an element plays the
    // stream; it plays at volume 0 so that only the Web Audio graph below is heard.
    const el = new Audio();
    el.volume = 0;
    el.srcObject = stream;
    el.play().catch(() => {});
    const source = this.ctx.createMediaStreamSource(stream);
    const gain = this.ctx.createGain();
    const uid = this.peers.get(sid)?.user_id;
    gain.gain.value = this.volumes.get(uid) ?? 1;
    const panner = new PannerNode(this.ctx, {
      panningModel: 'HRTF', distanceModel: 'inverse', refDistance: this.refDistance, rolloffFactor: 1,
      maxDistance: 10000,
    });
    const analyser = this.ctx.createAnalyser();
    analyser.fftSize = 512;
    source.connect(analyser);
    source.connect(gain);
    const a = { sid, stream, el, source, gain, panner, analyser, level: 0, routed: null, head: null };
    this.audio.set(sid, a);
    this._route(a);
    this._changed();
  }

  _route(a) {
    const want = this.meeting ? 'direct' : 'spatial';
    if (a.routed === want) return;
    a.gain.disconnect();
    a.panner.disconnect();
    if (want === 'spatial') {
      a.gain.connect(a.panner);
      a.panner.connect(this.ctx.destination);
    } else {
      a.gain.connect(this.ctx.destination);
    }
    a.routed = want;
  }

  _removeAudio(sid) {
    const a = this.audio.get(sid);
    if (!a) return;
    this.audio.delete(sid);
    a.source.disconnect();
    a.gain.disconnect();
    a.panner.disconnect();
    a.el.srcObject = null;
    this._changed();
  }

  _rms(analyser) {
    const buf = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(buf);
    let s = 0;
    for (const x of buf) s += x * x;
    return Math.sqrt(s / buf.length);
  }

  /** Panners to avatar heads, listener to our head, speaking levels (20 Hz). */
  update() {
    if (!this.ctx) return;
    const t = this.ctx.currentTime;
    const me = this.localHead();
    const L = this.ctx.listener;
    if (me) {
      const f = rotate(me.q, [0, 0, -1]);
      const u = rotate(me.q, [0, 1, 0]);
      L.positionX.setValueAtTime(me.p[0], t);
      L.positionY.setValueAtTime(me.p[1], t);
      L.positionZ.setValueAtTime(me.p[2], t);
      L.forwardX.setValueAtTime(f[0], t);
      L.forwardY.setValueAtTime(f[1], t);
      L.forwardZ.setValueAtTime(f[2], t);
      L.upX.setValueAtTime(u[0], t);
      L.upY.setValueAtTime(u[1], t);
      L.upZ.setValueAtTime(u[2], t);
    }
    const poses = this.remotePoses();
    let changed = false;
    for (const [sid, a] of this.audio) {
      const head = poses.get(sid)?.head;
      if (head) {
        const p = vec(head.p);
        a.panner.positionX.setValueAtTime(p.x, t);
        a.panner.positionY.setValueAtTime(p.y, t);
        a.panner.positionZ.setValueAtTime(p.z, t);
        a.head = head.p;
      }
      const level = this._rms(a.analyser);
      const was = a.level > SPEAKING_RMS;
      a.level = level;
      if (was !== level > SPEAKING_RMS) changed = true;
    }
    if (this.micAnalyser) {
      const level = this.muted ? 0 : this._rms(this.micAnalyser);
      if ((this.localLevel > SPEAKING_RMS) !== (level > SPEAKING_RMS)) changed = true;
      this.localLevel = level;
    }
    if (changed) this._changed();
  }

  /** Whether a session (ours with null) is speaking now. */
  speaking(sid = null) {
    if (sid === null || sid === this.conn.sessionId) return this.state === 'on' && !this.muted && this.localLevel > SPEAKING_RMS;
    const a = this.audio.get(sid);
    return Boolean(a && a.level > SPEAKING_RMS && !this.peers.get(sid)?.muted);
  }

  /** inbound-rtp audio stats per remote session (tests, bench). */
  async stats() {
    const out = {};
    if (!this.transport) return out;
    for (const [sid, pcs] of this.transport.connections()) {
      for (const pc of pcs) {
        const report = await pc.getStats();
        for (const r of report.values()) {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') {
            // audio_level: getStats' (0 where headless Chromium has no playout device);
            // decoded_level: RMS of the decoded audio entering our Web Audio graph.
            out[sid] = {
              bytes_received: r.bytesReceived ?? 0, packets_received: r.packetsReceived ?? 0,
              audio_level: r.audioLevel ?? 0, decoded_level: this.audio.get(sid)?.level ?? 0,
              jitter_buffer_delay: r.jitterBufferDelay ?? 0, jitter_buffer_emitted: r.jitterBufferEmittedCount ?? 0,
            };
          }
          if (r.type === 'outbound-rtp' && r.kind === 'audio') {
            out[`${sid}:out`] = { bytes_sent: r.bytesSent ?? 0, packets_sent: r.packetsSent ?? 0 };
          }
        }
      }
    }
    return out;
  }

  describe() {
    return {
      state: this.state, mode: this.mode, can_speak: this.canSpeak, muted: this.muted,
      meeting: this.meeting, mic: Boolean(this.mic), joins: this.joins, last_error: this.lastError,
      speaking: this.speaking(null),
      peers: [...this.peers.values()].map((p) => {
        const a = this.audio.get(p.session_id);
        return {
          ...p, audio: Boolean(a), level: a?.level ?? 0, speaking: this.speaking(p.session_id),
          volume: a ? a.gain.gain.value : (this.volumes.get(p.user_id) ?? 1),
          spatial: a ? a.routed === 'spatial' : null,
          panner: a ? [a.panner.positionX.value, a.panner.positionY.value, a.panner.positionZ.value] : null,
        };
      }),
      links: this.transport?.describe() ?? [],
    };
  }
}
