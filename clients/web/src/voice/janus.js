// Janus SFU transport (VideoRoom, audio only; docs/voice.md). The vrcollab server hands us a
// signed Janus token, the VideoRoom id and pin, our feed id and, when we may speak, a publish
// token (voice.welcome.janus). We talk to Janus's HTTP API directly (long poll for events): one
// handle publishes our microphone, one handle per remote speaker subscribes to that feed.
// Media goes browser <-> Janus only.

const PLUGIN = 'janus.plugin.videoroom';

function tx() {
  return Math.random().toString(36).slice(2, 12);
}

class JanusSession {
  constructor(url, token) {
    this.url = url;
    this.token = token;
    this.id = null;
    this.handlers = new Map(); // handle id -> fn(event)
    this.waiting = new Map(); // transaction -> {resolve, reject}
    this.closed = false;
  }

  async _post(path, body) {
    const res = await fetch(this.url + path, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...body, token: this.token, transaction: body.transaction ?? tx() }),
    });
    const out = await res.json();
    if (out.janus === 'error') throw new Error(`janus: ${out.error?.reason ?? 'error'}`);
    return out;
  }

  async create() {
    this.id = (await this._post('', { janus: 'create' })).data.id;
    this._poll();
    this._keepalive = setInterval(() => {
      this._post(`/${this.id}`, { janus: 'keepalive' }).catch(() => {});
    }, 25000);
  }

  async _poll() {
    while (!this.closed) {
      let events;
      try {
        const res = await fetch(`${this.url}/${this.id}?maxev=10&token=${encodeURIComponent(this.token)}&rid=${Date.now()}`);
        events = await res.json();
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      for (const ev of Array.isArray(events) ? events : [events]) this._dispatch(ev);
    }
  }

  _dispatch(ev) {
    if (!ev || ev.janus === 'keepalive') return;
    const w = ev.transaction && this.waiting.get(ev.transaction);
    if (w && ev.janus !== 'ack') {
      this.waiting.delete(ev.transaction);
      const data = ev.plugindata?.data ?? {};
      if (ev.janus === 'error' || data.error_code) w.reject(new Error(data.error ?? ev.error?.reason ?? 'janus error'));
      else w.resolve(ev);
      return;
    }
    const fn = this.handlers.get(ev.sender);
    if (!fn) return;
    if (ev.janus === 'trickle') { // Janus's own candidates (full trickle)
      const pc = fn.pc?.();
      const c = ev.candidate;
      if (pc) pc.addIceCandidate(!c || c.completed ? null : c).catch(() => {});
      return;
    }
    fn(ev);
  }

  /** A plugin handle; `onEvent.pc` (optional) names the PeerConnection Janus trickles to. */
  async attach(onEvent) {
    const id = (await this._post(`/${this.id}`, { janus: 'attach', plugin: PLUGIN })).data.id;
    this.handlers.set(id, onEvent);
    return id;
  }

  /** A plugin message; resolves with the event that answers it (async plugin requests). */
  message(handle, body, jsep = null) {
    const t = tx();
    return new Promise((resolve, reject) => {
      this.waiting.set(t, { resolve, reject });
      const msg = { janus: 'message', body, transaction: t };
      if (jsep) msg.jsep = jsep;
      this._post(`/${this.id}/${handle}`, msg).then((out) => {
        if (out.janus === 'success') { // synchronous plugin answer
          this.waiting.delete(t);
          const data = out.plugindata?.data ?? {};
          if (data.error_code) reject(new Error(data.error));
          else resolve(out);
        }
      }, (err) => {
        this.waiting.delete(t);
        reject(err);
      });
    });
  }

  detach(handle) {
    this.handlers.delete(handle);
    return this._post(`/${this.id}/${handle}`, { janus: 'detach' }).catch(() => {});
  }

  destroy() {
    this.closed = true;
    clearInterval(this._keepalive);
    for (const w of this.waiting.values()) w.reject(new Error('janus session closed'));
    this.waiting.clear();
    if (this.id) this._post(`/${this.id}`, { janus: 'destroy' }).catch(() => {});
  }
}

async function gathered(pc, ms = 3000) {
  if (pc.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}

export class JanusTransport {
  constructor({ onStream, onGone, onFailed, iceServers = [], RTC = globalThis.RTCPeerConnection }) {
    this.onStream = onStream;
    this.onGone = onGone;
    this.onFailed = onFailed ?? (() => {});
    this.iceServers = iceServers;
    this.RTC = RTC;
    this.session = null;
    this.creds = null;
    this.pub = null; // {handle, pc}
    this.subs = new Map(); // sid -> {handle, pc, feed, timer}
    this.track = null;
    this.canSpeak = false;
    this.muted = true;
    this.peers = new Map(); // sid -> peer (feed, can_speak)
  }

  setLocal(track, canSpeak, muted) {
    this.track = track;
    this.canSpeak = canSpeak;
    this.setMuted(muted);
  }

  setMuted(muted) {
    this.muted = muted;
    const sender = this.pub?.pc.getSenders()[0];
    const want = muted ? null : this.track;
    if (sender && sender.track !== want) sender.replaceTrack(want).catch(() => {});
  }

  /** Connect with the credentials of a voice.welcome (again after a rotation or refresh). */
  async start(creds, peers) {
    const fresh = !this.session || !this.creds || creds.room !== this.creds.room || creds.pin !== this.creds.pin;
    this.creds = creds;
    if (!fresh) {
      this.session.token = creds.token; // a refresh: same room, newer token
      return;
    }
    this.closeAll();
    this.session = new JanusSession(creds.url, creds.token);
    await this.session.create();
    if (this.canSpeak && creds.publish_token) await this._publish();
    for (const p of peers) this.addPeer(p);
  }

  async _publish() {
    const s = this.session;
    const onEvent = (ev) => {
      if (ev.janus === 'hangup' || ev.plugindata?.data?.videoroom === 'destroyed') this.onFailed('janus room closed');
    };
    onEvent.pc = () => this.pub?.pc ?? null;
    const handle = await s.attach(onEvent);
    const c = this.creds;
    await s.message(handle, { request: 'join', ptype: 'publisher', room: c.room, pin: c.pin, id: c.feed_id, display: c.display, token: c.publish_token });
    const pc = new this.RTC({ iceServers: this.iceServers });
    const tr = pc.addTransceiver('audio', { direction: 'sendonly' });
    this.pub = { handle, pc };
    if (!this.muted && this.track) await tr.sender.replaceTrack(this.track);
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const ev = await s.message(handle, { request: 'publish', audio: true, video: false }, { type: 'offer', sdp: pc.localDescription.sdp });
    if (ev.jsep) await pc.setRemoteDescription(ev.jsep);
  }

  /** Someone (else) is in voice: subscribe to their feed when they speak. */
  addPeer(peer) {
    this.peers.set(peer.session_id, peer);
    if (peer.can_speak && peer.feed && !this.subs.has(peer.session_id)) this._subscribe(peer.session_id, 0);
  }

  async _subscribe(sid, attempt) {
    const peer = this.peers.get(sid);
    if (!peer || !this.session || this.session.closed) return;
    const s = this.session;
    const sub = { handle: null, pc: null, feed: peer.feed, timer: null };
    this.subs.set(sid, sub);
    try {
      const onEvent = (ev) => {
        if (this.subs.get(sid) !== sub) return; // an older subscription's late event
        if (ev.janus === 'hangup' || ev.plugindata?.data?.videoroom === 'destroyed') this._retry(sid, 1);
      };
      onEvent.pc = () => sub.pc;
      sub.handle = await s.attach(onEvent);
      const ev = await s.message(sub.handle, { request: 'join', ptype: 'subscriber', room: this.creds.room, pin: this.creds.pin, streams: [{ feed: peer.feed }] });
      if (this.subs.get(sid) !== sub) return;
      const pc = new this.RTC({ iceServers: this.iceServers });
      sub.pc = pc;
      pc.ontrack = (e) => this.onStream(sid, e.streams[0] ?? new MediaStream([e.track]));
      await pc.setRemoteDescription(ev.jsep);
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc);
      await s.message(sub.handle, { request: 'start' }, { type: 'answer', sdp: pc.localDescription.sdp });
    } catch {
      // the feed is not published yet (or the room was rotated): try again shortly
      if (this.subs.get(sid) === sub) this._retry(sid, attempt + 1);
    }
  }

  _retry(sid, attempt) {
    const sub = this.subs.get(sid);
    this._dropSub(sid, false);
    if (!this.peers.has(sid)) return;
    const placeholder = { handle: null, pc: null, timer: null };
    this.subs.set(sid, placeholder);
    placeholder.timer = setTimeout(() => {
      if (this.subs.get(sid) === placeholder) this.subs.delete(sid);
      this._subscribe(sid, attempt);
    }, Math.min(5000, 500 * 2 ** Math.min(attempt, 3)));
    return sub;
  }

  _dropSub(sid, gone = true) {
    const sub = this.subs.get(sid);
    if (!sub) return;
    this.subs.delete(sid);
    clearTimeout(sub.timer);
    if (sub.pc) {
      sub.pc.ontrack = null;
      sub.pc.close();
    }
    if (sub.handle && this.session) this.session.detach(sub.handle);
    if (gone) this.onGone(sid);
  }

  /** A peer left voice: stop hearing it now. */
  close(sid) {
    this.peers.delete(sid);
    this._dropSub(sid, true);
  }

  closeAll() {
    for (const sid of [...this.subs.keys()]) this._dropSub(sid, true);
    if (this.pub) {
      this.pub.pc.close();
      this.pub = null;
    }
    if (this.session) this.session.destroy();
    this.session = null;
  }

  connections() {
    const out = new Map();
    for (const [sid, sub] of this.subs) if (sub.pc) out.set(sid, [sub.pc]);
    if (this.pub) out.set('publisher', [this.pub.pc]);
    return out;
  }

  describe() {
    return [...this.subs].map(([sid, sub]) => ({ session_id: sid, ice: sub.pc?.iceConnectionState ?? 'new', feed: sub.feed ?? null }));
  }
}
