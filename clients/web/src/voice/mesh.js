// Peer-to-peer mesh transport (docs/voice.md): one RTCPeerConnection per remote person in voice,
// signalled through the room websocket (voice.signal, R26). The newcomer offers to everyone
// already in voice; the others answer. The offerer restarts ICE when a connection fails.
// Muting replaces the sent track with none, so no RTP flows while muted.

const RESTART_AFTER_MS = 2500;

export class MeshTransport {
  /**
   * @param {object} o
   * @param {(msg: object) => void} o.send       sends a voice.* message on the room socket
   * @param {(sid: string, stream: MediaStream) => void} o.onStream  a remote voice arrived
   * @param {(sid: string) => void} o.onGone      a remote voice ended
   * @param {RTCIceServer[]} o.iceServers
   * @param {Function} [o.RTC]                    RTCPeerConnection constructor
   */
  constructor({ send, onStream, onGone, iceServers = [], RTC = globalThis.RTCPeerConnection }) {
    this.send = send;
    this.onStream = onStream;
    this.onGone = onGone;
    this.iceServers = iceServers;
    this.RTC = RTC;
    this.pcs = new Map(); // sid -> {pc, initiator, pending: [], restartTimer, restarts}
    this.track = null;
    this.canSpeak = false;
    this.muted = true;
  }

  /** Our microphone track (null when listening only) and whether we may send it. */
  setLocal(track, canSpeak, muted) {
    this.track = track;
    this.canSpeak = canSpeak;
    this.setMuted(muted);
  }

  setMuted(muted) {
    this.muted = muted;
    for (const p of this.pcs.values()) this._applyTrack(p);
  }

  _applyTrack(p) {
    const tr = p.pc.getTransceivers().find((t) => (t.receiver.track?.kind ?? 'audio') === 'audio');
    if (!tr || !this.canSpeak) return;
    const want = this.muted ? null : this.track;
    if (tr.sender.track !== want) tr.sender.replaceTrack(want).catch(() => {});
  }

  _create(sid, initiator) {
    this.close(sid);
    const pc = new this.RTC({ iceServers: this.iceServers });
    const p = { pc, initiator, pending: [], restartTimer: null, restarts: 0, stream: null };
    this.pcs.set(sid, p);
    pc.onicecandidate = (ev) => {
      this.send({ type: 'voice.signal', to: sid, kind: 'candidate', candidate: ev.candidate ? ev.candidate.toJSON() : null });
    };
    pc.ontrack = (ev) => {
      p.stream = ev.streams[0] ?? new MediaStream([ev.track]);
      this.onStream(sid, p.stream);
    };
    pc.oniceconnectionstatechange = () => this._iceState(sid, p);
    return p;
  }

  _iceState(sid, p) {
    const s = p.pc.iceConnectionState;
    clearTimeout(p.restartTimer);
    p.restartTimer = null;
    if (!p.initiator) return;
    if (s === 'failed') this.restart(sid);
    else if (s === 'disconnected') p.restartTimer = setTimeout(() => this.restart(sid), RESTART_AFTER_MS);
  }

  /** ICE restart towards one peer (the offerer's side; the answerer follows). */
  async restart(sid) {
    const p = this.pcs.get(sid);
    if (!p || !p.initiator || this.pcs.get(sid) !== p) return;
    p.restarts += 1;
    p.pc.restartIce?.();
    await this._offer(sid, p, { iceRestart: true });
  }

  async _offer(sid, p, options = {}) {
    const offer = await p.pc.createOffer(options);
    await p.pc.setLocalDescription(offer);
    this.send({ type: 'voice.signal', to: sid, kind: 'offer', sdp: p.pc.localDescription.sdp });
  }

  /** We are the newcomer: offer to someone already in voice. */
  async call(sid) {
    const p = this._create(sid, true);
    p.pc.addTransceiver('audio', { direction: this.canSpeak ? 'sendrecv' : 'recvonly' });
    this._applyTrack(p);
    await this._offer(sid, p);
  }

  /** A voice.signal from a peer. */
  async signal(msg) {
    const sid = msg.from;
    let p = this.pcs.get(sid);
    if (msg.kind === 'offer') {
      if (!p) p = this._create(sid, false);
      await p.pc.setRemoteDescription({ type: 'offer', sdp: msg.sdp });
      const tr = p.pc.getTransceivers()[0];
      if (tr) tr.direction = this.canSpeak ? 'sendrecv' : 'recvonly';
      this._applyTrack(p);
      const answer = await p.pc.createAnswer();
      await p.pc.setLocalDescription(answer);
      this.send({ type: 'voice.signal', to: sid, kind: 'answer', sdp: p.pc.localDescription.sdp });
      await this._drain(p);
    } else if (msg.kind === 'answer' && p) {
      await p.pc.setRemoteDescription({ type: 'answer', sdp: msg.sdp });
      await this._drain(p);
    } else if (msg.kind === 'candidate' && p) {
      if (!p.pc.remoteDescription) p.pending.push(msg.candidate);
      else await this._addCandidate(p, msg.candidate);
    }
  }

  async _drain(p) {
    const items = p.pending.splice(0);
    for (const c of items) await this._addCandidate(p, c);
  }

  async _addCandidate(p, c) {
    try {
      await p.pc.addIceCandidate(c ?? null);
    } catch {
      // a candidate of an older ICE generation: harmless
    }
  }

  /** A peer left voice: close its connection now (no ghost audio). */
  close(sid) {
    const p = this.pcs.get(sid);
    if (!p) return;
    this.pcs.delete(sid);
    clearTimeout(p.restartTimer);
    p.pc.onicecandidate = p.pc.ontrack = p.pc.oniceconnectionstatechange = null;
    p.pc.close();
    this.onGone(sid);
  }

  closeAll() {
    for (const sid of [...this.pcs.keys()]) this.close(sid);
  }

  /** The RTCPeerConnections by remote session (for stats). */
  connections() {
    return new Map([...this.pcs].map(([sid, p]) => [sid, [p.pc]]));
  }

  describe() {
    return [...this.pcs].map(([sid, p]) => ({
      session_id: sid, ice: p.pc.iceConnectionState, initiator: p.initiator, restarts: p.restarts,
    }));
  }
}
